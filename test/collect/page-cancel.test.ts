// A page loop that fails (its sink or checkpoint store refused a page) cancels the page it asked for ahead,
// instead of waiting through that request's retries: a tenant of a failing API would otherwise hold its
// collection slot for minutes after its run had already failed. What such a run reports is what happened:
// the cancelled request counted, the lag only of what was written.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectAlerts } from '../../src/collect/alerts.js';
import { collectEvents } from '../../src/collect/events.js';
import { collectEndpoints } from '../../src/collect/endpoints.js';
import { newCollectResult, type CollectResult } from '../../src/collect/collector.js';
import { runTenant } from '../../src/collect/tenant-run.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { CheckpointError } from '../../src/errors.js';
import type { CentralClient, Tenant, TenantApi } from '../../src/central/types.js';
import type { Logger } from '../../src/log.js';
import { emulatorClient } from '../helpers/central.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { MemorySink } from './memory-sink.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const open: Array<{ emu: Emulator; client: CentralClient }> = [];
afterEach(async () => {
  for (const { emu, client } of open.splice(0)) {
    await client.close();
    await emu.stop();
  }
});

/**
 * One tenant, `faults` added once it is found, and a client whose wait before a retry ends only when cancelled:
 * a loop that waited for such a request would never end.
 */
async function cancellable(faults: (emu: Emulator) => void, latencyMs = 0) {
  const emu = await startEmulator({ seed: 3, tenants: 1, alertsPerTenant: 30, eventsPerTenant: 30, endpointsPerTenant: 30, latencyMs });
  const waits: number[] = [];
  const client = emulatorClient(emu, {
    now: () => emu.clock.now(),
    sleep: (ms, signal) =>
      new Promise<void>((_resolve, reject) => {
        waits.push(ms);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      }),
  });
  open.push({ emu, client });
  let tenant: Tenant | undefined;
  for await (const t of client.tenants()) tenant = t;
  faults(emu);
  return { emu, client, tenant: tenant!, api: client.forTenant(tenant!), waits };
}

/** `work`'s outcome, or 'still waiting after 3 s': a loop that waits for a cancelled request would never end. */
const within3s = <T>(work: Promise<T>): Promise<T | 'still waiting after 3 s'> =>
  Promise.race([work, new Promise<'still waiting after 3 s'>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3000).unref())]);

/** One tenant whose second page of `route` answers 503 to every attempt (without latency; with it, every page is slow). */
const failingSecondPage = (route: string, latencyMs = 0) =>
  cancellable((emu) => {
    if (latencyMs === 0) emu.faults.add({ route, kind: 503, nth: [2, 3, 4, 5, 6, 7, 8, 9, 10] });
  }, latencyMs);

describe('a page loop that fails cancels the page it asked for ahead', () => {
  const opts = (sink: MemorySink, progress = newCollectResult()) => ({ sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger: quiet, pageSize: 10, progress });
  const COLLECTORS = [
    ['alerts', 'alerts', (api: TenantApi, sink: MemorySink, progress?: CollectResult) => collectAlerts(api, { ...opts(sink, progress), startDays: 90 })],
    ['events', 'siem-events', (api: TenantApi, sink: MemorySink, progress?: CollectResult) => collectEvents(api, opts(sink, progress))],
    ['endpoints', 'endpoints', (api: TenantApi, sink: MemorySink, progress?: CollectResult) => collectEndpoints(api, opts(sink, progress))],
  ] as const;

  it.each(COLLECTORS)('%s: the sink failure is reported while the next page waits to retry', async (_data, route, collect) => {
    const { api, waits } = await failingSecondPage(route);
    // The first page's write fails once the next page has been refused and waits to retry.
    const sink = new MemorySink();
    sink.write = async () => {
      await vi.waitFor(() => expect(waits).toHaveLength(1));
      throw new Error('sink closed');
    };
    await expect(collect(api, sink)).rejects.toThrow('sink closed');
    expect(waits).toHaveLength(1);
  });

  it.each(COLLECTORS)('%s: the next page, cancelled in flight, counts as a request; nothing written, no lag', async (_data, route, collect) => {
    const { emu, api } = await failingSecondPage(route, 150);
    const tenantId = emu.tenants[0]!.id;
    const sent = () => emu.requests.filter((r) => r.route === route && r.tenantId === tenantId);
    // The first page's write fails while the next page is on its way: received by the API, not yet answered.
    const sink = new MemorySink();
    sink.write = async () => {
      await vi.waitFor(() => expect(sent()).toHaveLength(2));
      throw new Error('sink closed');
    };
    const progress = newCollectResult();
    await expect(collect(api, sink, progress)).rejects.toThrow('sink closed');
    expect(api.stats.requests).toBe(sent().length);
    expect(api.stats.errors).toBe(0);
    expect(progress.events).toBe(0);
    // The lag is that of what reached Splunk: here nothing.
    expect(progress.newestItem).toBeUndefined();
  });

  it.each([
    [
      'a token renewal that is being retried',
      (emu: Emulator) => {
        // The second page finds its token revoked, and the token service then answers 503.
        emu.faults.add({ route: 'alerts', kind: 'expire-token', nth: [2] });
        emu.faults.add({ route: 'token', kind: 503, rate: 1 });
      },
    ],
    [
      'a whoami check of its freshly renewed token',
      (emu: Emulator) => {
        // The second page finds its token revoked, and the renewed one too; whoami then does not answer.
        emu.faults.add({ route: 'alerts', kind: 'expire-token', nth: [2, 3] });
        emu.faults.add({ route: 'whoami', kind: 'stall', rate: 1 });
      },
    ],
  ] as const)('alerts: the sink failure is reported while the next page waits for %s', async (what, faults) => {
    const { emu, api, waits } = await cancellable(faults);
    const sink = new MemorySink();
    sink.write = async () => {
      if (what.includes('renewal')) await vi.waitFor(() => expect(waits).toHaveLength(1));
      else await vi.waitFor(() => expect(emu.requests.filter((r) => r.route === 'whoami').length).toBeGreaterThan(1));
      throw new Error('sink closed');
    };
    const run = collectAlerts(api, { ...opts(sink), startDays: 90 }).then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    expect(await within3s(run)).toBe('sink closed');
  });
});

describe.each([
  ['alerts', 'alerts'],
  ['events', 'siem-events'],
] as const)('%s: a checkpoint save that fails while the next page waits to retry', (data, route) => {
  // Before, the loop waited for that page through its retries and reported their server error, which the run
  // also held against the tenant's region host.
  it('cancels that page, and is the tenant error in place of the page\'s', async () => {
    const { emu, client, tenant } = await failingSecondPage(route);
    const store = new MemoryCheckpointStore();
    store.save = async () => {
      throw new CheckpointError('checkpoint_dir is full', 'directory');
    };
    const out = await within3s(runTenant(client, tenant, data, { sink: new MemorySink(), store, key: 'k', stanza: 's', logger: quiet, pageSize: 10, startDays: 90, now: () => emu.clock.now() }));
    if (out === 'still waiting after 3 s') throw new Error(out);
    expect(out.health.error_code).toBe('TA_ERR_CHECKPOINT');
    expect(out.fatal).toBeInstanceOf(CheckpointError);
    // Page 1, and page 2 refused once, then cancelled while it waited to retry.
    expect(emu.requests.filter((r) => r.route === route)).toHaveLength(2);
  });
});
