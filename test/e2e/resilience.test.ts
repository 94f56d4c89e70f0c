// The modular input end to end, exactly as splunkd runs it (bin/sophos_central.sh under the splunkd stand-in),
// when things go wrong: kill -9 and SIGTERM mid-run, a corrupt checkpoint, a 25-hour pause, and where the
// secret goes. Ground truth comes from the emulator's API (truth.ts).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertTruth, eventTruth } from './truth.js';
import { EMU, EVENT_PAGE, PAGE, duplicates, health, ids, SOURCETYPE, startWorld, tenantOf, type World } from './world.js';
import { expectExactlyOnce } from './exactly-once.js';
import { filesUnder } from '../helpers/files.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function checkpointFiles(w: World, stanza: string): string[] {
  return readdirSync(w.splunkd.checkpointDir).filter((f) => f.startsWith(`sophos_central_${stanza}_`));
}

describe('stopped mid-run', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ ...EMU, tenants: 3, eventsPerTenant: 3000 });
  });
  afterAll(() => w.stop());

  it('kill -9 at random points, 24 times: no event lost, each kill repeating at most one page per tenant', async () => {
    // A fixed seed keeps the kill points reproducible.
    let seed = 20240501;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const truth = await eventTruth(w.emu);
    const params = w.params('events', { page_size: String(EVENT_PAGE) });
    const all = new Set([...truth.values()].flat());
    const seen = new Set<string>();
    let kills = 0;
    let killedAfterACheckpoint = 0;
    for (let i = 0; i < 24; i++) {
      // Anywhere in what is left to collect, so kills land on later pages and tenants too, not only the first page.
      const left = all.size - seen.size;
      const hadCheckpoint = checkpointFiles(w, 'kill9').length > 0;
      const r = await w.run('kill9', i === 0 ? params : undefined, { kill: { signal: 'SIGKILL', afterEvents: 1 + Math.floor(random() * left) } });
      if (r.signal === 'SIGKILL') {
        kills++;
        if (hadCheckpoint) killedAfterACheckpoint++;
      }
      const got = ids(r.records, SOURCETYPE.events);
      // What a kill repeats is the page each tenant had in flight, whose checkpoint it never saved.
      expect(got.filter((id) => seen.has(id)).length, `run ${i}`).toBeLessThanOrEqual(w.emu.tenants.length * EVENT_PAGE);
      for (const id of got) seen.add(id);
      // Keep new data coming so that later kills land mid-run too.
      for (const t of w.emu.tenants) for (const e of w.emu.addEvents(t.id, 20)) all.add(e.id);
    }
    const final = await w.run('kill9');
    expect(final.exitCode).toBe(0);
    for (const id of ids(final.records, SOURCETYPE.events)) seen.add(id);
    expect(kills).toBeGreaterThanOrEqual(12);
    expect(killedAfterACheckpoint).toBeGreaterThanOrEqual(10);
    expect([...all].filter((id) => !seen.has(id))).toEqual([]);
  });

  it('SIGTERM: exits 0 with the stream closed, the checkpoint consistent, and the next run loses nothing', async () => {
    const truth = await alertTruth(w.emu, 90);
    const params = w.params('alerts', { start_days: '90', page_size: String(PAGE) });
    // A slow emulator answer (Retry-After) keeps the run busy when SIGTERM arrives.
    w.emu.faults.add({ route: 'alerts', kind: 429, nth: [3], retryAfterSeconds: 2 });
    const stopped = await w.run('term', params, { kill: { signal: 'SIGTERM', afterEvents: 60 } });
    w.emu.faults.clear();
    expect(stopped.exitCode).toBe(0);
    expect(stopped.truncated).toBe(false);
    expect(stopped.stdout.trimEnd().endsWith('</stream>')).toBe(true);
    expect(stopped.stderr.at(-1)).toMatch(/stopped on SIGTERM after/);
    const partial = ids(stopped.records, SOURCETYPE.alerts);
    expect(partial.length).toBeLessThan([...truth.values()].flat().length);
    for (const f of checkpointFiles(w, 'term')) expect(() => JSON.parse(readFileSync(join(w.splunkd.checkpointDir, f), 'utf8'))).not.toThrow();
    const rest = await w.run('term');
    expect(rest.exitCode).toBe(0);
    expectExactlyOnce([...partial, ...ids(rest.records, SOURCETYPE.alerts)], truth);
  });

  it('SIGTERM while splunkd reads nothing from stdout: exits within the grace, and the next run loses nothing', async () => {
    const truth = await alertTruth(w.emu, 90);
    const params = w.params('alerts', { start_days: '90', page_size: String(PAGE) });
    // The pipe fills within the first second; SIGTERM comes two seconds after reading stopped.
    const started = Date.now();
    const stopped = await w.run('term-unread', params, { kill: { signal: 'SIGTERM', afterEvents: 1, stopReadingMs: 2_000 }, timeoutMs: 20_000 });
    const took = Date.now() - started;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stderr.join('\n')).toMatch(/stopped on SIGTERM after/);
    // The stop line still counts the tenants and the events written, though their health records cannot be sent.
    const count = /aborted, \d+\/(\d+) tenants ok, (\d+) events/.exec(stopped.stderr.join('\n'));
    expect(Number(count?.[1])).toBe(w.emu.tenants.length);
    expect(Number(count?.[2])).toBeGreaterThan(0);
    expect(Number(count?.[2])).toBeLessThanOrEqual(ids(stopped.records, SOURCETYPE.alerts).length);
    // 2 s before the signal, then STOP_GRACE_MS (5 s) for the write in hand: well before splunkd would kill it.
    expect(took).toBeLessThan(12_000);
    const rest = await w.run('term-unread');
    expect(rest.exitCode).toBe(0);
    const seen = [...ids(stopped.records, SOURCETYPE.alerts), ...ids(rest.records, SOURCETYPE.alerts)];
    const want = [...truth.values()].flat();
    expect(want.filter((id) => !seen.includes(id))).toEqual([]);
    // What was given up is repeated: at most the batch each tenant had in hand.
    expect(duplicates([], seen)).toBeLessThanOrEqual(w.emu.tenants.length * PAGE);
  });
});

