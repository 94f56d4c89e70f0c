// A tenant that keeps failing: its checkpoint's age goes on counting from the last page it wrote, so the
// health record (checkpoint_age_seconds) shows how long it has been failing. That holds after a restart saved
// to report a gap once, and for a tenant not even tried because its region host was given up.
import { describe, expect, it } from 'vitest';
import type { CentralClient, Tenant, TenantApi } from '../../src/central/types.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import type { AlertCheckpoint } from '../../src/collect/alert-window.js';
import { collectAlerts } from '../../src/collect/alerts.js';
import { newCollectResult } from '../../src/collect/collector.js';
import { collectEvents } from '../../src/collect/events.js';
import { HOST_FAILURES_TO_GIVE_UP, HostBreaker } from '../../src/collect/host-breaker.js';
import type { SiemCheckpoint } from '../../src/collect/siem-position.js';
import type { OutRecord } from '../../src/collect/sink.js';
import { runTenant } from '../../src/collect/tenant-run.js';
import { AbortedError, ForbiddenError, NetworkError, ServerError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { MemorySink } from './memory-sink.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const tenant: Tenant = { id: 't1', name: 'Tenant one', apiHost: 'https://api-eu01.central.sophos.com', dataRegion: 'eu01', raw: {} };

/** A tenant whose every page request is refused (403), as one that lost partner access. */
function refusing(): TenantApi {
  const refuse = () => ({
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new ForbiddenError('Sophos Central refused access (403)', { status: 403, tenantId: tenant.id })) }),
  });
  return { tenant, alertPages: refuse, siemEventPages: refuse, stats: { requests: 0, retries: 0, rateLimited: 0, errors: 0 } } as unknown as TenantApi;
}

/** A SIEM event created (and `when`) at `at`. */
const siemEvent = (id: string, at: number) => ({ id, when: new Date(at).toISOString(), created_at: new Date(at).toISOString() });

/**
 * A tenant whose SIEM stream serves `pages`, then fails with what `failure` returns, when given: called as the
 * request after the last page is made, so it may move a test clock first. `cursors` records where each stream began.
 */
function siemTenant(pages: Array<Record<string, unknown>>, failure?: () => Error): TenantApi & { cursors: Array<string | undefined> } {
  const cursors: Array<string | undefined> = [];
  return {
    tenant,
    stats: { requests: 0, retries: 0, rateLimited: 0, errors: 0 },
    cursors,
    async *siemEventPages({ cursor }: { cursor?: string }) {
      cursors.push(cursor);
      yield* pages;
      if (failure) throw failure();
    },
  } as unknown as TenantApi & { cursors: Array<string | undefined> };
}

describe('a tenant that fails after a restart saved to report its gap once', () => {
  it('events: the gap is reported once, and the age counts on from the last page written', async () => {
    const store = new MemoryCheckpointStore();
    const savedAt = T - 25 * HOUR;
    // No cursor (saved after a page without one, or after an earlier restart), older than the API's 24 hours.
    await store.save('k', { v: 2, position: savedAt, savedAt } satisfies SiemCheckpoint);
    const first = new MemorySink();
    await expect(collectEvents(refusing(), { sink: first, store, key: 'k', stanza: 's', logger, now: () => T })).rejects.toBeInstanceOf(ForbiddenError);
    expect(first.health('data_gap')).toHaveLength(1);
    expect((await store.load<SiemCheckpoint>('k'))!.savedAt).toBe(savedAt);

    // At once: any time on, what aged out of the API's 24 hours meanwhile would be a gap of its own.
    const later = T;
    const second = new MemorySink();
    const result = newCollectResult();
    await expect(collectEvents(refusing(), { sink: second, store, key: 'k', stanza: 's', logger, now: () => later, progress: result })).rejects.toBeInstanceOf(ForbiddenError);
    expect(second.health('data_gap')).toEqual([]);
    expect(result.checkpointAge).toBe(later - savedAt);
  });

  it('alerts: the same after a gap past the 90 days Sophos Central keeps alerts', async () => {
    const store = new MemoryCheckpointStore();
    const savedAt = T - 100 * DAY;
    await store.save('k', { v: 1, hwm: savedAt, seen: {}, seenSince: savedAt, savedAt } satisfies AlertCheckpoint);
    const first = new MemorySink();
    await expect(collectAlerts(refusing(), { sink: first, store, key: 'k', stanza: 's', logger, now: () => T, startDays: 90 })).rejects.toBeInstanceOf(ForbiddenError);
    expect(first.health('data_gap')).toHaveLength(1);
    expect((await store.load<AlertCheckpoint>('k'))!.savedAt).toBe(savedAt);
    const second = new MemorySink();
    await expect(collectAlerts(refusing(), { sink: second, store, key: 'k', stanza: 's', logger, now: () => T, startDays: 90 })).rejects.toBeInstanceOf(ForbiddenError);
    expect(second.health('data_gap')).toEqual([]);
  });

  it('events: the same when SIGTERM stops the run on its first page, where a failing run would save anyway', async () => {
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, position: T - 25 * HOUR, savedAt: T - 25 * HOUR } satisfies SiemCheckpoint);
    const stoppedRun = async () => {
      const stop = new AbortController();
      const api = {
        tenant,
        stats: { requests: 0, retries: 0, rateLimited: 0, errors: 0 },
        siemEventPages: () => ({
          [Symbol.asyncIterator]: () => ({
            next: () => {
              stop.abort();
              return Promise.reject(new AbortedError('stopped while asking for a page'));
            },
          }),
        }),
      } as unknown as TenantApi;
      const sink = new MemorySink();
      await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => T, signal: stop.signal });
      return sink.health('data_gap');
    };
    expect(await stoppedRun()).toHaveLength(1);
    expect(await stoppedRun()).toEqual([]);
  });
});

