// Alerts from an API that answers newest first whatever sort asks (emulator alertsOrder 'newest-first'), with
// the time budget of a short interval: the alerts raised since the last run come on the first page, then the
// pages already sent, then the backlog not read yet. The budget must count from the backlog's first new alert,
// and still bound a run whose sent and new pages alternate.
import { afterEach, describe, expect, it } from 'vitest';
import { emulatorClient } from '../helpers/central.js';
import type { TenantApi } from '../../src/central/types.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { collectAlerts } from '../../src/collect/alerts.js';
import type { AlertCheckpoint } from '../../src/collect/alert-window.js';
import { runCollection } from '../../src/collect/run.js';
import type { Logger } from '../../src/log.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { MemorySink } from '../collect/memory-sink.js';

const MIN = 60_000;
let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

describe('alerts newest first with the time budget', () => {
  it('a backlog read newest first goes on run after run while new alerts keep coming', async () => {
    emu = await startEmulator({ seed: 7, tenants: 1, alertsPerTenant: 0, alertsMaxPageSize: 100, alertsOrder: 'newest-first' });
    const e = emu;
    const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const client = emulatorClient(e, { retryBaseDelayMs: 1, retryMaxDelayMs: 5, logger, now: () => e.clock.now() });
    try {
      const tenant = e.tenants[0]!.id;
      const t0 = e.clock.now();
      const backlog = e.addAlerts(tenant, 1000, { raisedAt: t0 - 2 * 60 * MIN });
      // Every page read costs 20 s of Sophos's clock: a budget of 60 s reads about three pages.
      const forTenant = client.forTenant.bind(client);
      client.forTenant = (t) => {
        const api = forTenant(t);
        return Object.assign(Object.create(api) as TenantApi, {
          alertPages: (q: Parameters<TenantApi['alertPages']>[0]) => ({
            async *[Symbol.asyncIterator]() {
              for await (const page of api.alertPages(q)) {
                e.clock.advance(20_000);
                yield page;
              }
            },
          }),
        });
      };
      const sink = new MemorySink();
      const store = new MemoryCheckpointStore();
      const cfg = { data: 'alerts' as const, tenants: [], excludeTenants: [], startDays: 1, excludeTypes: [], pageSize: 100, intervalSeconds: 60 };
      let done = false;
      for (let n = 0; n < 15 && !done; n++) {
        const summary = await runCollection({ client, config: cfg, stanza: 'sophos_central://audit', sink, store, logger, now: () => e.clock.now() });
        done = summary.tenants_paused === 0;
        e.clock.advance(MIN);
        // A busy tenant: a new alert between runs.
        e.addAlerts(tenant, 1, { raisedAt: e.clock.now() - 2 * MIN });
      }
      const got = new Set(sink.of('sophos:central:alerts').map((r) => (JSON.parse(r.data) as { id: string }).id));
      expect(backlog.filter((a) => !got.has(a.id))).toHaveLength(0);
      expect(done).toBe(true);
    } finally {
      await client.close();
    }
  });
});

const T = Date.UTC(2025, 0, 10, 12, 0, 0);
const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const alert = (id: string, at: number) => ({ id, raisedAt: new Date(at).toISOString(), severity: 'low' });

describe('alerts out of order, sent and new pages alternating, 60 s budget, 20 s per page', () => {
  it('reads new alerts for about a budget after the first, not for the whole window', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    const mark = T - 60 * MIN;
    // The previous (paused, unordered) run sent the odd pages' alerts; it kept all their IDs.
    const seen: Record<string, number> = {};
    const pages: Array<ReturnType<typeof alert>[]> = [];
    for (let p = 0; p < 20; p++) {
      const at = T - 2 * MIN - p * MIN; // newest first
      const page = [alert(`a${p}-1`, at), alert(`a${p}-2`, at - 1000)];
      if (p % 2 === 1) for (const a of page) seen[a.id] = Date.parse(a.raisedAt);
      pages.push(page);
    }
    await store.save('k', { v: 1, hwm: mark, seen, seenSince: mark - 15 * MIN - 40 * MIN, savedAt: T - MIN } satisfies AlertCheckpoint);
    let handled = 0;
    const api = {
      tenant: { id: 't1', name: 'Tenant one', apiHost: 'https://api-eu01.central.sophos.com', dataRegion: 'eu01', raw: {} },
      async *alertPages() {
        for (let p = 0; p < pages.length; p++) {
          clock.t += 20_000;
          handled++;
          yield { items: pages[p], nextKey: p + 1 < pages.length ? `k${p + 1}` : undefined, serverTime: Math.floor(clock.t / 1000) * 1000 };
        }
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    const result = await collectAlerts(api, { sink, store, key: 'k', stanza: 's', logger: quiet, now: () => clock.t, startDays: 1, stopAt: T + 60_000, pageSize: 2 });
    // A budget of 60 s from the first new alert (page 1) is about three pages, plus the one in hand and a prefetch.
    expect(result.end).toBe('paused');
    expect(handled).toBeLessThanOrEqual(8);
  });
});
