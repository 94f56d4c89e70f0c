// A run that finds another run of its stanza at work waits for it, then leaves collecting to it: a WARN line,
// a run_summary of status skipped, exit 0, and nothing collected twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runLockFile } from '../../src/checkpoint/run-lock.js';
import { runModularInput } from '../../src/splunk/modinput.js';
import { inputDocument, parseXmlStream, startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

let splunkd: SplunkdStandIn;
let other: ChildProcess;
let checkpointDir: string;
beforeAll(async () => {
  splunkd = await startSplunkd();
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  checkpointDir = mkdtempSync(join(tmpdir(), 'ta-lock-run-'));
});
afterAll(async () => {
  other.kill('SIGKILL');
  await splunkd.stop();
  rmSync(checkpointDir, { recursive: true, force: true });
});

const capture = () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('utf8') };
};

interface StartOptions {
  runLockWaitMs: number;
  /** Parameters over the stanza's defaults (a clear secret, interval 300). */
  extra?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  checkpointDir?: string;
}

/** Starts stanza `name` in run mode, as splunkd runs it; `stop` is its SIGTERM. */
function start(name: string, opts: StartOptions) {
  const params = { client_id: 'c1', client_secret: 'clear-secret', data: 'alerts', index: 'sophos', interval: '300', ...opts.extra };
  splunkd.stanzas.set(name, { app: 'TA-sophos-central', params });
  const doc = inputDocument({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, checkpointDir: opts.checkpointDir ?? checkpointDir, stanzas: [{ name, app: 'TA-sophos-central', params }] });
  const [stdout, stderr] = [capture(), capture()];
  const stop = new AbortController();
  let collected = 0;
  const io = { stdin: new PassThrough().end(doc), stdout: stdout.stream, stderr: stderr.stream, env: opts.env ?? {}, signal: stop.signal, runLockWaitMs: opts.runLockWaitMs };
  const code = runModularInput([], io, async () => {
    collected++;
  });
  return { code, stop: () => stop.abort(), collected: () => collected, stdout, stderr };
}

async function runOnce(name: string, runLockWaitMs: number, extra: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const run = start(name, { runLockWaitMs, extra, env });
  const code = await run.code;
  return { code, collected: run.collected(), stderr: run.stderr.text().split('\n').filter(Boolean), events: parseXmlStream(run.stdout.bytes(), false).events };
}

/** A lock of stanza `name` held by the live process `other`, in `dir`. */
function holdLock(name: string, dir = checkpointDir): string {
  const lock = runLockFile(dir, `sophos_central://${name}`);
  writeFileSync(lock, JSON.stringify({ pid: other.pid, token: 'theirs' }));
  return lock;
}

