// runTenant's health record and its part in the run's host breaker, in cases the end-to-end runs seldom meet:
// an item dated ahead of now, a tenant that succeeds on a host others failed on, a write cut off by SIGTERM.
import { describe, expect, it } from 'vitest';
import type { CentralClient, Tenant, TenantApi } from '../../src/central/types.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { HOST_FAILURES_TO_GIVE_UP, HostBreaker } from '../../src/collect/host-breaker.js';
import type { OutRecord } from '../../src/collect/sink.js';
import { runTenant } from '../../src/collect/tenant-run.js';
import { AbortedError, TimeoutError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { MemorySink } from './memory-sink.js';

const MIN = 60_000;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);
const HOST = 'https://api-eu01.central.sophos.com';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const tenant: Tenant = { id: 't1', name: 'Tenant one', apiHost: HOST, dataRegion: 'eu01', raw: {} };
const alert = (id: string, at: number) => ({ id, raisedAt: new Date(at).toISOString() });
const siemEvent = (id: string, at: number) => ({ id, when: new Date(at).toISOString(), created_at: new Date(at).toISOString() });

/** A client whose one tenant serves a single page of `alerts` and of `events`, answered at T. */
function oneTenant(items: { alerts?: Array<Record<string, unknown>>; events?: Array<Record<string, unknown>> }): CentralClient {
  const stats = () => ({ requests: 0, retries: 0, rateLimited: 0, errors: 0 });
  return {
    stats: stats(),
    clockSkewMs: undefined,
    sophosNow: () => undefined,
    forTenant: (t: Tenant) =>
      ({
        tenant: t,
        stats: stats(),
        async *alertPages() {
          yield { items: items.alerts ?? [], nextKey: undefined, serverTime: T };
        },
        async *siemEventPages() {
          yield { items: items.events ?? [], cursor: 'c1', hasMore: false, serverTime: T };
        },
      }) as unknown as TenantApi,
  } as unknown as CentralClient;
}

const options = (more: Partial<Parameters<typeof runTenant>[3]> = {}) => ({
  sink: new MemorySink(),
  store: new MemoryCheckpointStore(),
  key: 'k',
  stanza: 'sophos_central://h',
  logger: quiet,
  now: () => T,
  startDays: 1,
  ...more,
});

describe('runTenant health', () => {
  it('lag_seconds is 0, not negative, when the newest event is dated ahead of now (an endpoint clock ahead)', async () => {
    const client = oneTenant({ events: [siemEvent('ahead', T + 60 * MIN)] });
    const { health } = await runTenant(client, tenant, 'events', options());
    expect(health).toMatchObject({ status: 'ok', events: 1, lag_seconds: 0 });
  });

  it('a tenant that succeeds on a host starts its failure count again', async () => {
    const hosts = new HostBreaker();
    const timedOut = () => new TimeoutError('request timed out after 60 s', { tenantId: 'other', request: 'GET /common/v1/alerts' });
    for (let i = 1; i < HOST_FAILURES_TO_GIVE_UP; i++) hosts.record(HOST, timedOut());
    const { health } = await runTenant(oneTenant({ alerts: [alert('a', T - 5 * MIN)] }), tenant, 'alerts', options({ hosts }));
    expect(health.status).toBe('ok');
    // One failure short of giving up before the success; a fresh count of one after it.
    hosts.record(HOST, timedOut());
    expect(hosts.check(HOST)).toBeUndefined();
  });

  it('a write cut off by SIGTERM makes the tenant aborted, with no error and no ERROR line', async () => {
    const stop = new AbortController();
    const errors: string[] = [];
    const sink = new (class extends MemorySink {
      override async write(records: OutRecord[]): Promise<void> {
        if (records.some((r) => r.sourcetype === 'sophos:central:alerts')) {
          stop.abort();
          throw new AbortedError('stopping, and splunkd read nothing from stdout for 5 s');
        }
        await super.write(records);
      }
    })();
    const { health } = await runTenant(oneTenant({ alerts: [alert('a', T - 5 * MIN)] }), tenant, 'alerts', options({ sink, signal: stop.signal, logger: { ...quiet, error: (m) => errors.push(m) } }));
    expect(health.status).toBe('aborted');
    expect(health).not.toHaveProperty('error_code');
    expect(errors).toEqual([]);
  });
});
