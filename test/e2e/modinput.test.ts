// The modular input end to end, exactly as splunkd runs it: bin/sophos_central.sh started by the splunkd stand-in
// with the <input> document, the XML stream parsed strictly, against the emulator (a partner with tenants in three
// regions, wall clock). Ground truth comes from the emulator's API (truth.ts).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../emulator/index.js';
import { alertTruth, eventTruth } from './truth.js';
import { EMU, EVENT_PAGE, PAGE, REGIONS, duplicates, health, ids, SOURCETYPE, startWorld, tenantOf, type World } from './world.js';
import { expectExactlyOnce } from './exactly-once.js';

const MIN = 60_000;

function checkpointFiles(w: World, stanza: string): string[] {
  return readdirSync(w.splunkd.checkpointDir).filter((f) => f.startsWith(`sophos_central_${stanza}_`));
}

describe('exactly once through the wrapper and the stand-in', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld(EMU);
  });
  afterAll(() => w.stop());

  it('spreads the tenants over three regions', () => {
    expect(new Set(w.emu.tenants.map((t) => t.dataRegion))).toEqual(new Set(REGIONS));
  });

  it('alerts: every alert in the window once across runs, new and late-arriving alerts included', async () => {
    const truth = await alertTruth(w.emu, 30);
    const first = await w.run('once_alerts', w.params('alerts', { start_days: '30', page_size: String(PAGE) }));
    expect(first.exitCode).toBe(0);
    const got = ids(first.records, SOURCETYPE.alerts);
    expectExactlyOnce(got, truth);
    expect(health(first.records, 'run_summary')[0]).toMatchObject({ status: 'ok', tenants: 4, tenants_ok: 4 });

    // New alerts, and alerts that show up late with a raisedAt inside the 15-minute overlap, before the first run's end.
    const now = w.emu.clock.now();
    const added = w.emu.tenants.flatMap((t) => [
      ...w.emu.addAlerts(t.id, 3, { raisedAt: now - 2 * MIN }),
      ...w.emu.addAlerts(t.id, 2, { raisedAt: now - 10 * MIN }),
    ]);
    const second = await w.run('once_alerts');
    expect(second.exitCode).toBe(0);
    expect(ids(second.records, SOURCETYPE.alerts).sort()).toEqual(added.map((a) => a.id).sort());
    const third = await w.run('once_alerts');
    expect(ids(third.records, SOURCETYPE.alerts)).toEqual([]);
    expect(duplicates([], [got, ids(second.records, SOURCETYPE.alerts)].flat())).toBe(0);
  });

  it('SIEM events: every event of the last 24 hours once across runs, new events included', async () => {
    const truth = await eventTruth(w.emu);
    const first = await w.run('once_events', w.params('events', { page_size: String(EVENT_PAGE) }));
    expect(first.exitCode).toBe(0);
    const got = ids(first.records, SOURCETYPE.events);
    expectExactlyOnce(got, truth);
    const added = w.emu.tenants.flatMap((t) => w.emu.addEvents(t.id, 7));
    const second = await w.run('once_events');
    expect(ids(second.records, SOURCETYPE.events).sort()).toEqual(added.map((e) => e.id).sort());
    const third = await w.run('once_events');
    expect(ids(third.records, SOURCETYPE.events)).toEqual([]);
    // Every event carries its tenant, the stream's time is `when`.
    for (const r of first.events.filter((e) => e.sourcetype === SOURCETYPE.events)) {
      const e = JSON.parse(r.data) as { when: string; tenant: { id: string; name: string } };
      expect(r.time).toBe(Date.parse(e.when) / 1000);
      expect(w.emu.tenants.find((t) => t.id === e.tenant.id)?.name).toBe(e.tenant.name);
    }
  });

  it('an interval below 60 set in inputs.conf (never validated by splunkd) still collects, with one WARN naming it', async () => {
    const r = await w.run('short_interval', w.params('tenants', { interval: '0' }));
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.tenants)).toHaveLength(EMU.tenants);
    expect(r.stderr.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([
      'WARN TA-sophos-central sophos_central://short_interval: interval must be at least 60 seconds (each run polls every tenant; shorter intervals only add load and 429 responses), got 0; collecting anyway: correct the interval in inputs.conf',
    ]);
  });

  it('tenants: the run_summary names the _time of its snapshot, so a list cut short (partial) is told from a complete one', async () => {
    w.emu.faults.add({ route: 'partner-tenants', kind: 403, nth: [2] });
    const r = await w.run('tenants_partial', w.params('tenants', { page_size: '1' }));
    w.emu.faults.clear();
    const times = new Set(r.events.filter((e) => e.sourcetype === SOURCETYPE.tenants).map((e) => e.time));
    expect(times.size).toBe(1);
    expect(health(r.records, 'run_summary')[0]).toMatchObject({ status: 'partial', snapshot_time: [...times][0] });
  });

  it('a parameter name mistyped in inputs.conf gets one WARN naming the parameter meant', async () => {
    const r = await w.run('typo_alerts', w.params('alerts', { start_day: '7' }));
    expect(r.exitCode).toBe(0);
    expect(r.stderr.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([
      'WARN TA-sophos-central sophos_central://typo_alerts: "start_day" is not a parameter of this input and is ignored, so start_days keeps its setting or default: did you mean start_days? Correct it in inputs.conf',
    ]);
  });

  it('endpoints and tenants: a full snapshot each run', async () => {
    for (const data of ['endpoints', 'tenants'] as const) {
      const a = await w.run(`snap_${data}`, w.params(data));
      const b = await w.run(`snap_${data}`);
      const expected = data === 'endpoints' ? EMU.tenants * EMU.endpointsPerTenant : EMU.tenants;
      expect(ids(a.records, SOURCETYPE[data])).toHaveLength(expected);
      expect(ids(b.records, SOURCETYPE[data]).sort()).toEqual(ids(a.records, SOURCETYPE[data]).sort());
    }
  });
});