describe('a run while another run of its stanza holds the lock', () => {
  it('waits, then collects nothing, says so in a WARN line and a skipped run_summary, and exits 0', async () => {
    holdLock('busy');
    const t0 = Date.now();
    const r = await runOnce('busy', 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(r.code).toBe(0);
    expect(r.collected).toBe(0);
    expect(r.stderr.filter((l) => !l.startsWith('INFO'))).toEqual([
      `WARN TA-sophos-central sophos_central://busy: another run of this input (pid ${other.pid}) was still collecting after 0.4 s, so this run collected nothing; the next run goes on from where that one stops`,
    ]);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ sourcetype: 'sophos:central:health', index: 'sophos' });
    expect(JSON.parse(r.events[0]!.data)).toMatchObject({ type: 'run_summary', stanza: 'sophos_central://busy', data: 'alerts', status: 'skipped', events: 0, reason: expect.stringMatching(/^another run/) });
  });

  it('names in its skipped run_summary the secrets still in clear text, as every run_summary does', async () => {
    const app = join(splunkd.splunkHome, 'etc', 'apps', 'TA-sophos-central', 'default');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'inputs.conf'), '[sophos_central://deployed]\nclient_id = c1\nclient_secret = clear-secret\ndata = alerts\n');
    holdLock('deployed');
    const r = await runOnce('deployed', 300, {}, { SPLUNK_HOME: splunkd.splunkHome });
    expect(JSON.parse(r.events.at(-1)!.data)).toMatchObject({ type: 'run_summary', status: 'skipped', secrets_in_clear: ['client_secret'] });
  });

  it('counts in its skipped run_summary the requests that checked a secret typed into the stanza', async () => {
    splunkd.passwords.set('sophos_central:c9:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'c9', password: 'stored-secret' });
    holdLock('typed');
    const params = { client_id: 'c9', client_secret: 'typed-secret', data: 'alerts', index: 'sophos', interval: '300' };
    splunkd.stanzas.set('typed', { app: 'TA-sophos-central', params });
    const doc = inputDocument({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, checkpointDir, stanzas: [{ name: 'typed', app: 'TA-sophos-central', params }] });
    const stdout = capture();
    const asked: string[] = [];
    const io = { stdin: new PassThrough().end(doc), stdout: stdout.stream, stderr: capture().stream, env: {}, signal: new AbortController().signal, runLockWaitMs: 200 };
    const code = await runModularInput([], io, async () => undefined, async ({ clientSecret }) => {
      asked.push(clientSecret);
      return { verdict: 'accepted', requests: { requests: 2, retries: 1, rateLimited: 1, errors: 1 } };
    });
    expect(code).toBe(0);
    expect(asked).toEqual(['typed-secret']);
    const summary = JSON.parse(parseXmlStream(stdout.bytes(), false).events.at(-1)!.data) as Record<string, unknown>;
    expect(summary).toMatchObject({ type: 'run_summary', status: 'skipped', requests: 2, retries: 1, rate_limited: 1, errors: 1 });
  });

  it('an input that runs once (interval -1) waits for the lock rather than give up its only run', async () => {
    const lock = holdLock('once');
    const run = start('once', { runLockWaitMs: 300, extra: { interval: '-1' } });
    // The run asks for the lock once it has masked its secret; on a loaded machine that may take a second.
    const masked = () => splunkd.requests.some((r) => r.method === 'POST' && r.path.endsWith('/data/inputs/sophos_central/once'));
    await vi.waitFor(() => expect(masked()).toBe(true), { timeout: 10_000, interval: 10 });
    // The run an edit stopped exits 2.5 s on, well after the 300 ms an interval input waits: long enough that a
    // loaded machine's stall between the masking and the first look at the lock still leaves a wait over 1 s.
    const exits = setTimeout(() => rmSync(lock, { force: true }), 2500);
    await run.code;
    clearTimeout(exits);
    const stderr = run.stderr.text().split('\n').filter(Boolean);
    expect(run.collected(), JSON.stringify(stderr)).toBe(1);
    expect(stderr.filter((l) => !l.startsWith('INFO'))).toEqual([]);
    // About 2.5 s, and as long as the machine's load adds to the wait's polling.
    const waited = stderr.map((l) => /^INFO .*sophos_central:\/\/once: waited (\d+\.\d) s for another run of this input to finish$/.exec(l)?.[1]).find(Boolean);
    expect(Number(waited), JSON.stringify(stderr)).toBeGreaterThanOrEqual(1);
  });

  it('stopped while it waits, it collects and writes nothing, even when the lock comes free just after', async () => {
    const lock = holdLock('stopped');
    const run = start('stopped', { runLockWaitMs: 15_000 });
    await vi.waitFor(() => expect(splunkd.stanzas.get('stopped')!.params.client_secret).toBe('********'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.stop();
    rmSync(lock);
    expect(await run.code).toBe(0);
    expect(run.collected()).toBe(0);
    expect(run.stdout.text()).toBe('');
    expect(run.stderr.text().trimEnd().split('\n').at(-1)).toMatch(/^INFO .*sophos_central:\/\/stopped: stopped on SIGTERM after \d+\.\d s/);
    expect(existsSync(lock)).toBe(false);
  });

  it('says nothing of the lock when checkpoint_dir cannot be used at all, which the collection reports itself', async () => {
    const file = join(checkpointDir, 'a-file');
    writeFileSync(file, 'not a directory');
    for (const dir of [file, join(file, 'sophos_central')]) {
      const run = start('nodir', { runLockWaitMs: 300, checkpointDir: dir });
      await run.code;
      expect(run.collected()).toBe(1);
      expect(run.stderr.text()).not.toMatch(/run lock/);
    }
  });

  it('runs as usual once the lock is free, and leaves none behind', async () => {
    const r = await runOnce('free', 400);
    expect(r.code).toBe(0);
    expect(r.collected).toBe(1);
    expect(r.stderr.filter((l) => !l.startsWith('INFO'))).toEqual([]);
    expect(existsSync(runLockFile(checkpointDir, 'sophos_central://free'))).toBe(false);
    const again = await runOnce('free', 400);
    expect(again.collected).toBe(1);
  });
});

describe('which intervals wait for the lock without end', () => {
  /** Runs stanza `name` with `interval` while a live process holds its lock: 'waiting' if still at it after 2 s. */
  async function underHeldLock(name: string, interval: string): Promise<'skipped' | 'collected' | 'waiting'> {
    splunkd.passwords.set('sophos_central:c1:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'c1', password: 'stored' });
    holdLock(name);
    const run = start(name, { runLockWaitMs: 300, extra: { client_secret: '', interval } });
    const ended = run.code.then((): 'collected' | 'skipped' => (run.collected() > 0 ? 'collected' : 'skipped'));
    const outcome = await Promise.race([ended, new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 2000))]);
    run.stop();
    await ended;
    return outcome;
  }

  it.each([
    ['a cron schedule', '*/5 * * * *', 'skipped'],
    ['seconds with decimals', '300.5', 'skipped'],
    ['-1 (runs once)', '-1', 'waiting'],
    ['0 (started again as soon as it exits)', '0', 'waiting'],
  ] as const)('%s', async (_what, interval, expected) => {
    expect(await underHeldLock(`every_${interval.replace(/\W/g, '_')}`, interval)).toBe(expected);
  });
});
