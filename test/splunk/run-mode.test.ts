// Run mode end to end: the stand-in plays splunkd and runs a bundle of the real run mode with a small sample
// collection (test/splunk/fixtures/sample-input.ts), so secret handling, checkpoints, the XML stream and SIGTERM
// are tested exactly as splunkd would see them.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoint/file-store.js';
import { checkpointKey } from '../../src/checkpoint/keys.js';
import { buildSampleInput } from './fixtures/build-sample.js';
import { inputDocument, parseXmlStream, startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';
import { filesUnder } from '../helpers/files.js';

const SECRET = 'Sup3r-S3cret-Value-0123456789abcdef';
const CLIENT_ID = 'c1a2b3c4-0000-4000-8000-0000000000aa';
const secretHash = createHash('sha256').update(SECRET).digest('hex').slice(0, 16);

let sample: { bundle: string; dir: string };
let splunkd: SplunkdStandIn;
beforeAll(async () => {
  sample = await buildSampleInput();
  splunkd = await startSplunkd({ command: [process.execPath, sample.bundle] });
});
afterAll(async () => {
  await splunkd.stop();
  rmSync(sample.dir, { recursive: true, force: true });
});

const seqs = (events: Array<{ data: string }>) => events.map((e) => (JSON.parse(e.data) as { seq: number }).seq);
const checkpoint = (stanza: string) => {
  const files = readdirSync(splunkd.checkpointDir).filter((f) => f.startsWith(`sophos_central_${stanza}_sample.`) && f.endsWith('.json'));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(join(splunkd.checkpointDir, files[0]!), 'utf8')) as { key: string; value: { next: number } };
};