describe('state and secrets', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ ...EMU, tenants: 2 });
  });
  afterAll(() => w.stop());

  it('a corrupt checkpoint is set aside with a warning and collection restarts from its safe point, twice in a row without a crash loop', async () => {
    const params = w.params('events', { page_size: String(EVENT_PAGE) });
    const first = await w.run('corrupt', params);
    const [victim] = checkpointFiles(w, 'corrupt');
    writeFileSync(join(w.splunkd.checkpointDir, victim!), '{"key": "truncated');
    const second = await w.run('corrupt');
    expect(second.exitCode).toBe(0);
    expect(second.stderr.some((l) => /^WARN .*corrupt/i.test(l))).toBe(true);
    const [aside] = readdirSync(w.splunkd.checkpointDir).filter((f) => f.startsWith(`${victim!}.corrupt-`));
    expect(aside).toBeDefined();
    // The index says so too: the restart repeats that tenant's last 24 hours.
    const [reset, ...more] = health(second.records, 'checkpoint_reset');
    expect(more).toEqual([]);
    expect(reset).toMatchObject({ data: 'events', stanza: 'sophos_central://corrupt', reason: expect.stringContaining(`set aside as ${join(w.splunkd.checkpointDir, aside!)}`) });
    expect(reset!.checkpoint_mark).toBeUndefined();
    expect(Date.now() - Date.parse(reset!.restart_from as string)).toBeGreaterThan(23 * 3_600_000);
    // That tenant starts again from 24 hours back: all of its events arrive again, the other tenant's none.
    const tenantOfVictim = new Set(second.records.filter((r) => r.sourcetype === SOURCETYPE.events).map(tenantOf));
    expect(tenantOfVictim.size).toBe(1);
    const [tid] = tenantOfVictim;
    const again = ids(second.records, SOURCETYPE.events);
    expect(new Set(again)).toEqual(new Set(ids(first.records.filter((r) => r.sourcetype === SOURCETYPE.events && tenantOf(r) === tid), SOURCETYPE.events)));
    expect(again.length).toBeGreaterThan(0);
    const third = await w.run('corrupt');
    expect(third.exitCode).toBe(0);
    expect(ids(third.records, SOURCETYPE.events)).toEqual([]);
    expect(health(third.records, 'checkpoint_reset')).toEqual([]);
    expect(third.stderr.some((l) => l.startsWith('WARN'))).toBe(false);
  });

  it('a saved SIEM position older than 24 hours yields one data_gap record, then collection resumes', async () => {
    const params = w.params('events', { page_size: String(EVENT_PAGE) });
    await w.run('gap', params);
    // The input was off for 25 hours: move every saved position of this stanza back by 25 hours.
    for (const f of checkpointFiles(w, 'gap')) {
      const path = join(w.splunkd.checkpointDir, f);
      const env = JSON.parse(readFileSync(path, 'utf8')) as { value: { position: number; cursor?: string } };
      expect(typeof env.value.position).toBe('number');
      env.value.position -= 25 * HOUR;
      delete env.value.cursor;
      writeFileSync(path, JSON.stringify(env));
    }
    const r = await w.run('gap');
    expect(r.exitCode).toBe(0);
    const gaps = health(r.records, 'data_gap');
    expect(gaps).toHaveLength(2);
    for (const g of gaps) {
      expect(g).toMatchObject({ data: 'events', stanza: 'sophos_central://gap' });
      expect(g.gap_seconds as number).toBeGreaterThan(HOUR / 1000 - 120);
    }
    expect(health(r.records, 'run_summary')[0]).toMatchObject({ data_gaps: 2 });
    expect(r.stderr.some((l) => /^WARN .*gap/i.test(l) || /data gap/i.test(l))).toBe(true);
  });

  it('the secret and the session key end up only in storage/passwords', async () => {
    const runs = [];
    for (const data of ['tenants', 'endpoints', 'alerts', 'events'] as const) {
      runs.push(await w.run(`secret_${data}`, w.params(data, { start_days: '2' }), { env: { TA_SOPHOS_CENTRAL_LOG_LEVEL: 'DEBUG' } }));
      runs.push(await w.run(`secret_${data}`, undefined, { env: { TA_SOPHOS_CENTRAL_LOG_LEVEL: 'DEBUG' } }));
    }
    expect(runs.map((r) => r.exitCode)).toEqual(Array(8).fill(0));
    // A failing run too (a wrong secret stored): its error messages must not carry that secret either.
    const entry = [...w.splunkd.passwords.values()][0]!;
    const wrong = 'Wr0ng-S3cret-For-The-Error-Path';
    entry.password = wrong;
    const failed = await w.run('secret_events', undefined, { env: { TA_SOPHOS_CENTRAL_LOG_LEVEL: 'DEBUG' } });
    entry.password = w.emu.clientSecret;
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.join('\n')).toMatch(/refused the API credential/);
    // Said once, with the run's summary; not again by the process around it.
    expect(failed.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/: stanza sophos_central:\/\/secret_events events: error, 0\/0 tenants ok, 0 events: Sophos Central refused the API credential/)]);
    runs.push(failed);
    const stored = [...w.splunkd.passwords.values()];
    expect(stored).toEqual([{ app: 'TA-sophos-central', realm: 'sophos_central', username: w.emu.clientId, password: w.emu.clientSecret }]);
    for (const data of ['tenants', 'endpoints', 'alerts', 'events']) expect(w.splunkd.stanzas.get(`secret_${data}`)!.params.client_secret).toBe('********');
    const log = readFileSync(join(w.splunkd.splunkHome, 'var', 'log', 'splunk', 'ta_sophos_central.log'), 'utf8');
    expect(log).toMatch(/ DEBUG /);
    const checkpoints = filesUnder(w.splunkd.checkpointDir).map((f) => readFileSync(f, 'utf8'));
    expect(checkpoints.length).toBeGreaterThan(0);
    const places: Record<string, string> = {
      stdout: runs.map((r) => r.stdout).join('\n'),
      stderr: runs.flatMap((r) => r.stderr).join('\n'),
      log,
      checkpoints: checkpoints.join('\n'),
      stanzas: JSON.stringify([...w.splunkd.stanzas.values()]),
      'splunkd request log': JSON.stringify(w.splunkd.requests),
      'emulator request log': JSON.stringify(w.emu.requests),
    };
    for (const [where, text] of Object.entries(places)) {
      expect(text.length, where).toBeGreaterThan(0);
      expect(text.includes(w.emu.clientSecret), `secret in ${where}`).toBe(false);
      expect(text.includes(wrong), `wrong secret in ${where}`).toBe(false);
      expect(text.includes(w.splunkd.sessionKey), `session key in ${where}`).toBe(false);
    }
  });
});