describe('stderr stays one severity-prefixed line per message (splunkd.log logs any other line as ERROR)', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ seed: 'stderr-lines', tenants: 100, alertsPerTenant: 20, eventsPerTenant: 50, endpointsPerTenant: 2 });
  });
  afterAll(() => w.stop());
  const unprefixed = (stderr: string[]) => stderr.filter((l) => !/^(DEBUG|INFO|WARN|ERROR) /.test(l));

  it('with tenant_concurrency 32, every data type: no Node leak warning for the many waits on one stop signal', async () => {
    for (const data of ['alerts', 'events', 'endpoints'] as const) {
      const r = await w.run(`wide_${data}`, w.params(data, { tenant_concurrency: '32' }));
      expect(r.exitCode).toBe(0);
      expect(unprefixed(r.stderr)).toEqual([]);
    }
  });

  it('a warning Node emits becomes one WARN line', async () => {
    const preload = join(w.splunkd.splunkHome, 'emit-warning.cjs');
    writeFileSync(preload, "setTimeout(() => process.emitWarning('something odd', 'DeprecationWarning'), 50);\n");
    const r = await w.run('warned', w.params('tenants'), { env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(r.exitCode).toBe(0);
    expect(unprefixed(r.stderr)).toEqual([]);
    expect(r.stderr).toContainEqual(expect.stringMatching(/^WARN TA-sophos-central: Node\.js: DeprecationWarning: something odd$/));
  });
});

