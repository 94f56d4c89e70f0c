// The collectors against the real emulator through the real client: exactly once across runs, under
// faults, with a failing tenant, across a 24-hour gap, and when stopped half-way.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emulatorClient } from '../helpers/central.js';
import type { CentralClient, TenantApi } from '../../src/central/types.js';
import type { CheckpointStore } from '../../src/checkpoint/types.js';
import { checkpointFileName, FileCheckpointStore, storeFailure } from '../../src/checkpoint/file-store.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { checkpointKey } from '../../src/checkpoint/keys.js';
import { HOST_FAILURES_TO_GIVE_UP } from '../../src/collect/host-breaker.js';
import { DATE_RESOLUTION_MS } from '../../src/collect/collector.js';
import { DEFAULT_TENANT_CONCURRENCY, runCollection, type CollectConfig, type RunSummary } from '../../src/collect/run.js';
import { SIEM_FROM_DATE_WINDOW_MS, SIEM_WINDOW_MS } from '../../src/collect/siem-position.js';
import type { Logger } from '../../src/log.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import type { EventSink } from '../../src/collect/sink.js';
import { MemorySink } from './memory-sink.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

interface World {
  emu: Emulator;
  /** How far this host's clock is ahead of Sophos's (the emulator's): the client's clock and run()'s. */
  skewMs: number;
  client: CentralClient;
  store: MemoryCheckpointStore;
  logs: string[];
  logger: Logger;
}

const open: World[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) {
    await w.client.close();
    await w.emu.stop();
  }
});

async function world(opts: Parameters<typeof startEmulator>[0] = {}): Promise<World> {
  const emu = await startEmulator({ seed: 7, tenants: 3, alertsPerTenant: 150, eventsPerTenant: 400, endpointsPerTenant: 30, alertsMaxPageSize: 100, siemStaleFromDate: 'reject', ...opts });
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(`DEBUG ${m}`),
    info: (m) => logs.push(`INFO ${m}`),
    warn: (m) => logs.push(`WARN ${m}`),
    error: (m) => logs.push(`ERROR ${m}`),
  };
  const w: World = { emu, skewMs: 0, client: undefined as unknown as CentralClient, store: new MemoryCheckpointStore(), logs, logger };
  // The client reads this host's clock as a run does: the emulator's, plus the skew of the moment.
  w.client = emulatorClient(emu, { retryBaseDelayMs: 1, retryMaxDelayMs: 5, logger, now: () => emu.clock.now() + w.skewMs });
  open.push(w);
  return w;
}

function config(data: CollectConfig['data'], extra: Partial<CollectConfig> = {}): CollectConfig {
  return { data, tenants: [], excludeTenants: [], startDays: 90, excludeTypes: [], pageSize: 100, ...extra };
}

/** `skewMs`: how far this host's clock is ahead of Sophos's during the run. */
function run(w: World, cfg: CollectConfig, sink: MemorySink, more: { signal?: AbortSignal; store?: CheckpointStore; skewMs?: number } = {}) {
  const skew = more.skewMs ?? 0;
  w.skewMs = skew;
  return runCollection({ client: w.client, config: cfg, stanza: 'sophos_central://e2e', sink, store: more.store ?? w.store, logger: w.logger, now: () => w.emu.clock.now() + skew, signal: more.signal });
}

/** Writes to `sink`, and stops the run (SIGTERM) once `alerts` alerts have been written there. */
function stopAfterAlerts(sink: MemorySink, alerts: number): { sink: EventSink; signal: AbortSignal } {
  const stop = new AbortController();
  const write = async (records: Parameters<MemorySink['write']>[0]) => {
    await sink.write(records);
    if (sink.of('sophos:central:alerts').length >= alerts) stop.abort();
  };
  return { sink: { write }, signal: stop.signal };
}

/** Ground truth: every alert the emulator shows for a tenant raised in [from, to), straight from the API. */
/** A memory store that counts its saves (`saves.count`, which a test may reset). */
function countingStore(): { store: MemoryCheckpointStore; saves: { count: number } } {
  const store = new MemoryCheckpointStore();
  const saves = { count: 0 };
  const save = store.save.bind(store);
  store.save = async (key, value) => {
    saves.count++;
    return save(key, value);
  };
  return { store, saves };
}

async function alertIds(w: World, tenantId: string, from: number, to: number): Promise<string[]> {
  const tenant = w.emu.tenants.find((t) => t.id === tenantId)!;
  const api = w.client.forTenant({ ...tenant, raw: {} });
  const ids: string[] = [];
  for await (const page of api.alertPages({ from: new Date(from).toISOString(), to: new Date(to).toISOString() })) ids.push(...page.items.map((a) => a.id));
  return ids;
}

async function eventIds(w: World, tenantId: string, from: number, excludeTypes?: string[]): Promise<string[]> {
  const tenant = w.emu.tenants.find((t) => t.id === tenantId)!;
  const api = w.client.forTenant({ ...tenant, raw: {} });
  const ids: string[] = [];
  for await (const page of api.siemEventPages({ fromDate: Math.floor(from / 1000), excludeTypes })) ids.push(...page.items.map((e) => e.id));
  return ids;
}

/** IDs of the events of one sourcetype written from the `from`-th record on (default: all). */
function idsOf(sink: MemorySink, sourcetype: string, from = 0): string[] {
  return sink.records.slice(from).filter((r) => r.sourcetype === sourcetype).map((r) => (JSON.parse(r.data) as { id: string }).id);
}

/** Replaces the saved SIEM cursor of `key` with one the API refuses (a format it does not know); returns what was saved. */
async function refuseCursor<T extends object>(w: World, key: string): Promise<T> {
  const saved = (await w.store.load<T>(key))!;
  await w.store.save(key, { ...saved, cursor: Buffer.from('V3_CURSOR|a format this API does not know').toString('base64') });
  return saved;
}

function expectNoDuplicates(ids: string[]): void {
  expect(ids.length).toBe(new Set(ids).size);
}