describe('a tenant that fails after a reset of a checkpoint saved while the clock ran ahead', () => {
  it('alerts: its age counts from the reset, not from a time in the future', async () => {
    const store = new MemoryCheckpointStore();
    const ahead = T + 2 * DAY;
    await store.save('k', { v: 1, hwm: ahead, seen: {}, seenSince: ahead - HOUR, newest: T - HOUR, savedAt: ahead } satisfies AlertCheckpoint);
    const first = new MemorySink();
    await expect(collectAlerts(refusing(), { sink: first, store, key: 'k', stanza: 's', logger, now: () => T, startDays: 7 })).rejects.toBeInstanceOf(ForbiddenError);
    expect(first.health('checkpoint_reset')).toHaveLength(1);
    const result = newCollectResult();
    const later = T + HOUR;
    await expect(collectAlerts(refusing(), { sink: new MemorySink(), store, key: 'k', stanza: 's', logger, now: () => later, startDays: 7, progress: result })).rejects.toBeInstanceOf(ForbiddenError);
    expect(result.checkpointAge).toBe(HOUR);
  });
});

describe('a tenant on a region host the run gave up on', () => {
  it('is not asked, yet its record carries its checkpoint age', async () => {
    const store = new MemoryCheckpointStore();
    const savedAt = T - 2 * HOUR;
    await store.save('k', { v: 2, cursor: 'c1', position: savedAt, savedAt } satisfies SiemCheckpoint);
    const hosts = new HostBreaker();
    for (let i = 0; i < HOST_FAILURES_TO_GIVE_UP; i++) hosts.record(tenant.apiHost, new NetworkError('connection refused', { tenantId: `other${i}` }));
    const client = {
      forTenant: () => {
        throw new Error('a tenant on a host given up is not asked');
      },
      clockSkewMs: undefined,
      sophosNow: () => undefined,
    } as unknown as CentralClient;
    const sink = new MemorySink();
    const { health } = await runTenant(client, tenant, 'events', { sink, store, key: 'k', stanza: 's', logger, now: () => T, startDays: 1, hosts });
    expect(health).toMatchObject({ status: 'error', error_code: 'TA_ERR_HOST_DOWN', requests: 0, checkpoint_age_seconds: 2 * 3600 });
    expect((await store.load<SiemCheckpoint>('k'))!.cursor).toBe('c1');
  });

  it('reports an age of 0, not a negative one, for a checkpoint dated after now (the clock stepped back since)', async () => {
    const store = new MemoryCheckpointStore();
    const savedAt = T + HOUR;
    await store.save('k', { v: 2, cursor: 'c1', position: T - HOUR, savedAt } satisfies SiemCheckpoint);
    const hosts = new HostBreaker();
    for (let i = 0; i < HOST_FAILURES_TO_GIVE_UP; i++) hosts.record(tenant.apiHost, new NetworkError('connection refused', { tenantId: `other${i}` }));
    const client = { forTenant: () => undefined, clockSkewMs: undefined, sophosNow: () => undefined } as unknown as CentralClient;
    const { health } = await runTenant(client, tenant, 'events', { sink: new MemorySink(), store, key: 'k', stanza: 's', logger, now: () => T, startDays: 1, hosts });
    expect(health).toMatchObject({ status: 'error', checkpoint_age_seconds: 0 });
  });
});