describe('run mode through the splunkd stand-in', () => {
  it('moves a clear secret to storage/passwords, masks the stanza, and it never leaks', async () => {
    const first = await splunkd.runInput('prod', { client_id: CLIENT_ID, client_secret: SECRET, data: 'alerts' });
    expect(first.exitCode).toBe(0);
    expect(seqs(first.events)).toEqual([0, 1, 2]);
    for (const e of first.events) {
      expect(e).toMatchObject({ stanza: 'sophos_central://prod', unbroken: '1', sourcetype: 'sophos:central:sample', done: true });
      expect(JSON.parse(e.data)).toMatchObject({ clientId: CLIENT_ID, data: 'alerts', secretHash });
    }
    expect(first.events[0]!.time).toBe(1714557600);
    // "$decideOnStartup" and "default" are left to splunkd.
    expect(first.events[0]!.host).toBeUndefined();
    expect(first.events[0]!.index).toBeUndefined();

    expect(splunkd.passwords.get(`sophos_central:${CLIENT_ID}:`)).toEqual({ app: 'TA-sophos-central', realm: 'sophos_central', username: CLIENT_ID, password: SECRET });
    expect(splunkd.stanzas.get('prod')!.params.client_secret).toBe('********');
    expect(first.stderr).toEqual([
      expect.stringMatching(/^INFO TA-sophos-central sophos_central:\/\/prod: client_secret for client_id .* created in storage\/passwords \(realm sophos_central\)$/),
      'INFO TA-sophos-central sophos_central://prod: client_secret in sophos_central://prod replaced by ********',
      expect.stringMatching(/^INFO TA-sophos-central sophos_central:\/\/prod: starting alerts collection with TA-sophos-central \S+ on Node v\d+\.\d+\.\d+$/),
      'INFO TA-sophos-central sophos_central://prod: sample collection from 0 of 3',
      expect.stringMatching(/^INFO TA-sophos-central sophos_central:\/\/prod: run finished after \d+\.\d s$/),
    ]);
    // The edit went through splunkd's external validation, which sees only the fields posted: the mask alone,
    // so nothing the stanza inherits (start_days from default/inputs.conf) is pinned into it.
    const edit = splunkd.requests.find((r) => r.path.endsWith('/data/inputs/sophos_central/prod'))!;
    expect(edit).toMatchObject({ method: 'POST', status: 200 });
    expect(edit.form).toEqual({ client_secret: '********', output_mode: 'json' });

    // Second run: the secret comes from storage/passwords; new items continue from the checkpoint.
    const second = await splunkd.runInput('prod', undefined, { env: { SAMPLE_EVENTS: '5' } });
    expect(second.exitCode).toBe(0);
    expect(seqs(second.events)).toEqual([3, 4]);
    expect(JSON.parse(second.events[0]!.data).secretHash).toBe(secretHash);
    expect(checkpoint('prod').value).toEqual({ next: 5 });

    const third = await splunkd.runInput('prod', undefined, { env: { SAMPLE_EVENTS: '5' } });
    expect(third).toMatchObject({ exitCode: 0, events: [], stdout: '' });

    // The secret exists only in storage/passwords: not in any output, log, checkpoint, stanza or request log.
    const everything = [
      ...[first, second, third].flatMap((r) => [r.stdout, ...r.stderr]),
      JSON.stringify([...splunkd.stanzas.values()]),
      JSON.stringify(splunkd.requests),
      ...filesUnder(splunkd.splunkHome).map((f) => readFileSync(f, 'utf8')),
    ].join('\n');
    expect(everything).toContain('client_secret'); // the haystack is real
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(splunkd.sessionKey);
    const log = readFileSync(join(splunkd.splunkHome, 'var/log/splunk/ta_sophos_central.log'), 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO pid=\d+ stanza=sophos_central:\/\/prod \| client_secret for client_id/m);
  });

  it('masks the stanza in the app that holds it', async () => {
    const r = await splunkd.runInput('in-search-app', { client_id: 'other-client', client_secret: 'another-secret', data: 'tenants' }, { app: 'search' });
    expect(r.exitCode).toBe(0);
    expect(splunkd.stanzas.get('in-search-app')).toMatchObject({ app: 'search', params: { client_secret: '********' } });
    expect(splunkd.requests.some((x) => x.path === '/servicesNS/nobody/search/data/inputs/sophos_central/in-search-app' && x.status === 200)).toBe(true);
  });

  it('stops with one ERROR line, a run_summary of status error and exit 1 when no secret is stored for the client ID', async () => {
    const r = await splunkd.runInput('nosecret', { client_id: 'unknown-client', client_secret: '********', data: 'events', index: 'sophos' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toEqual([
      'ERROR TA-sophos-central sophos_central://nosecret: no secret stored for client_id unknown-client; set client_secret in the input or on the setup page',
    ]);
    // Dashboards and alerts on the health records see the failed run, in the input's index.
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ sourcetype: 'sophos:central:health', index: 'sophos', stanza: 'sophos_central://nosecret' });
    expect(JSON.parse(r.events[0]!.data)).toMatchObject({
      type: 'run_summary',
      stanza: 'sophos_central://nosecret',
      data: 'events',
      status: 'error',
      tenants: 0,
      events: 0,
      error_code: 'TA_ERR_CONFIG',
      error: 'no secret stored for client_id unknown-client; set client_secret in the input or on the setup page',
    });
  });

  it('stops with one ERROR line, a run_summary of status error and exit 1 on a bad stanza, before touching splunkd', async () => {
    const before = splunkd.requests.length;
    // As set in inputs.conf by hand or a deployment server: splunkd's validation never saw it.
    for (const [params, problem, data] of [
      [{ data: 'alerts', start_days: '365' }, /start_days must be between 1 and 90/, 'alerts'],
      [{ data: 'alertz', start_days: '365' }, /2 problems in this input: \(1\) data must be one of .*; \(2\) start_days must be between 1 and 90/, 'alertz'],
    ] as const) {
      const r = await splunkd.runInput('bad', { client_id: CLIENT_ID, client_secret: SECRET, index: 'sophos', ...params });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toEqual([expect.stringMatching(new RegExp(`^ERROR TA-sophos-central sophos_central://bad: ${problem.source}`))]);
      expect(r.events).toHaveLength(1);
      expect(r.events[0]).toMatchObject({ sourcetype: 'sophos:central:health', index: 'sophos', stanza: 'sophos_central://bad' });
      expect(JSON.parse(r.events[0]!.data)).toMatchObject({ type: 'run_summary', stanza: 'sophos_central://bad', data, status: 'error', error_code: 'TA_ERR_CONFIG', error: expect.stringMatching(problem) });
      expect(r.stdout + r.stderr.join('\n')).not.toContain(SECRET);
    }
    expect(splunkd.requests.length).toBe(before);
  });

  it('an error outside every await is one ERROR line without a stack or the secret, and exit 1', async () => {
    const r = await splunkd.runInput('uncaught', { client_id: CLIENT_ID, client_secret: SECRET, data: 'endpoints' }, { env: { SAMPLE_UNCAUGHT: 'boom' } });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.filter((l) => !l.startsWith('INFO'))).toEqual(['ERROR TA-sophos-central: unexpected failure, exiting: Error: boom token="<redacted>"']);
    expect(r.stderr.join('\n')).not.toContain(SECRET);
  });

  it('exits 1 after writing its events when the collection reports status error', async () => {
    const r = await splunkd.runInput('failing', { client_id: CLIENT_ID, client_secret: '********', data: 'endpoints' }, { env: { SAMPLE_STATUS: 'error' } });
    expect(r.exitCode).toBe(1);
    expect(seqs(r.events)).toEqual([0, 1, 2]);
    expect(r.stderr.at(-1)).toMatch(/^INFO .*: run failed after/);
  });

  it('on SIGTERM closes the stream, saves exactly what was written and exits 0; the next run continues', async () => {
    const params = { client_id: CLIENT_ID, client_secret: '********', data: 'events' };
    const env = { SAMPLE_EVENTS: '100000', SAMPLE_BATCH: '10', SAMPLE_DELAY_MS: '2' };
    const stopped = await splunkd.runInput('term', params, { env, kill: { signal: 'SIGTERM', afterEvents: 50 } });
    expect(stopped.exitCode).toBe(0);
    expect(stopped.truncated).toBe(false);
    expect(stopped.stdout.trimEnd().endsWith('</stream>')).toBe(true);
    expect(stopped.stderr.at(-1)).toMatch(/^INFO .*: stopped on SIGTERM after/);
    const got = seqs(stopped.events);
    expect(got.length).toBeGreaterThanOrEqual(50);
    expect(got.length).toBeLessThan(100000);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i));
    expect(checkpoint('term').value.next).toBe(got.length);

    const rest = await splunkd.runInput('term', undefined, { env: { ...env, SAMPLE_EVENTS: String(got.length + 25), SAMPLE_DELAY_MS: '0' } });
    expect(rest.exitCode).toBe(0);
    expect(seqs(rest.events)).toEqual(Array.from({ length: 25 }, (_, i) => got.length + i));
  });

  it('stopped by a SIGTERM that came while its modules loaded: exit 0, one INFO line, nothing written or collected', async () => {
    const params = { client_id: CLIENT_ID, client_secret: '********', data: 'events' };
    const r = await splunkd.runInput('early', params, { env: { SAMPLE_STOPPED_AT_START: '1' } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toEqual(['INFO TA-sophos-central: stopped before splunkd had sent the whole input definition, on SIGTERM']);
    expect(readdirSync(splunkd.checkpointDir).filter((f) => f.startsWith('sophos_central_early_'))).toEqual([]);
  });

  it('after kill -9 keeps every complete event and loses nothing on the next run (duplicates at most one batch)', async () => {
    const params = { client_id: CLIENT_ID, client_secret: '********', data: 'alerts' };
    const total = 2000;
    const env = { SAMPLE_EVENTS: String(total), SAMPLE_BATCH: '20', SAMPLE_DELAY_MS: '2' };
    const seen: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await splunkd.runInput('kill9', params, { env, kill: { signal: 'SIGKILL', afterEvents: 30 + attempt * 17 } });
      expect(r.signal).toBe('SIGKILL');
      seen.push(...seqs(r.events));
    }
    const final = await splunkd.runInput('kill9', params, { env: { ...env, SAMPLE_DELAY_MS: '0' } });
    expect(final.exitCode).toBe(0);
    seen.push(...seqs(final.events));
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: total }, (_, i) => i)));
    expect(seen.length - total).toBeLessThanOrEqual(3 * 20);
  });

  it('deletes the checkpoints of inputs that no longer exist after a good run, and only then', async () => {
    const store = new FileCheckpointStore(splunkd.checkpointDir);
    const tenant = '6c2c3e3c-3a34-4e4b-b0a6-111111111111';
    splunkd.stanzas.set('paused', { app: 'search', params: { client_id: CLIENT_ID, data: 'alerts', disabled: '1' } });
    const keys = {
      deleted: [checkpointKey('sophos_central://deleted', 'alerts', tenant), checkpointKey('sophos_central://deleted', 'events', tenant)],
      kept: [checkpointKey('sophos_central://keeper', 'alerts', tenant), checkpointKey('sophos_central://paused', 'alerts', tenant), 'cli|alerts|t1'],
    };
    for (const key of [...keys.deleted, ...keys.kept]) await store.save(key, { hwm: 1 });
    const params = { client_id: CLIENT_ID, client_secret: SECRET, data: 'alerts' };

    // A failed run deletes nothing.
    const failed = await splunkd.runInput('keeper-failing', params, { env: { SAMPLE_STATUS: 'error' } });
    expect(failed.exitCode).toBe(1);
    for (const key of keys.deleted) expect(await store.load(key)).toEqual({ hwm: 1 });

    const good = await splunkd.runInput('keeper', params);
    expect(good.exitCode).toBe(0);
    for (const key of keys.deleted) expect(await store.load(key)).toBeUndefined();
    for (const key of keys.kept) expect(await store.load(key)).toEqual({ hwm: 1 });
    expect(good.stderr).toContain('INFO TA-sophos-central: removed 2 checkpoint(s) of sophos_central://deleted, which no longer exists');
    // One list of every app's inputs, all of them (splunkd lists 30 unless told otherwise).
    expect(splunkd.requests.filter((r) => r.path === '/servicesNS/nobody/-/data/inputs/sophos_central').at(-1)).toMatchObject({
      method: 'GET',
      status: 200,
      query: { count: '0', output_mode: 'json' },
    });

    // The setup page's log level holds for it too: at ERROR, no INFO line.
    await store.save(keys.deleted[0]!, { hwm: 1 });
    splunkd.settings.set('logging', { loglevel: 'ERROR' });
    try {
      const quiet = await splunkd.runInput('keeper', params);
      expect(quiet.exitCode).toBe(0);
      expect(await store.load(keys.deleted[0]!)).toBeUndefined();
      expect(quiet.stderr).toEqual([]);
    } finally {
      splunkd.settings.set('logging', { loglevel: 'INFO' });
    }

    // A list that lacks the very stanza being run is not trusted: nothing is deleted.
    await store.save(keys.deleted[0]!, { hwm: 1 });
    const ghost = spawn(process.execPath, [sample.bundle], { env: { ...process.env, SPLUNK_HOME: splunkd.splunkHome }, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr: Buffer[] = [];
    ghost.stderr.on('data', (d: Buffer) => stderr.push(d));
    ghost.stdout.resume();
    ghost.stdin.end(
      inputDocument({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, checkpointDir: splunkd.checkpointDir, stanzas: [{ name: 'not-listed', app: 'TA-sophos-central', params }] }),
    );
    expect(await new Promise((resolve) => ghost.on('close', resolve))).toBe(0);
    expect(Buffer.concat(stderr).toString('utf8')).toContain(
      "WARN TA-sophos-central: checkpoints of deleted inputs not checked: splunkd's list of sophos_central inputs lacks sophos_central://not-listed, which is running",
    );
    expect(await store.load(keys.deleted[0]!)).toEqual({ hwm: 1 });
  });

  it('reads the <input> document up to </input> even when stdin stays open', async () => {
    splunkd.stanzas.set('open-stdin', { app: 'TA-sophos-central', params: { client_id: CLIENT_ID, client_secret: '********', data: 'alerts' } });
    const child = spawn(process.execPath, [sample.bundle], { env: { ...process.env, SPLUNK_HOME: splunkd.splunkHome }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stdin.write(
      inputDocument({
        serverUri: splunkd.uri,
        sessionKey: splunkd.sessionKey,
        checkpointDir: splunkd.checkpointDir,
        stanzas: [{ name: 'open-stdin', app: 'TA-sophos-central', params: splunkd.stanzas.get('open-stdin')!.params }],
      }),
    );
    const code = await new Promise((resolve) => child.on('close', resolve));
    child.stdin.destroy();
    expect(code).toBe(0);
    expect(seqs(parseXmlStream(Buffer.concat(out), false).events)).toEqual([0, 1, 2]);
  });
});