describe('splunkd handing an edit\'s validation the whole stanza (splunk-addon.md §1.6 leaves it open)', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ tenants: 2 }, {}, { editItems: 'stanza' });
  });
  afterAll(() => w.stop());

  it('an interval below 60 set in inputs.conf does not stop the masking edit: the secret leaves the stanza on the first run', async () => {
    const first = await w.run('short_masked', w.params('tenants', { interval: '30' }));
    expect(first.exitCode).toBe(0);
    expect(first.stderr.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(/^WARN TA-sophos-central sophos_central:\/\/short_masked: interval must be at least 60 seconds .*got 30; collecting anyway/),
    ]);
    expect(w.splunkd.stanzas.get('short_masked')!.params.client_secret).toBe('********');
    expect(w.splunkd.passwords.get(`sophos_central:${w.emu.clientId}:`)?.password).toBe(w.emu.clientSecret);
    expect((await w.run('short_masked')).exitCode).toBe(0);
    // An edit that sets an interval under 60 is still refused.
    const res = await w.splunkd.fetch(`/servicesNS/nobody/TA-sophos-central/data/inputs/sophos_central/short_masked?output_mode=json`, {
      method: 'POST',
      headers: { authorization: `Splunk ${w.splunkd.sessionKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'interval=20',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/interval must be at least 60 seconds/);
  });
});

describe('emulator faults: nothing lost', () => {
  let w: World;
  beforeAll(async () => {
    // A 1.5 s client timeout, so that a stalled request is retried within the test.
    w = await startWorld({ ...EMU, tenants: 3 }, { TA_SOPHOS_CENTRAL_HTTP_TIMEOUT_MS: '1500' });
  });
  afterAll(() => w.stop());

  const kinds: Array<FaultRule['kind']> = [429, 500, 502, 503, 504, 'drop', 'stall', 'truncate', 'expire-token'];
  it.each(kinds)('%s on alert and SIEM pages', async (kind) => {
    const alerts = await alertTruth(w.emu, 90);
    const events = await eventTruth(w.emu);
    // One revocation per route: a second one (requests 2 and 4 of four tenants at once) can refuse a request that
    // has already renewed before the revoking request has renewed, which reads as a 401 about the request.
    const nth = kind === 'expire-token' ? [2] : [2, 4];
    for (const route of ['alerts', 'siem-events']) w.emu.faults.add({ route, kind, nth, ...(kind === 429 || kind === 503 ? { retryAfterSeconds: 1 } : {}) });
    const name = `fault_${String(kind).replace('-', '_')}`;
    const ra = await w.run(`${name}_alerts`, w.params('alerts', { start_days: '90', page_size: String(PAGE) }));
    const re = await w.run(`${name}_events`, w.params('events', { page_size: String(EVENT_PAGE) }));
    w.emu.faults.clear();
    for (const r of [ra, re]) {
      expect(r.exitCode).toBe(0);
      expect(health(r.records, 'run_summary')[0]).toMatchObject({ status: 'ok' });
      expect(health(r.records, 'run_summary')[0]!.retries as number).toBeGreaterThanOrEqual(kind === 'expire-token' ? 0 : 1);
    }
    expectExactlyOnce(ids(ra.records, SOURCETYPE.alerts), alerts);
    expectExactlyOnce(ids(re.records, SOURCETYPE.events), events);
  });

  it.each([
    [503, 'TA_ERR_SERVER'],
    [403, 'TA_ERR_FORBIDDEN'],
  ] as const)('one tenant failing with repeated %s does not stop the others, and its checkpoint does not move', async (status, code) => {
    const bad = w.emu.tenants[1]!.id;
    const stanza = `failing${status}`;
    const first = await w.run(stanza, w.params('events', { page_size: String(EVENT_PAGE) }));
    expect(first.exitCode).toBe(0);
    const before = new Map(checkpointFiles(w, stanza).map((f) => [f, readFileSync(join(w.splunkd.checkpointDir, f), 'utf8')]));
    expect(before.size).toBe(3);
    for (const t of w.emu.tenants) w.emu.addEvents(t.id, 5);
    w.emu.faults.add({ route: 'siem-events', kind: status, rate: 1, tenantId: bad, retryAfterSeconds: 0 });
    const second = await w.run(stanza);
    w.emu.faults.clear();
    expect(second.exitCode).toBe(0);
    const runs = new Map(health(second.records, 'tenant_run').map((h) => [(h.tenant as { id: string }).id, h]));
    expect(runs.get(bad)).toMatchObject({ status: 'error', error_code: code });
    expect(health(second.records, 'run_summary')[0]).toMatchObject({ status: 'partial', tenants_ok: 2, tenants_failed: 1 });
    const got = second.records.filter((r) => r.sourcetype === SOURCETYPE.events);
    expect(got.filter((r) => tenantOf(r) !== bad)).toHaveLength(10);
    expect(got.filter((r) => tenantOf(r) === bad)).toHaveLength(0);
    // The bad tenant's checkpoint is byte for byte what it was; the others moved.
    const after = new Map(checkpointFiles(w, stanza).map((f) => [f, readFileSync(join(w.splunkd.checkpointDir, f), 'utf8')]));
    const unchanged = [...after].filter(([f, text]) => before.get(f) === text);
    expect(unchanged).toHaveLength(1);
    // Recovered: its five events arrive, once.
    const third = await w.run(stanza);
    expect(third.records.filter((r) => r.sourcetype === SOURCETYPE.events).map(tenantOf)).toEqual(Array(5).fill(bad));
  });
});