describe('a tenant that keeps failing while its saved cursor ages past the 24 hours the SIEM API serves', () => {
  it('each failing run reports what aged out since the last, keeping the cursor; the recovery reports only the rest', async () => {
    const store = new MemoryCheckpointStore();
    const saved = T - 23 * HOUR;
    await store.save('k', { v: 2, cursor: 'c0', position: saved, savedAt: saved } satisfies SiemCheckpoint);
    const gaps: Array<Record<string, unknown>> = [];
    const failAt = async (now: number) => {
      const sink = new MemorySink();
      const result = newCollectResult();
      await expect(collectEvents(refusing(), { sink, store, key: 'k', stanza: 's', logger, now: () => now, progress: result })).rejects.toBeInstanceOf(ForbiddenError);
      gaps.push(...sink.health('data_gap'));
      return result;
    };
    // 23 hours old: nothing lost yet.
    expect((await failAt(T)).gaps).toEqual([]);
    expect(gaps).toEqual([]);
    // Two hours on: the first hour has aged out, and is reported while the tenant still fails.
    const second = await failAt(T + 2 * HOUR);
    expect(second.gaps).toEqual([{ start: saved, end: T - 22 * HOUR }]);
    expect(gaps).toEqual([expect.objectContaining({ gap_start: new Date(saved).toISOString(), gap_end: new Date(T - 22 * HOUR).toISOString(), gap_seconds: 3600 })]);
    // The cursor is kept for the recovery, and the age still counts from the last page written.
    expect(await store.load<SiemCheckpoint>('k')).toEqual({ v: 2, cursor: 'c0', position: T - 22 * HOUR, savedAt: saved });
    // Another hour: only that hour.
    await failAt(T + 3 * HOUR);
    expect(gaps.slice(1)).toEqual([expect.objectContaining({ gap_start: new Date(T - 22 * HOUR).toISOString(), gap_end: new Date(T - 21 * HOUR).toISOString() })]);

    // Recovered an hour later: the saved cursor is answered from the last 24 hours, and what aged out after the
    // last report is the only gap, so the reports join end to end without overlap.
    const recovered = T + 4 * HOUR;
    const api = siemTenant([{ items: [], cursor: 'c1', hasMore: false, serverTime: recovered }]);
    const sink = new MemorySink();
    await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => recovered });
    expect(api.cursors).toEqual(['c0']);
    expect(sink.health('data_gap')).toEqual([
      expect.objectContaining({ gap_start: new Date(T - 21 * HOUR).toISOString(), gap_end: new Date(recovered + 999 - DAY).toISOString() }),
    ]);
    expect((await store.load<SiemCheckpoint>('k'))!.cursor).toBe('c1');
  });

  it('a run that fails after writing pages reports from where its last page left the stream', async () => {
    const store = new MemoryCheckpointStore();
    const saved = T - 23 * HOUR;
    await store.save('k', { v: 2, cursor: 'c0', position: saved, savedAt: saved } satisfies SiemCheckpoint);
    const clock = { t: T };
    const written = T - 23 * HOUR + 30 * MIN;
    const api = siemTenant([{ items: [siemEvent('a', written)], cursor: 'c1', hasMore: true, serverTime: T }], () => {
      // The next page's request is refused only after two hours of retries and waiting.
      clock.t = T + 2 * HOUR;
      return new ForbiddenError('Sophos Central refused access (403)', { status: 403, tenantId: tenant.id });
    });
    const sink = new MemorySink();
    await expect(collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t })).rejects.toBeInstanceOf(ForbiddenError);
    expect(sink.health('data_gap')).toEqual([expect.objectContaining({ gap_start: new Date(written).toISOString(), gap_end: new Date(T - 22 * HOUR).toISOString() })]);
    expect(await store.load<SiemCheckpoint>('k')).toEqual(expect.objectContaining({ cursor: 'c1', position: T - 22 * HOUR }));
  });
});