describe('alerts end to end', () => {
  it('every alert in the window arrives exactly once across runs, late arrivals inside the overlap included', async () => {
    const w = await world();
    const t0 = w.emu.clock.now();
    const sink = new MemorySink();
    const first = await run(w, config('alerts'), sink);
    expect(first.status).toBe('ok');
    for (const t of w.emu.tenants) {
      const want = await alertIds(w, t.id, t0 - 90 * DAY + MIN, t0 - MIN);
      const got = sink.events('sophos:central:alerts').filter((a) => (a.tenant as { id: string }).id === t.id).map((a) => a.id as string);
      expect(want.length).toBeGreaterThan(100);
      expect(new Set(got)).toEqual(new Set(want));
    }
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));

    // Between runs: new alerts, and alerts that show up late with a raisedAt before the last run's end.
    const tenant = w.emu.tenants[0]!.id;
    w.emu.clock.advance(5 * MIN);
    const fresh = w.emu.addAlerts(tenant, 7, { raisedAt: w.emu.clock.now() - 3 * MIN });
    const late = w.emu.addAlerts(tenant, 4, { raisedAt: t0 - 8 * MIN });
    const tooNew = w.emu.addAlerts(tenant, 2, { raisedAt: w.emu.clock.now() - 10_000 });
    const before = sink.records.length;
    const second = await run(w, config('alerts'), sink);
    expect(second.status).toBe('ok');
    const newIds = idsOf(sink, 'sophos:central:alerts', before);
    expect(new Set(newIds)).toEqual(new Set([...fresh, ...late].map((a) => a.id)));

    // The alerts raised within the last minute come with the next run, once.
    w.emu.clock.advance(5 * MIN);
    const third = sink.records.length;
    await run(w, config('alerts'), sink);
    expect(idsOf(sink, 'sophos:central:alerts', third).sort()).toEqual(tooNew.map((a) => a.id).sort());
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));

    // Events are the API JSON with tenant {id,name}; time is raisedAt.
    for (const r of sink.of('sophos:central:alerts')) {
      const a = JSON.parse(r.data) as { raisedAt: string; tenant: { id: string; name: string } };
      expect(r.time).toBe(Date.parse(a.raisedAt) / 1000);
      expect(a.tenant.name).toBe(w.emu.tenants.find((t) => t.id === a.tenant.id)!.name);
      expect(r.data).not.toContain('\n');
    }
    // The dedup set stays bounded by the overlap.
    const saved = await w.store.load<{ seen: Record<string, number> }>(checkpointKey('sophos_central://e2e', 'alerts', tenant));
    expect(Object.keys(saved!.seen).length).toBeLessThanOrEqual(20);
  });

  it('loses nothing under injected faults (5xx, 429, dropped and truncated responses, expired tokens)', async () => {
    const w = await world({ tenants: 2 });
    const t0 = w.emu.clock.now();
    w.emu.faults.add({ route: 'alerts', kind: 500, rate: 0.2 });
    w.emu.faults.add({ route: 'alerts', kind: 429, rate: 0.1, retryAfterSeconds: 0 });
    w.emu.faults.add({ route: 'alerts', kind: 'drop', nth: [2] });
    w.emu.faults.add({ route: 'alerts', kind: 'truncate', nth: [4] });
    w.emu.faults.add({ route: 'alerts', kind: 'expire-token', nth: [6] });
    const sink = new MemorySink();
    const summary = await run(w, config('alerts'), sink);
    expect(summary.status).toBe('ok');
    expect(summary.retries).toBeGreaterThan(0);
    w.emu.faults.clear();
    for (const t of w.emu.tenants) {
      const want = await alertIds(w, t.id, t0 - 90 * DAY + MIN, t0 - MIN);
      const got = sink.events('sophos:central:alerts').filter((a) => (a.tenant as { id: string }).id === t.id).map((a) => a.id);
      expect(new Set(got)).toEqual(new Set(want));
    }
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
    const health = sink.health('tenant_run');
    expect(health.reduce((n, h) => n + (h.retries as number), 0)).toBe(summary.retries);
  });

  it('a checkpoint directory that cannot be written stops the run before any tenant, with one ERROR line and a TA_ERR_CHECKPOINT summary', async () => {
    const w = await world({ tenants: 8, alertsPerTenant: 20 });
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    writeFileSync(join(base, 'file'), 'not a directory');
    const store = new FileCheckpointStore(join(base, 'file', 'checkpoints'));
    try {
      const sink = new MemorySink();
      const summary = await run(w, config('alerts'), sink, { store });
      expect(summary).toMatchObject({ status: 'error', error_code: 'TA_ERR_CHECKPOINT', tenants: 0 });
      expect(summary.error).toMatch(/^cannot save the checkpoint in \/.*\/file\/checkpoints: ENOTDIR; a file stands where a directory of .* should be$/);
      expect(sink.health('tenant_run')).toEqual([]);
      expect(w.logs.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/: error, 0\/0 tenants ok, 0 events: cannot save the checkpoint in .*: ENOTDIR/)]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it.each(['works', 'fails', 'works, whoami refused'] as const)('asks for the token and whoami while it tries the checkpoint directory (the directory %s)', async (directory) => {
    const w = await world({ tenants: 2, alertsPerTenant: 5 });
    const fails = directory === 'fails';
    if (directory === 'works, whoami refused') w.emu.faults.add({ route: 'whoami', kind: 403, nth: [1] });
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    const disk = new FileCheckpointStore(base);
    const answered = () => w.emu.requests.some((r) => r.route === 'whoami' && r.status !== 0);
    // A probe that ends only once whoami has been answered: asked only after it, the run would fail here.
    const probe = async () => {
      await vi.waitFor(() => expect(answered(), 'whoami asked while the directory was tried').toBe(true), { timeout: 5_000, interval: 5 });
      if (fails) throw storeFailure('save the checkpoint in', base, Object.assign(new Error('read-only'), { code: 'EROFS' }), base);
      await disk.probe();
    };
    const store: CheckpointStore = { load: (key) => disk.load(key), setAside: (key) => disk.setAside(key), save: (key, value) => disk.save(key, value), probe };
    try {
      const sink = new MemorySink();
      const summary = await run(w, config('alerts'), sink, { store });
      if (fails) {
        // Stopped before any tenant, as before: nothing but the summary written, no data asked for.
        expect(summary).toMatchObject({ status: 'error', error_code: 'TA_ERR_CHECKPOINT', tenants: 0 });
        expect(sink.records).toHaveLength(1);
        expect(w.emu.requests.filter((r) => r.route.startsWith('alerts'))).toEqual([]);
      } else if (directory === 'works') {
        expect(summary).toMatchObject({ status: 'ok', tenants_ok: 2, events: 10 });
      } else {
        // Refused while the directory was tried: the run's failure, not asked again for the tenant list.
        expect(summary).toMatchObject({ status: 'error', tenants: 0, error: expect.stringContaining('403') });
      }
      // One token and one whoami, for the probe and the tenant list both.
      expect(w.emu.requests.filter((r) => r.route === 'token' || r.route === 'whoami').map((r) => r.route)).toEqual(['token', 'whoami']);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a disk that fills up mid-run stops it as an error, though tenants were collected before: every later run would stop the same way', async () => {
    const w = await world({ tenants: 4, alertsPerTenant: 10 });
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    const disk = new FileCheckpointStore(base);
    let saves = 0;
    const filling: CheckpointStore = {
      load: (key) => disk.load(key),
      setAside: (key) => disk.setAside(key),
      probe: () => disk.probe(),
      save: (key, value) =>
        ++saves <= 2 ? disk.save(key, value) : Promise.reject(storeFailure('save the checkpoint in', base, Object.assign(new Error('no space'), { code: 'ENOSPC' }), base)),
    };
    try {
      const summary = await run(w, config('alerts', { tenantConcurrency: 1 }), new MemorySink(), { store: filling });
      expect(summary.tenants_ok).toBeGreaterThan(0);
      expect(summary).toMatchObject({ status: 'error', error_code: 'TA_ERR_CHECKPOINT' });
      expect(w.logs.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/: error, \d\/\d tenants ok, .*ENOSPC; the disk is full$/)]);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it.each(['alerts', 'events'] as const)('%s: a disk that refuses every save (full, read-only) sends nothing, run after run; once it takes saves again, every item arrives once', async (data) => {
    const w = await world({ tenants: 4, alertsPerTenant: 120, eventsPerTenant: 250 });
    const sourcetype = `sophos:central:${data}`;
    const t0 = w.emu.clock.now();
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    const disk = new FileCheckpointStore(base);
    try {
      const want: string[] = [];
      for (const t of w.emu.tenants) {
        want.push(...(data === 'alerts' ? await alertIds(w, t.id, t0 - 90 * DAY + MIN, t0 - MIN) : await eventIds(w, t.id, t0 - SIEM_FROM_DATE_WINDOW_MS)));
      }
      // A good first run, so that later runs resume from checkpoints that still read fine.
      const sink = new MemorySink();
      expect(await run(w, config(data), sink, { store: disk })).toMatchObject({ status: 'ok' });
      w.emu.clock.advance(10 * MIN);
      const added = data === 'alerts' ? w.emu.addAlerts(w.emu.tenants[0]!.id, 30, { raisedAt: w.emu.clock.now() - 5 * MIN }) : w.emu.addEvents(w.emu.tenants[1]!.id, 300);
      // The disk fills up: loads work, and every save fails as the file system answers then.
      const noSpace = () => Promise.reject(storeFailure('save the checkpoint in', base, Object.assign(new Error('no space'), { code: 'ENOSPC' }), base));
      const full: CheckpointStore = { load: (key) => disk.load(key), setAside: (key) => disk.setAside(key), save: noSpace, probe: noSpace };
      const blockedFrom = sink.records.length;
      for (let n = 0; n < 3; n++) {
        const summary = await run(w, config(data), sink, { store: full });
        expect(summary).toMatchObject({ status: 'error', error_code: 'TA_ERR_CHECKPOINT', error: expect.stringMatching(/ENOSPC; the disk is full$/) });
      }
      expect(idsOf(sink, sourcetype, blockedFrom)).toEqual([]);
      // Space again: the next run sends what came meanwhile, and nothing twice.
      expect(await run(w, config(data), sink, { store: disk })).toMatchObject({ status: 'ok' });
      const got = idsOf(sink, sourcetype);
      expectNoDuplicates(got);
      expect(new Set(got)).toEqual(new Set([...want, ...added.map((item) => item.id)]));
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('endpoints: a checkpoint directory that refuses every save or read still gets every tenant a whole snapshot, with one WARN line', async () => {
    const w = await world({ tenants: 10, endpointsPerTenant: 20 });
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    try {
      const noSpace = () => Promise.reject(storeFailure('save the checkpoint in', base, Object.assign(new Error('no space'), { code: 'ENOSPC' }), base));
      const unreadable = () => Promise.reject(storeFailure('read the checkpoint in', base, Object.assign(new Error('denied'), { code: 'EACCES' }), base));
      const disk = new FileCheckpointStore(base);
      for (const broken of [
        { load: (key: string) => disk.load(key), setAside: (key: string) => disk.setAside(key), save: noSpace, probe: noSpace },
        { load: unreadable, setAside: unreadable, save: (key: string, value: unknown) => disk.save(key, value) },
      ] as CheckpointStore[]) {
        w.logs.length = 0;
        const sink = new MemorySink();
        const summary = await run(w, config('endpoints'), sink, { store: broken });
        expect(summary).toMatchObject({ status: 'ok', tenants: 10, tenants_ok: 10, events: 200 });
        expect(sink.health('tenant_run').map((h) => [h.status, h.events, h.checkpoint_age_seconds])).toEqual(Array(10).fill(['ok', 20, null]));
        expect(w.logs.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([
          expect.stringMatching(/^WARN stanza sophos_central:\/\/e2e: checkpoint_dir could not date the endpoint snapshots of 10 tenants \(cannot (save|read) the checkpoint in .*(ENOSPC|EACCES).*\); the snapshots are sent regardless, but their checkpoint_age_seconds stays null until that is fixed$/),
        ]);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it("one tenant's unusable checkpoint file fails that tenant only; the others are collected", async () => {
    const w = await world({ tenants: 4, alertsPerTenant: 10 });
    const base = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    const store = new FileCheckpointStore(base);
    const victim = w.emu.tenants[0]!.id;
    // A directory where the tenant's checkpoint file should be: that file cannot be read, the directory is fine.
    mkdirSync(join(base, checkpointFileName(checkpointKey('sophos_central://e2e', 'alerts', victim)), 'in-the-way'), { recursive: true });
    try {
      const sink = new MemorySink();
      const summary = await run(w, config('alerts', { tenantConcurrency: 1 }), sink, { store });
      expect(summary).toMatchObject({ status: 'partial', tenants: 4, tenants_ok: 3, tenants_failed: 1 });
      const failed = sink.health('tenant_run').filter((h) => h.status === 'error');
      expect(failed).toEqual([expect.objectContaining({ tenant: expect.objectContaining({ id: victim }), error_code: 'TA_ERR_CHECKPOINT' })]);
      expect(new Set(sink.events('sophos:central:alerts').map((a) => (a.tenant as { id: string }).id)).size).toBe(3);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('many denied tenants: five ERROR lines of their own, the rest counted in the run line, each in its tenant_run', async () => {
    const w = await world({ tenants: 9, alertsPerTenant: 5 });
    for (const t of w.emu.tenants.slice(1)) w.emu.faults.add({ route: 'alerts', kind: 403, rate: 1, tenantId: t.id });
    const sink = new MemorySink();
    const summary = await run(w, config('alerts'), sink);
    expect(summary).toMatchObject({ status: 'partial', tenants_failed: 8, tenants_ok: 1 });
    const errors = w.logs.filter((l) => l.startsWith('ERROR'));
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatch(/^ERROR alerts of tenant \S+ \(.*\) failed: Sophos Central denied access/);
    expect(w.logs).toContainEqual(expect.stringMatching(/^INFO stanza sophos_central:\/\/e2e alerts: partial, 1\/9 tenants ok, 5 events; 3 more tenant failures not logged one by one \(all failures: TA_ERR_FORBIDDEN: 8; see the tenant_run health records\)$/));
    expect(sink.health('tenant_run').filter((h) => h.error_code === 'TA_ERR_FORBIDDEN')).toHaveLength(8);
    // The summary's totals are the sums over every tenant_run, failed tenants included (plus, for requests,
    // the run's own token, whoami and tenant-list requests).
    const runs = sink.health('tenant_run');
    const sum = (k: string) => runs.reduce((n, h) => n + (h[k] as number), 0);
    expect(sum('errors')).toBe(8);
    expect(summary).toMatchObject({ events: sum('events'), pages: sum('pages'), errors: sum('errors'), retries: sum('retries') });
    expect(summary.requests).toBeGreaterThan(sum('requests'));
  });

  it('alerts re-read in the overlap and dropped as already sent are not counted as events, but as duplicates_dropped, summed over tenants', async () => {
    const w = await world({ tenants: 2, alertsPerTenant: 0 });
    const [a, b] = w.emu.tenants;
    w.emu.addAlerts(a!.id, 3, { raisedAt: w.emu.clock.now() - 5 * MIN });
    w.emu.addAlerts(b!.id, 2, { raisedAt: w.emu.clock.now() - 5 * MIN });
    expect(await run(w, config('alerts'), new MemorySink())).toMatchObject({ events: 5, duplicates_dropped: 0 });
    w.emu.clock.advance(5 * MIN);
    const again = new MemorySink();
    const second = await run(w, config('alerts'), again);
    expect(idsOf(again, 'sophos:central:alerts')).toEqual([]);
    expect(second).toMatchObject({ events: 0, pages: 2, duplicates_dropped: 5 });
    const dropped = Object.fromEntries(again.health('tenant_run').map((h) => [(h.tenant as { id: string }).id, [h.events, h.pages, h.duplicates_dropped]]));
    expect(dropped).toEqual({ [a!.id]: [0, 1, 3], [b!.id]: [0, 1, 2] });
    expect(again.health('run_summary')).toEqual([expect.objectContaining({ events: 0, duplicates_dropped: 5 })]);
  });

  it.each(['alerts', 'events'] as const)('%s: a tenant with a backlog pauses at its time budget (the interval) and goes on next run, every item once', async (data) => {
    const w = await world({ tenants: 2, alertsPerTenant: 1000, eventsPerTenant: 1000 });
    const t0 = w.emu.clock.now();
    const want = new Map<string, string[]>();
    for (const t of w.emu.tenants) {
      // A tenant's first SIEM window starts 23h50 before that tenant starts, up to a few minutes after t0.
      want.set(t.id, data === 'alerts' ? await alertIds(w, t.id, t0 - 90 * DAY + MIN, t0 - MIN) : await eventIds(w, t.id, t0 - SIEM_FROM_DATE_WINDOW_MS + 10 * MIN));
    }
    const sink = new MemorySink();
    // Each page written takes 25 s of Sophos's clock. With a 60-second interval a tenant asks for no page
    // after its fourth has arrived (at 75 s): ten pages take three runs.
    const slow: EventSink = {
      write: async (records) => {
        if (records.some((r) => r.sourcetype !== 'sophos:central:health')) w.emu.clock.advance(25_000);
        await sink.write(records);
      },
    };
    const cfg = config(data, { intervalSeconds: 60, pageSize: 100, tenantConcurrency: 1 });
    const runs: RunSummary[] = [];
    for (let n = 0; n < 10; n++) {
      const logs = w.logs.length;
      const summary = await runCollection({ client: w.client, config: cfg, stanza: 'sophos_central://e2e', sink: slow, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
      runs.push(summary);
      if (summary.tenants_paused > 0) {
        expect(w.logs.slice(logs)).toContainEqual(expect.stringMatching(/tenants paused at their time budget \(the interval, 60 s\) and go on next run$/));
      }
      if (summary.tenants_paused === 0) break;
      w.emu.clock.advance(MIN);
    }
    expect(runs.map((r) => [r.status, r.tenants_paused])).toEqual([['ok', 2], ['ok', 2], ['ok', 0]]);
    const paused = sink.health('tenant_run').filter((h) => h.paused === true);
    expect(paused).toHaveLength(4);
    for (const h of paused) expect(h).toMatchObject({ status: 'ok', pages: 4 });
    const sourcetype = `sophos:central:${data}`;
    expectNoDuplicates(idsOf(sink, sourcetype));
    for (const t of w.emu.tenants) {
      const got = new Set(sink.events(sourcetype).filter((e) => (e.tenant as { id: string }).id === t.id).map((e) => e.id as string));
      expect(want.get(t.id)!.length).toBeGreaterThan(900);
      for (const id of want.get(t.id)!) expect(got.has(id)).toBe(true);
    }
  });

  it('alerts: a storm inside the overlap, more pages than a budget reads, still moves on: every run sends a budget of new alerts', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 0 });
    const tenant = w.emu.tenants[0]!.id;
    const t0 = w.emu.clock.now();
    // Ten pages of alerts raised in one second, then ten pages of later ones.
    const storm = [...w.emu.addAlerts(tenant, 1000, { raisedAt: t0 - 10 * MIN }), ...w.emu.addAlerts(tenant, 1000, { raisedAt: t0 - 5 * MIN })];
    // Every page read costs 20 s of Sophos's clock, written or not: a budget of 60 s reads about three.
    const forTenant = w.client.forTenant.bind(w.client);
    w.client.forTenant = (t) => {
      const api = forTenant(t);
      return Object.assign(Object.create(api) as TenantApi, {
        alertPages: (q: Parameters<TenantApi['alertPages']>[0]) => ({
          async *[Symbol.asyncIterator]() {
            for await (const page of api.alertPages(q)) {
              w.emu.clock.advance(20_000);
              yield page;
            }
          },
        }),
      });
    };
    const sink = new MemorySink();
    const cfg = config('alerts', { startDays: 1, intervalSeconds: 60, pageSize: 100 });
    const sent: number[] = [];
    for (let n = 0; n < 12; n++) {
      const before = sink.of('sophos:central:alerts').length;
      const summary = await runCollection({ client: w.client, config: cfg, stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
      sent.push(sink.of('sophos:central:alerts').length - before);
      if (summary.tenants_paused === 0) break;
      w.emu.clock.advance(MIN);
    }
    // Each paused run re-read the storm up to its mark, then sent new alerts for a budget (three pages at least).
    expect(sent.length).toBeGreaterThan(2);
    for (const n of sent.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(300);
    const got = idsOf(sink, 'sophos:central:alerts');
    expectNoDuplicates(got);
    expect(new Set(got)).toEqual(new Set(storm.map((a) => a.id)));
  });

  it('endpoints: a snapshot is never cut short by the time budget', async () => {
    const w = await world({ tenants: 1, endpointsPerTenant: 1200 });
    const sink = new MemorySink();
    const slow: EventSink = {
      write: async (records) => {
        w.emu.clock.advance(45_000);
        await sink.write(records);
      },
    };
    const summary = await runCollection({ client: w.client, config: config('endpoints', { intervalSeconds: 60 }), stanza: 'sophos_central://e2e', sink: slow, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
    expect(summary).toMatchObject({ status: 'ok', tenants_paused: 0, events: 1200 });
  });

  it('a run stopped by a failing sink leaves no tenant-list read retrying on the closed client', async () => {
    const w = await world({ tenants: 250, alertsPerTenant: 1 });
    // Page 2 of the tenant list keeps failing; its retries wait 100-200 ms each.
    w.emu.faults.add({ route: 'partner-tenants', kind: 503, nth: [2, 3, 4, 5, 6, 7] });
    const lines: string[] = [];
    const logger: Logger = { debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const client = emulatorClient(w.emu, { retryBaseDelayMs: 200, retryMaxDelayMs: 200, logger });
    const sink = new MemorySink();
    sink.failFromWrite = 1;
    const summary = await runCollection({ client, config: config('alerts', { tenantConcurrency: 1 }), stanza: 'sophos_central://e2e', sink, store: w.store, logger, now: () => w.emu.clock.now() }).catch((err: unknown) => err);
    expect(summary).toBeInstanceOf(Error);
    await client.close();
    const after = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(lines.slice(after)).toEqual([]);
    expect(w.emu.requests.filter((r) => r.route === 'partner-tenants').length).toBeLessThan(7);
  });

  it('tenant_concurrency collects that many tenants at once', async () => {
    const w = await world({ tenants: 12, alertsPerTenant: 3, latencyMs: 150 });
    const client = emulatorClient(w.emu, { concurrency: { total: 12 } });
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, w.emu.requests.filter((r) => r.route === 'alerts' && r.status === 0).length);
    }, 10);
    try {
      const sink = new MemorySink();
      const summary = await runCollection({ client, config: config('alerts', { tenantConcurrency: 12 }), stanza: 'sophos_central://wide', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
      expect(summary).toMatchObject({ status: 'ok', tenants_ok: 12 });
    } finally {
      clearInterval(sampler);
      await client.close();
    }
    // Each tenant has one page: with four at once (the default) no more than four alert requests wait together.
    expect(peak).toBeGreaterThan(4);
  });

  it('a tenant removed from the list during the run does not push another one off a page still to read', async () => {
    // 150 tenants: two list pages of 100. One tenant at a time, so page 2 would be read only after 100 tenants.
    const w = await world({ tenants: 150, alertsPerTenant: 1 });
    const leaving = w.emu.tenants[1]!.id;
    const sink = new MemorySink();
    const collected = new Set<string>();
    const watching: EventSink = {
      write: async (records) => {
        for (const r of records) {
          const h = JSON.parse(r.data) as { type?: string; tenant?: { id: string } };
          if (h.type === 'tenant_run') collected.add(h.tenant!.id);
        }
        // The partner removes a tenant already collected while the fifth is being collected.
        if (collected.size === 4) w.emu.removeTenant(leaving);
        await sink.write(records);
      },
    };
    const summary = await runCollection({ client: w.client, config: config('alerts', { tenantConcurrency: 1 }), stanza: 'sophos_central://e2e', sink: watching, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
    expect(summary).toMatchObject({ status: 'ok', tenants: 150, tenants_ok: 150 });
    expect(new Set(sink.health('tenant_run').map((h) => (h.tenant as { id: string }).id))).toEqual(new Set(w.emu.tenants.map((t) => t.id)));
  });

  it('a failing tenant does not block the others and its checkpoint does not move; a refused host gets no request', async () => {
    const w = await world({ maliciousApiHost: true });
    const bad = w.emu.tenants[1]!.id;
    w.emu.faults.add({ route: 'alerts', kind: 503, rate: 1, tenantId: bad, retryAfterSeconds: 0 });
    const sink = new MemorySink();
    const summary = await run(w, config('alerts'), sink);
    expect(summary.status).toBe('partial');
    const byTenant = new Map(sink.health('tenant_run').map((h) => [(h.tenant as { id: string }).id, h]));
    expect(byTenant.get(bad)).toMatchObject({ status: 'error', error_code: 'TA_ERR_SERVER' });
    const refused = [...byTenant.values()].filter((h) => h.error_code === 'TA_ERR_REFUSED_HOST');
    expect(refused).toHaveLength(1);
    expect(w.emu.requests.filter((r) => r.listener === 'trap')).toHaveLength(0);
    const ok = [...byTenant.values()].filter((h) => h.status === 'ok');
    expect(ok.length).toBe(w.emu.tenants.length - 2);
    for (const h of ok) expect(h.events as number).toBeGreaterThan(0);
    expect(await w.store.load(checkpointKey('sophos_central://e2e', 'alerts', bad))).toBeUndefined();
    expect(sink.health('run_summary')[0]).toMatchObject({ status: 'partial', tenants_failed: 2 });
    // Once the tenant recovers, its alerts arrive, and nobody else's twice.
    w.emu.faults.clear();
    await run(w, config('alerts'), sink);
    expect(sink.events('sophos:central:alerts').some((a) => (a.tenant as { id: string }).id === bad)).toBe(true);
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
    expect(w.logs.join('\n')).not.toContain(w.emu.clientSecret);
    expect(sink.records.map((r) => r.data).join('\n')).not.toContain(w.emu.clientSecret);
  });

  it('a region that fails tenant after tenant is given up for the run: its other tenants are not tried and wait for the next run, the healthy region is not held back', async () => {
    const w = await world({ tenants: 20, regions: ['eu01', 'us01'], alertsPerTenant: 20 });
    const down = w.emu.tenants.filter((t) => t.dataRegion === 'us01');
    expect(down.length).toBeGreaterThanOrEqual(8);
    for (const t of down) w.emu.faults.add({ route: 'alerts', kind: 503, rate: 1, tenantId: t.id, retryAfterSeconds: 0 });
    const sink = new MemorySink();
    const summary = await run(w, config('alerts'), sink);
    expect(summary.status).toBe('partial');
    const runs = sink.health('tenant_run');
    const inRegion = (h: Record<string, unknown>) => down.some((t) => t.id === (h.tenant as { id: string }).id);
    expect(runs.filter((h) => !inRegion(h)).every((h) => h.status === 'ok')).toBe(true);
    const tried = runs.filter((h) => inRegion(h) && h.error_code === 'TA_ERR_SERVER');
    const skipped = runs.filter((h) => inRegion(h) && h.error_code === 'TA_ERR_HOST_DOWN');
    // Three failures in a row give the host up; the tenants already at work there when it happens still fail on their own.
    expect(tried.length).toBeGreaterThanOrEqual(HOST_FAILURES_TO_GIVE_UP);
    expect(tried.length).toBeLessThanOrEqual(HOST_FAILURES_TO_GIVE_UP + DEFAULT_TENANT_CONCURRENCY - 1);
    expect(skipped.length).toBe(down.length - tried.length);
    for (const h of skipped) {
      expect(h).toMatchObject({ status: 'error', requests: 0 });
      expect(h.error).toMatch(/^not tried: [3-6] tenants in a row failed on http:\/\/127\.0\.0\.1:\d+ this run \(last: .*503.*\); collected again next run/);
    }
    expect(w.logs.filter((l) => l.startsWith('WARN') && l.includes('giving up'))).toEqual([
      expect.stringMatching(/^WARN giving up http:\/\/127\.0\.0\.1:\d+ for the rest of this run: 3 tenants in a row failed there; its other tenants are not tried \(TA_ERR_HOST_DOWN\)/),
    ]);
    // The region is back: every one of its tenants is collected, none of their checkpoints having moved.
    w.emu.faults.clear();
    const again = new MemorySink();
    expect((await run(w, config('alerts'), again)).status).toBe('ok');
    for (const t of down) expect(again.events('sophos:central:alerts').some((a) => (a.tenant as { id: string }).id === t.id)).toBe(true);
  });

  it("tenants whose requests each fail with Sophos's own 500 give up no region host: its healthy tenants are collected, run after run", async () => {
    const w = await world({ tenants: 6, regions: ['eu01'], alertsPerTenant: 5 });
    // The tenant list comes in a stable order: the same three fail first every run.
    const broken = w.emu.tenants.slice(0, 3).map((t) => t.id);
    for (const id of broken) w.emu.faults.add({ route: 'alerts', kind: 500, rate: 1, tenantId: id, retryAfterSeconds: 0 });
    for (let n = 0; n < 2; n++) {
      const sink = new MemorySink();
      await runCollection({ client: w.client, config: config('alerts'), stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now(), concurrency: 1 });
      const runs = sink.health('tenant_run');
      expect(runs.filter((h) => broken.includes((h.tenant as { id: string }).id)).map((h) => h.error_code)).toEqual(['TA_ERR_SERVER', 'TA_ERR_SERVER', 'TA_ERR_SERVER']);
      expect(runs.filter((h) => !broken.includes((h.tenant as { id: string }).id)).map((h) => h.status)).toEqual(['ok', 'ok', 'ok']);
    }
    expect(w.logs.some((l) => l.includes('giving up'))).toBe(false);
  });

  it('the token service failing mid-run gives up no region host: its failures are not the region\'s', async () => {
    const w = await world({ tenants: 8, regions: ['eu01'], alertsPerTenant: 5 });
    await w.client.whoami();
    w.emu.faults.add({ route: 'token', kind: 503, rate: 1 });
    // The first alerts request finds its token revoked: every tenant then needs a token the service refuses.
    w.emu.faults.add({ route: 'alerts', kind: 'expire-token', nth: [1] });
    const sink = new MemorySink();
    await runCollection({ client: w.client, config: config('alerts'), stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now(), concurrency: 1 });
    expect(w.emu.requests.filter((r) => r.route === 'alerts' && r.status >= 500)).toHaveLength(0);
    const codes = sink.health('tenant_run').map((h) => h.error_code);
    expect(codes).toHaveLength(8);
    expect(codes).not.toContain('TA_ERR_HOST_DOWN');
    expect(w.logs.some((l) => l.includes('giving up'))).toBe(false);
  });

  it('stopped half-way (SIGTERM), then run again: every alert once', async () => {
    const w = await world({ tenants: 2 });
    const t0 = w.emu.clock.now();
    const sink = new MemorySink();
    const stopping = stopAfterAlerts(sink, 150);
    const first = await runCollection({ client: w.client, config: config('alerts'), stanza: 'sophos_central://e2e', sink: stopping.sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now(), signal: stopping.signal });
    expect(first.status).toBe('aborted');
    const partial = sink.of('sophos:central:alerts').length;
    await run(w, config('alerts'), sink);
    const want: string[] = [];
    for (const t of w.emu.tenants) want.push(...(await alertIds(w, t.id, t0 - 90 * DAY + MIN, t0 - MIN)));
    expect(partial).toBeLessThan(want.length);
    expect(idsOf(sink, 'sophos:central:alerts').sort()).toEqual(want.sort());
  });

  it('stopped (SIGTERM) with tenants still to start: those stopped count as aborted, not failed, and those not started get no record', async () => {
    const w = await world({ tenants: 5 });
    const sink = new MemorySink();
    const stopping = stopAfterAlerts(sink, 100);
    const first = await runCollection({ client: w.client, config: config('alerts'), stanza: 'sophos_central://e2e', sink: stopping.sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now(), signal: stopping.signal, concurrency: 2 });
    const records = sink.health('tenant_run');
    expect(first).toMatchObject({ status: 'aborted', tenants_failed: 0 });
    expect(first.tenants_aborted).toBeGreaterThanOrEqual(1);
    expect(first.tenants).toBeLessThanOrEqual(2);
    expect(records).toHaveLength(first.tenants);
    expect(records.filter((h) => h.status === 'aborted')).toHaveLength(first.tenants_aborted);
    expect(records.every((h) => h.status !== 'error' && h.error_code === undefined)).toBe(true);
  });

  it('alerts newest first (an API that ignores sort=raisedAt:asc), stopped half-way and then run again: every alert once, with a WARN', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 400, alertsOrder: 'newest-first' });
    const t0 = w.emu.clock.now();
    const sink = new MemorySink();
    const stopping = stopAfterAlerts(sink, 50);
    const first = await runCollection({ client: w.client, config: config('alerts', { startDays: 30, pageSize: 25 }), stanza: 'sophos_central://e2e', sink: stopping.sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now(), signal: stopping.signal });
    expect(first.status).toBe('aborted');
    expect(w.logs.filter((l) => l.includes('came newest first or out of order'))).toHaveLength(1);
    w.emu.clock.advance(5 * MIN);
    await run(w, config('alerts', { startDays: 30, pageSize: 25 }), sink);
    const want = await alertIds(w, w.emu.tenants[0]!.id, t0 - 30 * DAY, t0 - MIN);
    expect(want.length).toBeGreaterThan(100);
    const ids = idsOf(sink, 'sophos:central:alerts');
    expect(new Set(ids)).toEqual(new Set(want));
    expect(ids).toHaveLength(new Set(ids).size);
    expect(w.logs.some((l) => l.includes('data gap'))).toBe(false);
    // A complete run moves the mark on as usual: the next run reads only its overlap.
    const before = sink.of('sophos:central:alerts').length;
    w.emu.clock.advance(5 * MIN);
    expect((await run(w, config('alerts', { startDays: 30, pageSize: 25 }), sink)).status).toBe('ok');
    expect(sink.of('sophos:central:alerts').length).toBe(before);
  });

  it('a crash between writing a page and saving its checkpoint repeats at most that page', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 400 });
    const t0 = w.emu.clock.now();
    const sink = new MemorySink();
    // A store whose second save "crashes": the second page is written, its checkpoint is not.
    const crashing = new MemoryCheckpointStore();
    let saves = 0;
    const save = crashing.save.bind(crashing);
    crashing.save = async (key, value) => {
      if (++saves === 2) throw new Error('killed');
      return save(key, value);
    };
    const first = await run(w, config('alerts'), sink, { store: crashing });
    expect(first.status).toBe('error');
    saves = -1000;
    await run(w, config('alerts'), sink, { store: crashing });
    const ids = idsOf(sink, 'sophos:central:alerts');
    const want = await alertIds(w, w.emu.tenants[0]!.id, t0 - 90 * DAY + MIN, t0 - MIN);
    expect(new Set(ids)).toEqual(new Set(want));
    expect(ids.length - want.length).toBeGreaterThan(0);
    expect(ids.length - want.length).toBeLessThanOrEqual(100);
  });

  it('an idle tenant costs one checkpoint save per run, and its window still completes', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 30 });
    const { store, saves } = countingStore();
    const sink = new MemorySink();
    await run(w, config('alerts'), sink, { store });
    w.emu.clock.advance(5 * MIN);
    saves.count = 0;
    await run(w, config('alerts'), sink, { store });
    expect(saves.count).toBe(1);
    const saved = await store.load<{ hwm: number }>(checkpointKey('sophos_central://e2e', 'alerts', w.emu.tenants[0]!.id));
    // A minute before Sophos's clock on the last page, which its Date header gives in whole seconds.
    expect(saved!.hwm).toBe(Math.floor(w.emu.clock.now() / 1000) * 1000 - MIN);
  });

  it('re-reading an overlap that holds nothing new rewrites no checkpoint until the window completes', async () => {
    // An alert storm inside the overlap: each page of it would otherwise rewrite every ID of the storm, run after run.
    const w = await world({ tenants: 1, alertsPerTenant: 0 });
    const tenant = w.emu.tenants[0]!.id;
    w.emu.addAlerts(tenant, 250, { raisedAt: w.emu.clock.now() - 10 * MIN });
    const { store, saves } = countingStore();
    const sink = new MemorySink();
    await run(w, config('alerts'), sink, { store });
    expect(idsOf(sink, 'sophos:central:alerts')).toHaveLength(250);
    w.emu.clock.advance(MIN);
    saves.count = 0;
    const again = await run(w, config('alerts'), sink, { store });
    expect(again.pages).toBe(3);
    expect(saves.count).toBe(1);
    // A new alert on the last page of the re-read is still saved with it, and sent once.
    w.emu.clock.advance(MIN);
    const [late] = w.emu.addAlerts(tenant, 1, { raisedAt: w.emu.clock.now() - 2 * MIN });
    saves.count = 0;
    await run(w, config('alerts'), sink, { store });
    expect(saves.count).toBe(1);
    const ids = idsOf(sink, 'sophos:central:alerts');
    expectNoDuplicates(ids);
    expect(ids).toContain(late!.id);
  });

  it.each([
    ['stays ahead', 20 * MIN],
    ['is corrected before the next run', 0],
  ])('a host clock 20 minutes ahead loses no alert when it %s: the mark follows Sophos\'s clock', async (_n, laterSkew) => {
    const w = await world({ tenants: 2, alertsPerTenant: 20 });
    const sink = new MemorySink();
    expect((await run(w, config('alerts'), sink, { skewMs: 20 * MIN })).status).toBe('ok');
    w.emu.clock.advance(2 * MIN);
    const fresh = w.emu.tenants.map((t) => t.id).flatMap((id) => w.emu.addAlerts(id, 3));
    for (let n = 0; n < 3; n++) {
      w.emu.clock.advance(5 * MIN);
      expect((await run(w, config('alerts'), sink, { skewMs: laterSkew })).status).toBe('ok');
    }
    const ids = idsOf(sink, 'sophos:central:alerts');
    expectNoDuplicates(ids);
    for (const a of fresh) expect(ids).toContain(a.id);
    expect(ids).toHaveLength(2 * 20 + fresh.length);
    expect(sink.health('checkpoint_reset')).toEqual([]);
  });

  it('overlap_minutes catches alerts that reach the API later than the default 15 minutes, still once', async () => {
    const w = await world({ tenants: 1 });
    const sink = new MemorySink();
    const cfg = config('alerts', { overlapMinutes: 60 });
    await run(w, cfg, sink);
    const t1 = w.emu.clock.now();
    w.emu.clock.advance(5 * MIN);
    // Raised 40 minutes before the last run ended, visible only now.
    const late = w.emu.addAlerts(w.emu.tenants[0]!.id, 3, { raisedAt: t1 - 40 * MIN });
    const before = sink.records.length;
    await run(w, cfg, sink);
    expect(idsOf(sink, 'sophos:central:alerts', before).sort()).toEqual(late.map((a) => a.id).sort());
    w.emu.clock.advance(5 * MIN);
    await run(w, cfg, sink);
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
  });

  it('a checkpoint file of an unknown shape is set aside as *.corrupt-<time>, named in the checkpoint_reset record, not overwritten', async () => {
    const w = await world({ tenants: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
    try {
      const store = new FileCheckpointStore(dir);
      const key = checkpointKey('sophos_central://e2e', 'alerts', w.emu.tenants[0]!.id);
      // A hand edit: the mark as a date string instead of epoch ms.
      const edited = { v: 1, hwm: '2026-01-10T11:00:00.000Z', seen: {}, savedAt: 1 };
      await store.save(key, edited);
      const sink = new MemorySink();
      await run(w, config('alerts', { startDays: 3 }), sink, { store });
      const aside = readdirSync(dir).filter((n) => n.includes('.corrupt-'));
      expect(aside).toEqual([expect.stringMatching(new RegExp(`^${checkpointFileName(key).replace(/[.]/g, '\\.')}\\.corrupt-`))]);
      expect(JSON.parse(readFileSync(join(dir, aside[0]!), 'utf8')).value).toEqual(edited);
      expect(sink.health('checkpoint_reset')).toEqual([
        expect.objectContaining({ reason: `checkpoint ${key} has an unknown shape and was set aside as ${join(dir, aside[0]!)}` }),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a checkpoint of an unknown shape restarts as a first run, once, with a checkpoint_reset record', async () => {
    const w = await world({ tenants: 1 });
    const key = checkpointKey('sophos_central://e2e', 'alerts', w.emu.tenants[0]!.id);
    await w.store.save(key, { v: 7, mark: 'from a future version' });
    const sink = new MemorySink();
    await run(w, config('alerts', { startDays: 3 }), sink);
    const [reset, ...more] = sink.health('checkpoint_reset');
    expect(more).toEqual([]);
    expect(reset).toMatchObject({ data: 'alerts', reason: `checkpoint ${key} has an unknown shape` });
    // Sophos's clock, as measured from the Date header (whole seconds): up to a second early.
    const restartFrom = Date.parse(reset!.restart_from as string);
    expect(restartFrom).toBeLessThanOrEqual(w.emu.clock.now() - 3 * DAY);
    expect(restartFrom).toBeGreaterThan(w.emu.clock.now() - 3 * DAY - 1000);
    w.emu.clock.advance(5 * MIN);
    await run(w, config('alerts', { startDays: 3 }), sink);
    expect(sink.health('checkpoint_reset')).toHaveLength(1);
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
  });

  it('a mark saved in the future, then the clock set back: new alerts still arrive, with a checkpoint_reset record', async () => {
    const w = await world({ tenants: 2 });
    const sink = new MemorySink();
    expect((await run(w, config('alerts'), sink, { skewMs: 2 * DAY })).status).toBe('ok');
    w.emu.clock.advance(5 * MIN);
    expect((await run(w, config('alerts'), sink, { skewMs: 2 * DAY })).status).toBe('ok');
    // The mark a clock two days ahead saved before it was held to Sophos's Date header (or with a server
    // that sends none): this run's window end.
    for (const t of w.emu.tenants) {
      const key = checkpointKey('sophos_central://e2e', 'alerts', t.id);
      const saved = (await w.store.load<{ hwm: number }>(key))!;
      await w.store.save(key, { ...saved, hwm: w.emu.clock.now() + 2 * DAY - MIN });
    }
    const newestBefore = new Map<string, number>();
    for (const a of sink.events('sophos:central:alerts')) {
      const id = (a.tenant as { id: string }).id;
      newestBefore.set(id, Math.max(newestBefore.get(id) ?? 0, Date.parse(a.raisedAt as string)));
    }
    const before = sink.records.length;

    // NTP corrects the clock; alerts keep coming, one of them late.
    w.emu.clock.advance(30 * MIN);
    const tenant = w.emu.tenants[0]!.id;
    const fresh = [...w.emu.addAlerts(tenant, 5, { raisedAt: w.emu.clock.now() - 10 * MIN }), ...w.emu.addAlerts(w.emu.tenants[1]!.id, 3, { raisedAt: w.emu.clock.now() - 20 * MIN })];
    expect((await run(w, config('alerts'), sink)).status).toBe('ok');
    const got = sink.records.slice(before).filter((r) => r.sourcetype === 'sophos:central:alerts').map((r) => JSON.parse(r.data) as { id: string; raisedAt: string; tenant: { id: string } });
    for (const a of fresh) expect(got.map((g) => g.id)).toContain(a.id);
    // Repeats are bounded by one overlap before the newest alert the ahead runs emitted for that tenant.
    for (const g of got) if (!fresh.some((a) => a.id === g.id)) expect(Date.parse(g.raisedAt)).toBeGreaterThanOrEqual(newestBefore.get(g.tenant.id)! - 15 * MIN);
    const resets = sink.health('checkpoint_reset');
    expect(resets.map((r) => (r.tenant as { id: string }).id).sort()).toEqual(w.emu.tenants.map((t) => t.id).sort());
    expect(resets[0]).toMatchObject({ data: 'alerts', stanza: 'sophos_central://e2e' });
    expect(w.logs.filter((l) => l.startsWith('WARN alerts of tenant')).length).toBe(2);

    // The next run is back to normal: no second reset, and nothing twice.
    w.emu.clock.advance(5 * MIN);
    const again = w.emu.addAlerts(tenant, 2, { raisedAt: w.emu.clock.now() - 3 * MIN });
    const third = sink.records.length;
    await run(w, config('alerts'), sink);
    expect(sink.health('checkpoint_reset')).toHaveLength(2);
    expect(idsOf(sink, 'sophos:central:alerts', third).sort()).toEqual(again.map((a) => a.id).sort());
  });
});

describe('SIEM events end to end', () => {
  it('every event once across runs, exclude_types applied, time = when, tenant added', async () => {
    const w = await world({ tenants: 2 });
    const t0 = w.emu.clock.now();
    const tenant = w.emu.tenants[0]!.id;
    const all = await eventIds(w, tenant, t0 - SIEM_FROM_DATE_WINDOW_MS);
    const sample = new MemorySink();
    await run(w, config('events', { tenants: [tenant] }), sample);
    const types = [...new Set(sample.events('sophos:central:events').map((e) => e.type as string))];
    expect(types.length).toBeGreaterThan(1);
    const excluded = types[0]!;

    const w2 = await world({ tenants: 2 });
    const sink = new MemorySink();
    await run(w2, config('events', { excludeTypes: [excluded] }), sink);
    const want: string[] = [];
    for (const t of w2.emu.tenants) want.push(...(await eventIds(w2, t.id, t0 - SIEM_FROM_DATE_WINDOW_MS, [excluded])));
    expect(all.length).toBeGreaterThan(300);
    expect(new Set(idsOf(sink, 'sophos:central:events'))).toEqual(new Set(want));
    expect(sink.events('sophos:central:events').some((e) => e.type === excluded)).toBe(false);

    w2.emu.clock.advance(5 * MIN);
    const added = w2.emu.addEvents(w2.emu.tenants[1]!.id, 25);
    const before = sink.records.length;
    await run(w2, config('events', { excludeTypes: [excluded] }), sink);
    const fresh = idsOf(sink, 'sophos:central:events', before);
    expect(new Set(fresh)).toEqual(new Set(added.filter((e) => e.type !== excluded).map((e) => e.id)));
    expectNoDuplicates(idsOf(sink, 'sophos:central:events'));
    for (const r of sink.of('sophos:central:events')) {
      const e = JSON.parse(r.data) as { when: string; customer_id: string; tenant: { id: string; name: string } };
      expect(r.time).toBe(Date.parse(e.when) / 1000);
      expect(e.tenant.id).toBe(r.tenantId);
      expect(e.tenant.name).toBe(w2.emu.tenants.find((t) => t.id === r.tenantId)!.name);
    }
  });

  it('a saved position older than 24 hours yields a data_gap record with its bounds, then resumes', async () => {
    const w = await world({ tenants: 1 });
    const sink = new MemorySink();
    await run(w, config('events'), sink);
    const stopped = w.emu.clock.now();
    // Ingested an hour after the input stopped, and out of the API's 24 hours by the next run.
    w.emu.clock.advance(HOUR);
    const lost = w.emu.addEvents(w.emu.tenants[0]!.id, 5);
    // Ingested 6 h 5 min after it stopped: 23 h 55 min old at the next run, which the API still serves, and a
    // restart by from_date (ten minutes inside the 24 hours) would not reach.
    w.emu.clock.advance(5 * HOUR + 5 * MIN);
    const edge = w.emu.addEvents(w.emu.tenants[0]!.id, 4);
    w.emu.clock.advance(23 * HOUR + 55 * MIN);
    const kept = w.emu.addEvents(w.emu.tenants[0]!.id, 6, { when: w.emu.clock.now() - 2 * HOUR });
    const before = sink.records.length;
    const summary = await run(w, config('events'), sink);
    expect(summary.data_gaps).toBe(1);
    const [gap] = sink.health('data_gap');
    expect(gap).toMatchObject({ data: 'events', tenant: { id: w.emu.tenants[0]!.id } });
    expect(gap!.reason).toMatch(/the saved position being older than that when the run began$/);
    expect(Date.parse(gap!.gap_start as string)).toBeGreaterThanOrEqual(stopped - 2 * MIN);
    expect(Date.parse(gap!.gap_start as string)).toBeLessThanOrEqual(stopped);
    // The saved cursor is answered from the API's last 24 hours: on Sophos's clock as this host measures it
    // from the Date header, rounded down to the second, whose last millisecond errs towards a longer gap.
    expect(Date.parse(gap!.gap_end as string)).toBeLessThan(w.emu.clock.now() - SIEM_WINDOW_MS + 1000);
    expect(Date.parse(gap!.gap_end as string)).toBeGreaterThanOrEqual(w.emu.clock.now() - SIEM_WINDOW_MS);
    const fresh = new Set(idsOf(sink, 'sophos:central:events', before));
    for (const e of [...edge, ...kept]) expect(fresh.has(e.id)).toBe(true);
    for (const e of lost) expect(fresh.has(e.id)).toBe(false);
    // The gap is reported once, not on every run after it.
    w.emu.clock.advance(5 * MIN);
    await run(w, config('events'), sink);
    expect(sink.health('data_gap')).toHaveLength(1);
  });

  it('a saved cursor past 24 hours whose run then fails for the tenant: that run reports what aged out and keeps the cursor; the next reports only the rest', async () => {
    const w = await world({ tenants: 1 });
    const tenant = w.emu.tenants[0]!.id;
    const sink = new MemorySink();
    await run(w, config('events'), sink);
    const stopped = w.emu.clock.now();
    // 23 h 57 min old at the last run below: still served, through the saved cursor.
    w.emu.clock.advance(6 * HOUR + 8 * MIN);
    const edge = w.emu.addEvents(tenant, 3);
    w.emu.clock.advance(23 * HOUR + 52 * MIN);
    w.emu.faults.add({ route: 'siem-events', kind: 403, rate: 1, tenantId: tenant });
    const failedAt = w.emu.clock.now();
    await run(w, config('events'), sink);
    w.emu.faults.clear();
    // Reported while the tenant still fails, not only once it recovers, however long that takes.
    const [aged, ...none] = sink.health('data_gap');
    expect(none).toEqual([]);
    expect(Date.parse(aged!.gap_start as string)).toBeLessThanOrEqual(stopped);
    expect(Date.parse(aged!.gap_end as string)).toBeGreaterThanOrEqual(failedAt - SIEM_WINDOW_MS - DATE_RESOLUTION_MS);
    expect(aged!.reason).toMatch(/failed \(.*403.*\) while its position aged past them$/);
    w.emu.clock.advance(5 * MIN);
    const before = sink.records.length;
    await run(w, config('events'), sink);
    const [, rest, ...more] = sink.health('data_gap');
    expect(more).toEqual([]);
    // End to end: from where the failing run's report ended to what the API now serves.
    expect(rest!.gap_start).toBe(aged!.gap_end);
    expect(Date.parse(rest!.gap_end as string)).toBeGreaterThanOrEqual(w.emu.clock.now() - SIEM_WINDOW_MS);
    const fresh = new Set(idsOf(sink, 'sophos:central:events', before));
    for (const e of edge) expect(fresh.has(e.id)).toBe(true);
  });

  it('data gaps of many tenants: five WARN lines of their own, then one counting the rest (at DEBUG), each in its data_gap record', async () => {
    const w = await world({ tenants: 8, eventsPerTenant: 10 });
    const sink = new MemorySink();
    await run(w, config('events'), sink);
    w.emu.clock.advance(30 * HOUR);
    w.logs.length = 0;
    const summary = await run(w, config('events'), sink);
    expect(summary.data_gaps).toBe(8);
    expect(sink.health('data_gap')).toHaveLength(8);
    const warnings = w.logs.filter((l) => l.startsWith('WARN'));
    expect(warnings).toHaveLength(6);
    for (const line of warnings.slice(0, 5)) expect(line).toMatch(/^WARN data gap for events of tenant /);
    expect(warnings[5]).toBe(
      'WARN stanza sophos_central://e2e: 3 more tenant warnings (data gaps, checkpoint restarts) this run, logged at DEBUG only; for alerts and events each has its data_gap or checkpoint_reset health record',
    );
    expect(w.logs.filter((l) => /^DEBUG data gap for events of tenant /.test(l))).toHaveLength(3);
  });

  /**
   * One tenant collected once, its saved cursor then swapped for one the API refuses and 30 events added five
   * minutes later, and the run that meets the refusal; this host's clock `skewMs` ahead throughout.
   */
  async function afterRefusedCursor(skewMs = 0) {
    const w = await world({ tenants: 1 });
    const tenant = w.emu.tenants[0]!.id;
    const key = checkpointKey('sophos_central://e2e', 'events', tenant);
    const sink = new MemorySink();
    await run(w, config('events'), sink, { skewMs });
    const saved = await refuseCursor<{ cursor: string; position: number }>(w, key);
    w.emu.clock.advance(5 * MIN);
    const added = w.emu.addEvents(tenant, 30);
    const before = sink.records.length;
    const summary = await run(w, config('events'), sink, { skewMs });
    return { w, key, sink, saved, added, summary, fresh: idsOf(sink, 'sophos:central:events', before) };
  }

  it('a saved cursor the API refuses: resumed from its position by from_date, once, with a checkpoint_reset record', async () => {
    const { w, key, sink, saved, added, summary, fresh } = await afterRefusedCursor();
    expect(summary.status).toBe('ok');
    expect(new Set(fresh)).toEqual(new Set(added.map((e) => e.id)));
    expectNoDuplicates(idsOf(sink, 'sophos:central:events'));
    const [reset] = sink.health('checkpoint_reset');
    expect(reset).toMatchObject({ data: 'events', reason: expect.stringMatching(/^Sophos Central refused the saved cursor \(.*not a valid cursor/) });
    expect(Date.parse(reset!.restart_from as string)).toBe(saved.position);
    // The next run goes on from the API's own cursor again.
    expect((await w.store.load<{ cursor: string }>(key))!.cursor).toMatch(/^[A-Za-z0-9+/=]+$/);
    w.emu.clock.advance(5 * MIN);
    await run(w, config('events'), sink);
    expect(sink.health('checkpoint_reset')).toHaveLength(1);
  });

  it("a refused cursor with this host's clock two hours ahead: the from_date restart is moved to Sophos's clock, nothing is skipped", async () => {
    const { summary, added, fresh } = await afterRefusedCursor(2 * HOUR);
    expect(summary.status).toBe('ok');
    expect(new Set(fresh)).toEqual(new Set(added.map((e) => e.id)));
  });

  it.each([
    ['20 minutes ahead', 20 * MIN, 23 * HOUR + 45 * MIN],
    ['8 minutes behind', -8 * MIN, 23 * HOUR + 56 * MIN],
  ])("a forwarder clock %s: a cursor just inside the 24 hours is resumed, with no gap reported", async (_n, skewMs, away) => {
    const w = await world({ tenants: 1 });
    const tenant = w.emu.tenants[0]!.id;
    const sink = new MemorySink();
    await run(w, config('events'), sink, { skewMs });
    w.emu.clock.advance(1000);
    const fresh = w.emu.addEvents(tenant, 5);
    w.emu.clock.advance(away);
    const before = sink.records.length;
    expect(await run(w, config('events'), sink, { skewMs })).toMatchObject({ status: 'ok', data_gaps: 0 });
    const got = idsOf(sink, 'sophos:central:events', before);
    for (const e of fresh) expect(got).toContain(e.id);
  });

  /** Runs `events` with a 60 s interval and a sink that takes 25 s of Sophos's clock per page: each run pauses mid-stream. */
  async function pausingRun(w: World, sink: MemorySink, skewMs: number) {
    const slow: EventSink = {
      write: async (records) => {
        if (records.some((r) => r.sourcetype === 'sophos:central:events')) w.emu.clock.advance(25_000);
        await sink.write(records);
      },
    };
    w.skewMs = skewMs;
    const cfg = config('events', { intervalSeconds: 60, pageSize: 100, tenantConcurrency: 1 });
    return runCollection({ client: w.client, config: cfg, stanza: 'sophos_central://e2e', sink: slow, store: w.store, logger: w.logger, now: () => w.emu.clock.now() + skewMs });
  }

  it.each([['30 minutes behind', -30 * MIN], ['30 minutes ahead', 30 * MIN]])(
    'a forwarder clock %s: a refused cursor after a pause mid-stream resumes where the pause left off, nothing skipped',
    async (_n, skewMs) => {
      const w = await world({ tenants: 1, eventsPerTenant: 1000 });
      const tenant = w.emu.tenants[0]!.id;
      const want = await eventIds(w, tenant, w.emu.clock.now() - SIEM_FROM_DATE_WINDOW_MS + 10 * MIN);
      const key = checkpointKey('sophos_central://e2e', 'events', tenant);
      const sink = new MemorySink();
      expect(await pausingRun(w, sink, skewMs)).toMatchObject({ tenants_paused: 1 });
      await refuseCursor(w, key);
      for (let n = 0; n < 10 && (await pausingRun(w, sink, skewMs)).tenants_paused > 0; n++);
      const got = new Set(idsOf(sink, 'sophos:central:events'));
      expect(want.filter((id) => !got.has(id))).toEqual([]);
      expect(sink.health('data_gap')).toEqual([]);
    },
  );

  it("a forwarder clock 30 minutes ahead: a cursor 23h40 old by Sophos's clock, saved mid-stream, is still trusted", async () => {
    const w = await world({ tenants: 1, eventsPerTenant: 1000 });
    const key = checkpointKey('sophos_central://e2e', 'events', w.emu.tenants[0]!.id);
    const sink = new MemorySink();
    expect(await pausingRun(w, sink, 30 * MIN)).toMatchObject({ tenants_paused: 1 });
    const { position } = (await w.store.load<{ position: number }>(key))!;
    w.emu.clock.set(position + 23 * HOUR + 40 * MIN);
    const before = idsOf(sink, 'sophos:central:events').length;
    expect(await pausingRun(w, sink, 30 * MIN)).toMatchObject({ status: 'ok', data_gaps: 0 });
    expect(idsOf(sink, 'sophos:central:events').length).toBeGreaterThan(before);
    expectNoDuplicates(idsOf(sink, 'sophos:central:events'));
  });

  it("a checkpoint of an earlier release, its position on this host's clock two hours ahead: nothing skipped after an upgrade", async () => {
    const w = await world({ tenants: 1 });
    const tenant = w.emu.tenants[0]!.id;
    const key = checkpointKey('sophos_central://e2e', 'events', tenant);
    const sink = new MemorySink();
    await run(w, config('events'), sink, { skewMs: 2 * HOUR });
    // What an earlier release saved when caught up: v 1, the position the time asked, by this host's clock.
    await w.store.save(key, { v: 1, cursor: Buffer.from('V3_CURSOR|unknown').toString('base64'), position: w.emu.clock.now() + 2 * HOUR, savedAt: w.emu.clock.now() + 2 * HOUR });
    w.emu.clock.advance(5 * MIN);
    const added = w.emu.addEvents(tenant, 10);
    const before = sink.records.length;
    expect((await run(w, config('events'), sink, { skewMs: 2 * HOUR })).status).toBe('ok');
    const fresh = idsOf(sink, 'sophos:central:events', before);
    for (const e of added) expect(fresh).toContain(e.id);
  });

  it.each([
    ['10 minutes ahead, a position from a created_at (Sophos\'s clock)', 10 * MIN, false],
    ['30 minutes behind, a caught-up position (this host\'s clock)', -30 * MIN, true],
  ])(
    "an earlier release's checkpoint near the 24-hour limit, a forwarder clock %s: its cursor is still trusted, no gap, nothing missing",
    async (_n, skewMs, hostClock) => {
      const w = await world({ tenants: 1, eventsPerTenant: 2000 });
      const tenant = w.emu.tenants[0]!.id;
      const key = checkpointKey('sophos_central://e2e', 'events', tenant);
      // The cursor 23h55 old by Sophos's clock; the position saved with it on the clock the test names.
      const at = w.emu.clock.now() - 23 * HOUR - 55 * MIN;
      const position = hostClock ? at + skewMs : at;
      await w.store.save(key, { v: 1, cursor: Buffer.from(`V2_CURSOR|${new Date(at).toISOString()}`).toString('base64'), position, savedAt: at + skewMs });
      const want = await eventIds(w, tenant, at + 1000);
      const sink = new MemorySink();
      expect(await run(w, config('events'), sink, { skewMs })).toMatchObject({ status: 'ok', data_gaps: 0 });
      const got = new Set(idsOf(sink, 'sophos:central:events'));
      expect(want.filter((id) => !got.has(id))).toEqual([]);
    },
  );

  it('a forwarder clock set back two hours during a retry: the saved position stays at Sophos\'s time, nothing skipped later', async () => {
    // Few events: the one page is the caught-up page whose request is retried.
    const w = await world({ tenants: 1, eventsPerTenant: 50 });
    const tenant = w.emu.tenants[0]!.id;
    const key = checkpointKey('sophos_central://e2e', 'events', tenant);
    let skew = 2 * HOUR;
    // NTP corrects the clock while the client waits to retry a 503.
    const client = emulatorClient(w.emu, { now: () => w.emu.clock.now() + skew, sleep: async () => void (skew = 0), logger: w.logger });
    try {
      const sink = new MemorySink();
      w.emu.faults.add({ route: 'siem-events', kind: 503, nth: [1] });
      await runCollection({ client, config: config('events'), stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now() + skew });
      const saved = await refuseCursor<{ position: number }>(w, key);
      expect(saved.position).toBeLessThanOrEqual(w.emu.clock.now());
      w.emu.clock.advance(5 * MIN);
      const added = w.emu.addEvents(tenant, 10);
      const before = sink.records.length;
      await runCollection({ client, config: config('events'), stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now() + skew });
      const fresh = idsOf(sink, 'sophos:central:events', before);
      for (const e of added) expect(fresh).toContain(e.id);
    } finally {
      await client.close();
    }
  });

  it("a forwarder clock 30 minutes behind: the first run's from_date is still inside Sophos's 24 hours", async () => {
    const w = await world({ tenants: 1 });
    const t0 = w.emu.clock.now();
    const want = await eventIds(w, w.emu.tenants[0]!.id, t0 - SIEM_FROM_DATE_WINDOW_MS + 1000);
    const sink = new MemorySink();
    // The emulator refuses a from_date older than its 24 hours (siemStaleFromDate: 'reject').
    expect(await run(w, config('events'), sink, { skewMs: -30 * MIN })).toMatchObject({ status: 'ok', data_gaps: 0 });
    const got = new Set(idsOf(sink, 'sophos:central:events'));
    for (const id of want) expect(got.has(id)).toBe(true);
  });

  it('a 400 about something else is not taken for a refused cursor: the tenant fails and its cursor stays', async () => {
    const w = await world({ tenants: 1 });
    const key = checkpointKey('sophos_central://e2e', 'events', w.emu.tenants[0]!.id);
    const sink = new MemorySink();
    await run(w, config('events'), sink);
    const saved = await w.store.load(key);
    w.emu.clock.advance(5 * MIN);
    // The emulator's SIEM limit is 1000: 5000 is refused with or without a cursor.
    const summary = await run(w, config('events', { pageSize: 5000 }), sink);
    expect(summary.status).toBe('error');
    expect(sink.health('tenant_run').at(-1)).toMatchObject({ status: 'error', error_code: 'TA_ERR_BAD_REQUEST' });
    expect(sink.health('checkpoint_reset')).toEqual([]);
    expect(await w.store.load(key)).toEqual(saved);
  });

  it('a 400 after pages were written fails the tenant: not asked again by from_date, and the next run goes on from the last page saved', async () => {
    const w = await world({ tenants: 1 });
    const tenant = w.emu.tenants[0]!.id;
    const sink = new MemorySink();
    await run(w, config('events'), sink);
    w.emu.clock.advance(5 * MIN);
    const added = w.emu.addEvents(tenant, 250);
    w.emu.clock.advance(MIN);
    w.emu.faults.add({ route: 'siem-events', kind: 400, nth: [2] });
    const before = w.emu.requests.length;
    const summary = await run(w, config('events'), sink);
    expect(summary.status).toBe('error');
    expect(sink.health('tenant_run').at(-1)).toMatchObject({ status: 'error', error_code: 'TA_ERR_BAD_REQUEST', pages: 1 });
    const asked = w.emu.requests.slice(before).filter((r) => r.route === 'siem-events');
    expect(asked.map((r) => [r.status, r.query.from_date !== undefined])).toEqual([[200, false], [400, false]]);
    expect(sink.health('checkpoint_reset')).toEqual([]);
    expect(sink.health('data_gap')).toEqual([]);
    await run(w, config('events'), sink);
    const ids = idsOf(sink, 'sophos:central:events');
    expect(new Set(ids).size).toBe(ids.length);
    expect(added.filter((e) => !ids.includes(e.id))).toEqual([]);
  });

  /**
   * An events run resumed 23h58m45s after the last (its cursor still trusted), after `added` events came in,
   * where five 429s of 30 s on the requests `nth` take the position past the API's 24 hours. Waits pass on the
   * emulator's clock, as Sophos's time, and take `realWaitMs` of real time each.
   */
  async function agedCursorRun(opts: { added: number; nth: number[]; realWaitMs?: number }) {
    const w = await world({ tenants: 1 });
    const client = emulatorClient(w.emu, {
      sleep: async (ms) => {
        if (opts.realWaitMs) await new Promise((resolve) => setTimeout(resolve, opts.realWaitMs));
        w.emu.clock.advance(ms);
      },
      now: () => w.emu.clock.now(),
      logger: w.logger,
    });
    try {
      const runWith = (sink: MemorySink) =>
        runCollection({ client, config: config('events'), stanza: 'sophos_central://e2e', sink, store: w.store, logger: w.logger, now: () => w.emu.clock.now() });
      const sink = new MemorySink();
      await runWith(sink);
      w.emu.clock.advance(1000);
      const added = w.emu.addEvents(w.emu.tenants[0]!.id, opts.added);
      w.emu.clock.advance(24 * HOUR - 75_000);
      w.emu.faults.add({ route: 'siem-events', kind: 429, nth: opts.nth, retryAfterSeconds: 30 });
      const before = idsOf(sink, 'sophos:central:events').length;
      const summary = await runWith(sink);
      return { sink, added, summary, got: new Set(idsOf(sink, 'sophos:central:events').slice(before)) };
    } finally {
      await client.close();
    }
  }

  it('retries that take a cursor past 24 hours: the span the API skipped is a data_gap record, not a silence', async () => {
    // The first request and its retries meet the 429s.
    const { sink, added: lost, summary } = await agedCursorRun({ added: 10, nth: [1, 2, 3, 4, 5] });
    expect(summary).toMatchObject({ status: 'ok', data_gaps: 1 });
    const [gap] = sink.health('data_gap');
    expect(gap!.reason).toMatch(/the position asked for having aged past them before it answered/);
    for (const e of lost) expect(Date.parse(e.created_at as string)).toBeLessThan(Date.parse(gap!.gap_end as string));
    expect(Date.parse(gap!.gap_end as string) - Date.parse(gap!.gap_start as string)).toBeGreaterThan(60_000);
  });

  it('a later page whose retries take the position past 24 hours: that span is a data_gap record too', async () => {
    // Page 1 comes at once; page 2 meets the 429s. Waits take a little real time, as waits do: the page before
    // is handled before the retries of the next one end.
    const { sink, added, summary, got } = await agedCursorRun({ added: 250, nth: [2, 3, 4, 5, 6], realWaitMs: 50 });
    expect(got.size).toBe(100);
    expect(summary).toMatchObject({ status: 'ok', data_gaps: 1 });
    const [gap] = sink.health('data_gap');
    expect(gap!.reason).toMatch(/the position asked for having aged past them before it answered/);
    const start = Date.parse(gap!.gap_start as string);
    const end = Date.parse(gap!.gap_end as string);
    const lost = added.filter((e) => !got.has(e.id));
    expect(lost).toHaveLength(150);
    for (const e of lost) {
      const created = Date.parse(e.created_at as string);
      expect(created).toBeGreaterThanOrEqual(start);
      expect(created).toBeLessThan(end);
    }
  });
});

describe('endpoints and tenants end to end', () => {
  it('SIGTERM while the tenant list is read: aborted, with the run line at INFO, not ERROR', async () => {
    const w = await world({ tenants: 230, endpointsPerTenant: 1, alertsPerTenant: 0, eventsPerTenant: 0 });
    const stop = new AbortController();
    const client = emulatorClient(w.emu, { logger: w.logger, signal: stop.signal, now: () => w.emu.clock.now() });
    try {
      // Page 2 of the tenant list never answers; splunkd stops the input meanwhile.
      w.emu.faults.add({ route: 'partner-tenants', kind: 'stall', nth: [2] });
      setTimeout(() => stop.abort(), 300);
      const summary = await runCollection({ client, config: config('endpoints'), stanza: 'sophos_central://e2e', sink: new MemorySink(), store: w.store, logger: w.logger, signal: stop.signal, now: () => w.emu.clock.now() });
      expect(summary.status).toBe('aborted');
      expect(w.logs.filter((l) => l.startsWith('ERROR'))).toEqual([]);
      expect(w.logs).toContainEqual(expect.stringMatching(/^INFO stanza sophos_central:\/\/e2e endpoints: aborted, \d+\/\d+ tenants ok, \d+ events: Stopped/));
    } finally {
      await client.close();
    }
  });

  it('tenants entries that name no tenant get a WARN line and tenants_unmatched, while the others are collected', async () => {
    const w = await world({ tenants: 3 });
    const [first] = w.emu.tenants;
    const unknownId = '0b5a3f2e-1111-4222-8333-444455556666';
    const sink = new MemorySink();
    const summary = await run(w, config('endpoints', { tenants: [first!.name.toUpperCase(), `${first!.name}x`, unknownId] }), sink);
    expect(summary).toMatchObject({ status: 'ok', tenants: 1, tenants_unmatched: [`${first!.name}x`, unknownId] });
    expect(sink.health('run_summary')[0]).toMatchObject({ tenants_unmatched: [`${first!.name}x`, unknownId] });
    expect(w.logs.filter((l) => l.startsWith('WARN'))).toEqual([
      `WARN stanza sophos_central://e2e: tenants lists "${first!.name}x", "${unknownId}", but no tenant of this credential has that name or ID: check their spelling against the tenant names and IDs of the sophos:central:tenants events`,
    ]);
    // Every entry matched: no field, no line.
    w.logs.length = 0;
    const again = await run(w, config('endpoints', { tenants: [first!.id] }), new MemorySink());
    expect(again.tenants_unmatched).toBeUndefined();
    expect(w.logs.filter((l) => l.startsWith('WARN'))).toEqual([]);
  });

  it("a tenant credential named by a name: the WARN line says to use its ID, since the API gives it none", async () => {
    const w = await world({ tenants: 1, idType: 'tenant' });
    const own = w.emu.tenants[0]!;
    const summary = await run(w, config('endpoints', { tenants: [own.name] }), new MemorySink());
    expect(summary).toMatchObject({ tenants: 0, tenants_unmatched: [own.name] });
    expect(w.logs.filter((l) => l.startsWith('WARN'))).toEqual([
      `WARN stanza sophos_central://e2e: tenants lists "${own.name}", but no tenant of this credential has that name or ID: this tenant credential's one tenant has no name in the API, so name it by its ID, ${own.id}`,
    ]);
    expect(await run(w, config('endpoints', { tenants: [own.id] }), new MemorySink())).toMatchObject({ status: 'ok', tenants: 1 });
  });

  it.each(['endpoints', 'tenants'] as const)('%s: a tenant list that breaks off at page 3 collects the 200 tenants listed before: partial, counted, one ERROR line', async (data) => {
    const w = await world({ tenants: 230, endpointsPerTenant: 1, alertsPerTenant: 0, eventsPerTenant: 0 });
    // Page 3 of the partner's tenant list and every retry of it fail.
    w.emu.faults.add({ route: 'partner-tenants', kind: 500, nth: [3, 4, 5, 6, 7, 8] });
    const sink = new MemorySink();
    const summary = await run(w, config(data), sink);
    expect(summary).toMatchObject({ status: 'partial', tenants: 200, tenants_ok: 200, events: 200, error_code: 'TA_ERR_SERVER' });
    expect(sink.events(`sophos:central:${data}`)).toHaveLength(200);
    expect(sink.health('run_summary')).toEqual([expect.objectContaining({ status: 'partial', events: 200 })]);
    expect(w.logs.filter((l) => l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(new RegExp(`^ERROR stanza sophos_central://e2e ${data}: partial, 200/200 tenants ok, 200 events: Sophos Central had a server error after 6 attempts`)),
    ]);
  });

  it('a full snapshot per run with tenant {id,name}, and one event per tenant', async () => {
    const w = await world();
    const sink = new MemorySink();
    const s1 = await run(w, config('endpoints'), sink);
    await run(w, config('endpoints'), sink);
    expect(s1.events).toBe(w.emu.tenants.length * 30);
    const endpoints = sink.events('sophos:central:endpoints');
    expect(endpoints).toHaveLength(2 * w.emu.tenants.length * 30);
    for (const e of endpoints) expect((e.tenant as { name: string }).name).toBe(w.emu.tenants.find((t) => t.id === (e.tenant as { id: string }).id)!.name);
    expect(w.emu.requests.filter((r) => r.route === 'endpoints').every((r) => r.query.view === 'full')).toBe(true);
    const health = sink.health('tenant_run');
    expect(health.filter((h) => h.checkpoint_age_seconds === null)).toHaveLength(w.emu.tenants.length);

    const tenants = new MemorySink();
    const s = await run(w, config('tenants', { excludeTenants: [w.emu.tenants[0]!.name] }), tenants);
    expect(s.events).toBe(w.emu.tenants.length - 1);
    // The tenant list is the run's only data request; the summary counts it.
    expect(s.requests).toBeGreaterThanOrEqual(1);
    const events = tenants.events('sophos:central:tenants');
    expect(events.map((t) => t.id).sort()).toEqual(w.emu.tenants.slice(1).map((t) => t.id).sort());
    for (const t of events) expect(t.tenant).toEqual({ id: t.id, name: t.name });
  });

  it("tenants: the input's page_size is the tenant list's page size", async () => {
    const w = await world({ tenants: 20 });
    const sink = new MemorySink();
    // The summary counts the list's pages, as it counts a tenant's pages for the other data types.
    expect(await run(w, config('tenants', { pageSize: 7 }), sink)).toMatchObject({ status: 'ok', events: 20, pages: 3 });
    expect(w.emu.requests.filter((r) => r.route === 'partner-tenants').map((r) => `${r.query.page}:${r.query.pageSize}`)).toEqual(['1:7', '2:7', '3:7']);
    expect(new Set(sink.events('sophos:central:tenants').map((t) => t.id)).size).toBe(20);
  });

  it('endpoints: tenant_run names each snapshot by its time, so the latest complete one is found whole, not one cut short', async () => {
    const w = await world({ tenants: 2, endpointsPerTenant: 250 });
    const [cut, whole] = w.emu.tenants;
    const sink = new MemorySink();
    await run(w, config('endpoints', { pageSize: 100 }), sink);
    w.emu.clock.advance(60 * MIN);
    // The second run of one tenant breaks off at its third page.
    w.emu.faults.add({ route: 'endpoints', kind: 403, nth: [3], tenantId: cut!.id });
    await run(w, config('endpoints', { pageSize: 100 }), sink);

    const runs = sink.health('tenant_run');
    const snapshotOf = (tenantId: string, time: number) =>
      sink.of('sophos:central:endpoints').filter((r) => r.time === time && r.tenantId === tenantId).map((r) => (JSON.parse(r.data) as { id: string }).id);
    for (const t of [cut!, whole!]) {
      const mine = runs.filter((h) => (h.tenant as { id: string }).id === t.id);
      expect(mine.map((h) => h.status)).toEqual(t === cut ? ['ok', 'error'] : ['ok', 'ok']);
      // Every event of a run's snapshot carries its tenant_run's snapshot_time, complete or not.
      expect(mine.map((h) => snapshotOf(t.id, h.snapshot_time as number).length)).toEqual(t === cut ? [250, 200] : [250, 250]);
      // The latest complete snapshot: the newest snapshot_time of a tenant_run with status ok; all 250 devices.
      const latest = Math.max(...mine.filter((h) => h.status === 'ok').map((h) => h.snapshot_time as number));
      expect(latest).toBe(mine[t === cut ? 0 : 1]!.snapshot_time);
      expect(new Set(snapshotOf(t.id, latest)).size).toBe(250);
    }
  });

  it('alerts: widening overlap_minutes between runs repeats no alert, and still catches a late one inside the new overlap later on', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 0 });
    const tenant = w.emu.tenants[0]!.id;
    const t0 = w.emu.clock.now();
    const sent = w.emu.addAlerts(tenant, 5, { raisedAt: t0 - 30 * MIN });
    const sink = new MemorySink();
    await run(w, config('alerts', { startDays: 1 }), sink);
    expect(idsOf(sink, 'sophos:central:alerts').sort()).toEqual(sent.map((a) => a.id).sort());
    w.emu.clock.advance(5 * MIN);
    await run(w, config('alerts', { startDays: 1, overlapMinutes: 60 }), sink);
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
    // Two hours on, the full hour applies: an alert that shows up 50 minutes late is caught.
    w.emu.clock.advance(2 * 60 * MIN);
    await run(w, config('alerts', { startDays: 1, overlapMinutes: 60 }), sink);
    const late = w.emu.addAlerts(tenant, 1, { raisedAt: w.emu.clock.now() - 50 * MIN });
    w.emu.clock.advance(5 * MIN);
    const before = sink.records.length;
    await run(w, config('alerts', { startDays: 1, overlapMinutes: 60 }), sink);
    expect(idsOf(sink, 'sophos:central:alerts', before)).toEqual(late.map((a) => a.id));
    expectNoDuplicates(idsOf(sink, 'sophos:central:alerts'));
  });

  it('an alert raised a minute before the run starts comes with that run, though the Date header rounds the clock down', async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 0 });
    const tenant = w.emu.tenants[0]!.id;
    // A first run measures the skew: Sophos's clock at .950 of a second reads as the whole second before it.
    w.emu.clock.set(Math.floor(w.emu.clock.now() / 1000) * 1000 + 950);
    const sink = new MemorySink();
    await run(w, config('alerts', { startDays: 1 }), sink);
    w.emu.clock.advance(5 * MIN);
    const t0 = w.emu.clock.now();
    const edge = [...w.emu.addAlerts(tenant, 1, { raisedAt: t0 - MIN }), ...w.emu.addAlerts(tenant, 1, { raisedAt: t0 - MIN - 500 })];
    const before = sink.records.length;
    await run(w, config('alerts', { startDays: 1 }), sink);
    expect(idsOf(sink, 'sophos:central:alerts', before).sort()).toEqual(edge.map((a) => a.id).sort());
  });

  it("a forwarder clock 30 minutes behind: an alert raised five minutes ago comes with this run, not half an hour later", async () => {
    const w = await world({ tenants: 1, alertsPerTenant: 3 });
    const sink = new MemorySink();
    await run(w, config('alerts'), sink, { skewMs: -30 * MIN });
    w.emu.clock.advance(5 * MIN);
    const fresh = w.emu.addAlerts(w.emu.tenants[0]!.id, 2, { raisedAt: w.emu.clock.now() - 5 * MIN });
    const before = sink.records.length;
    await run(w, config('alerts'), sink, { skewMs: -30 * MIN });
    const got = idsOf(sink, 'sophos:central:alerts', before);
    expect(got.sort()).toEqual(fresh.map((a) => a.id).sort());
  });

  it("a host clock minutes off Sophos's: one WARN line and clock_skew_s in the run summary; a few seconds: neither", async () => {
    const w = await world({ tenants: 2, alertsPerTenant: 3 });
    for (const [skew, warned] of [[-20 * MIN, true], [5000, false]] as const) {
      const client = emulatorClient(w.emu, { now: () => w.emu.clock.now() + skew });
      try {
        const sink = new MemorySink();
        const logs: string[] = [];
        const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) };
        const summary = await runCollection({ client, config: config('alerts'), stanza: 'sophos_central://skew', sink, store: new MemoryCheckpointStore(), logger, now: () => w.emu.clock.now() + skew });
        const [record] = sink.health('run_summary');
        if (warned) {
          expect(summary.clock_skew_s).toBeGreaterThanOrEqual(-1201);
          expect(summary.clock_skew_s).toBeLessThanOrEqual(-1199);
          expect(record!.clock_skew_s).toBe(summary.clock_skew_s);
          expect(logs).toEqual([expect.stringMatching(/^stanza sophos_central:\/\/skew: this host's clock is 20 minutes behind Sophos Central's \(the Date of its answers\); .*synchronise the clock \(NTP\)$/)]);
        } else {
          expect(record).not.toHaveProperty('clock_skew_s');
          expect(logs).toEqual([]);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('health: a tenant_run per tenant with request counters and lag, and one run_summary', async () => {
    const w = await world();
    const sink = new MemorySink();
    const before = w.emu.requests.length;
    const summary = await run(w, config('alerts'), sink);
    const runs = sink.health('tenant_run');
    expect(runs).toHaveLength(w.emu.tenants.length);
    for (const h of runs) {
      expect(h).toMatchObject({ stanza: 'sophos_central://e2e', data: 'alerts', status: 'ok', retries: 0, rate_limited: 0, errors: 0 });
      expect(h.requests).toBe(h.pages);
      expect(h.lag_seconds as number).toBeGreaterThanOrEqual(60);
    }
    // The summary counts every request of the run: the tenants' pages plus token, whoami and tenant list.
    const made = w.emu.requests.slice(before);
    expect(runs.reduce((n, h) => n + (h.requests as number), 0)).toBe(made.filter((r) => r.route === 'alerts').length);
    expect(summary.requests).toBe(made.length);
    expect(made.some((r) => r.route === 'partner-tenants')).toBe(true);
    const [s] = sink.health('run_summary');
    expect(s).toMatchObject({ type: 'run_summary', status: 'ok', tenants: w.emu.tenants.length, tenants_ok: w.emu.tenants.length, events: summary.events });
    expect(s).not.toHaveProperty('results');
  });
});