describe('what a failing run of events reports, and what it does not', () => {
  /** Every page request fails with a 503 after `retryMs` of retries (the clock moves on meanwhile). */
  const failingAfter = (clock: { t: number }, retryMs: number): TenantApi =>
    siemTenant([], () => {
      clock.t += retryMs;
      return new ServerError('Sophos Central server error (503) after 5 retries', { status: 503, tenantId: tenant.id });
    });

  it('a tenant never collected that keeps failing, each run after minutes of retries: no data_gap and nothing saved (nothing was owed)', async () => {
    const store = new MemoryCheckpointStore();
    const clock = { t: T };
    const gaps: unknown[] = [];
    for (let run = 0; run < 4; run++) {
      const sink = new MemorySink();
      await expect(collectEvents(failingAfter(clock, 5 * MIN), { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t })).rejects.toBeInstanceOf(ServerError);
      gaps.push(...sink.health('data_gap'));
      expect(await store.load<SiemCheckpoint>('k')).toBeUndefined();
      clock.t += 5 * MIN;
    }
    expect(gaps).toEqual([]);
  });

  it("dates the lost span by Sophos's latest answer, not by a skew this host's clock has stepped away from since", async () => {
    const store = new MemoryCheckpointStore();
    const saved = T - DAY - 5 * MIN;
    await store.save('k', { v: 2, cursor: 'c0', position: saved, savedAt: saved } satisfies SiemCheckpoint);
    const unreachable = siemTenant([], () => new NetworkError('connect ECONNREFUSED', { tenantId: tenant.id }));
    const failing = new MemorySink();
    // The skew was measured 10 minutes behind; NTP has set this host's clock right since (both read T now).
    const opts = { sink: failing, store, key: 'k', stanza: 's', logger, now: () => T, clockSkewMs: () => -10 * MIN, sophosNow: () => T };
    await expect(collectEvents(unreachable, opts)).rejects.toBeInstanceOf(NetworkError);
    expect(failing.health('data_gap')).toEqual([expect.objectContaining({ gap_start: new Date(saved).toISOString(), gap_end: new Date(T - DAY).toISOString() })]);

    // Five minutes on it answers again, from its last 24 hours, with an event from their first minute.
    const recovered = T + 5 * MIN;
    const first = new Date(recovered - DAY + MIN).toISOString();
    const api = siemTenant([{ items: [siemEvent('a', recovered - DAY + MIN)], cursor: 'c1', hasMore: false, serverTime: recovered }]);
    const sink = new MemorySink();
    await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => recovered, clockSkewMs: () => 0 });
    expect(sink.events('sophos:central:events').map((e) => e.id)).toEqual(['a']);
    // No event delivered lies inside a span reported lost, by either run.
    for (const g of [...failing.health('data_gap'), ...sink.health('data_gap')]) expect(Date.parse(g.gap_end as string)).toBeLessThanOrEqual(Date.parse(first));
  });

  it("a gap its first page reported, that page then not written (the sink failing): saved, so the next run does not report it again", async () => {
    const store = new MemoryCheckpointStore();
    const saved = T - 25 * HOUR;
    await store.save('k', { v: 2, cursor: 'c0', position: saved, savedAt: saved } satisfies SiemCheckpoint);
    const serving = siemTenant([{ items: [siemEvent('a', T - 23 * HOUR)], cursor: 'c1', hasMore: false, serverTime: T }]);
    // The gap record goes through (write 1); the page does not (write 2): stdout closed, HEC refusing.
    const failing = new MemorySink();
    failing.failFromWrite = 2;
    await expect(collectEvents(serving, { sink: failing, store, key: 'k', stanza: 's', logger, now: () => T })).rejects.toThrow('sink closed');
    const [gap] = failing.health('data_gap');
    expect(await store.load<SiemCheckpoint>('k')).toEqual({ v: 2, cursor: 'c0', position: Date.parse(gap!.gap_end as string), savedAt: saved });

    const next = new MemorySink();
    await collectEvents(serving, { sink: next, store, key: 'k', stanza: 's', logger, now: () => T });
    expect(next.health('data_gap')).toEqual([]);
    expect(next.events('sophos:central:events').map((e) => e.id)).toEqual(['a']);
  });

  it('a gap its first page reported, that page failing minutes later on a sink still down: saved all the same, and not reported again', async () => {
    const store = new MemoryCheckpointStore();
    const saved = T - 25 * HOUR;
    await store.save('k', { v: 2, cursor: 'c0', position: saved, savedAt: saved } satisfies SiemCheckpoint);
    const clock = { t: T };
    const serving = (serverTime: number) => siemTenant([{ items: [siemEvent('a', serverTime - 23 * HOUR)], cursor: 'c1', hasMore: false, serverTime }]);
    // The gap record goes through (write 1); the page's write fails after two minutes of retries (HEC), and so
    // does every write after it: the failing run's own report of what aged meanwhile cannot be written either.
    const failing = new MemorySink();
    const write = failing.write.bind(failing);
    failing.write = async (records: OutRecord[]) => {
      if (failing.writes === 0) return write(records);
      failing.writes++;
      clock.t += 2 * MIN;
      throw new Error('sink closed');
    };
    await expect(collectEvents(serving(T), { sink: failing, store, key: 'k', stanza: 's', logger, now: () => clock.t })).rejects.toThrow('sink closed');
    const [reported, ...none] = failing.health('data_gap');
    expect(none).toEqual([]);
    const end = Date.parse(reported!.gap_end as string);
    expect((await store.load<SiemCheckpoint>('k'))!.position).toBe(end);

    const next = new MemorySink();
    await collectEvents(serving(clock.t), { sink: next, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    for (const g of next.health('data_gap')) expect(Date.parse(g.gap_start as string)).toBeGreaterThanOrEqual(end);
  });
});
