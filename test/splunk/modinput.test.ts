// The production bundle (bin/app/sophos_central.js, built by `npm test`) in the modes that need no collection.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runModularInput } from '../../src/splunk/modinput.js';
import { renderScheme } from '../../src/splunk/scheme.js';
import { BUNDLE } from '../helpers/paths.js';
import { inputDocument, startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

const run = (args: string[], input?: string | Buffer) => spawnSync(process.execPath, [BUNDLE, ...args], { input, encoding: 'utf8', timeout: 30_000 });

function expectOneErrorLine(r: ReturnType<typeof run>, message: RegExp) {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR TA-sophos-central: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bundle: arguments and stdin', () => {
  it('prints the scheme with --scheme', () => {
    const r = run(['--scheme']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(renderScheme());
    expect(r.stderr).toBe('');
  });

  it('answers --scheme through the library without opening the log file', async () => {
    const splunkHome = mkdtempSync(join(tmpdir(), 'ta-scheme-'));
    try {
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on('data', (c: Buffer) => chunks.push(c));
      const io = { stdin: new PassThrough(), stdout, stderr: new PassThrough(), env: { SPLUNK_HOME: splunkHome }, signal: new AbortController().signal };
      expect(await runModularInput(['--scheme'], io, async () => undefined)).toBe(0);
      expect(Buffer.concat(chunks).toString('utf8')).toBe(renderScheme());
      expect(existsSync(join(splunkHome, 'var'))).toBe(false);
      // Any other mode logs there.
      expect(await runModularInput(['--foo'], io, async () => undefined)).toBe(1);
      expect(readFileSync(join(splunkHome, 'var/log/splunk/ta_sophos_central.log'), 'utf8')).toMatch(/ERROR .*unknown arguments "--foo"/);
    } finally {
      rmSync(splunkHome, { recursive: true, force: true });
    }
  });

  it.each([[['--foo']], [['--scheme', 'extra']], [['validate']]])('rejects %j with one ERROR line', (args) => {
    expectOneErrorLine(run(args), /unknown arguments ".*"; splunkd runs this script with no argument, --scheme or --validate-arguments$/);
  });

  it.each([
    ['malformed', '<input><server_host>h</server_uri></input>', /malformed <input> document on stdin/],
    ['incomplete', '<input><server_host>h</server_host><configuration>', /incomplete <input> document on stdin: <input>, <configuration> never closed/],
    ['empty', '', /stdin was empty/],
    ['not UTF-8', Buffer.from([0x3c, 0x69, 0xff, 0x3e]), /stdin is not valid UTF-8/],
    ['the wrong document', '<items></items>', /expected an <input> document on stdin, got <items>/],
  ])('run mode: %s stdin is one ERROR line and exit 1, no stack', (_n, input, message) => {
    expectOneErrorLine(run([], input), message);
  });
});

describe('bundle: --validate-arguments', () => {
  let splunkd: SplunkdStandIn;
  beforeAll(async () => {
    splunkd = await startSplunkd({ command: [process.execPath, BUNDLE] });
  });
  afterAll(() => splunkd.stop());
  const base = { client_id: 'c1a2b3c4-0000-4000-8000-000000000001', data: 'alerts' };

  it('exits 0 silently for a good stanza, with a clear secret or a masked one that is stored', async () => {
    splunkd.passwords.set(`sophos_central:${base.client_id}:`, { app: 'TA-sophos-central', realm: 'sophos_central', username: base.client_id, password: 'p' });
    for (const client_secret of ['clear-secret', '********']) {
      const r = await splunkd.validate({ ...base, client_secret, interval: '300', index: 'main', disabled: '0' });
      expect(r).toEqual({ exitCode: 0, stdout: '', stderr: [] });
    }
  });

  it.each([
    [{ data: 'everything' }, 'data must be one of alerts, events, endpoints, tenants, got "everything"'],
    [{ start_days: '365' }, 'start_days must be between 1 and 90 (Sophos Central keeps alerts for 90 days), got 365'],
    [{ proxy_url: 'http://u:hunter2@proxy:3128/p' }, 'proxy_url must be http://host:port or https://host:port (no path, query or fragment allowed), got "http://***@proxy:3128/p"'],
    [{ tenants: 'a&b<c>' }, 'tenants: "a&b<c>" is neither a tenant ID (UUID) nor a tenant name'],
  ])('prints <error><message> and exits 1 for %j', async (params, message) => {
    const r = await splunkd.validate({ ...base, client_secret: 'x', ...params });
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain(message);
    expect(r.stdout).toMatch(/^<error><message>.*<\/message><\/error>$/);
    expect(r.stdout).not.toContain('hunter2');
  });

  it('refuses an empty secret unless storage/passwords holds one for the client ID', async () => {
    const missing = await splunkd.validate({ ...base, client_id: 'no-such-client', client_secret: '' });
    expect(missing.exitCode).toBe(1);
    expect(missing.message).toBe('no secret stored for client_id no-such-client; set client_secret in the input or on the setup page');
    splunkd.passwords.set('sophos_central:stored-client:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'stored-client', password: 'p' });
    expect((await splunkd.validate({ ...base, client_id: 'stored-client' })).exitCode).toBe(0);
  });

  it('refuses a masked secret that storage/passwords does not hold for the client ID: Splunk Web posts the mask back with a changed client ID', async () => {
    const changed = await splunkd.validate({ ...base, client_id: 'a-new-client', client_secret: '********' });
    expect(changed.exitCode).toBe(1);
    expect(changed.message).toBe('no secret stored for client_id a-new-client; set client_secret in the input or on the setup page');
    splunkd.passwords.set('sophos_central:a-new-client:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'a-new-client', password: 'p' });
    expect((await splunkd.validate({ ...base, client_id: 'a-new-client', client_secret: '********' })).exitCode).toBe(0);
  });

  it('accepts a masked or empty secret it may not look up: validation run with the key of a user without list_storage_passwords', async () => {
    const limited = await startSplunkd({ command: [process.execPath, BUNDLE], validationWithoutListPasswords: true });
    try {
      for (const client_secret of ['********', '']) {
        const r = await limited.validate({ ...base, client_id: 'unknown-client', client_secret });
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toBe('');
        expect(r.stderr).toEqual([
          expect.stringMatching(/^INFO TA-sophos-central: validation could not check the stored secret \(splunkd refused \(403\) .*list_storage_passwords.*\); the next run will$/),
        ]);
      }
      // What it can check, it still refuses.
      expect((await limited.validate({ ...base, client_secret: 'x', data: 'everything' })).exitCode).toBe(1);
    } finally {
      await limited.stop();
    }
  });

  it("checks an edit that leaves data out against the stored stanza's data type", async () => {
    splunkd.stanzas.set('stored-alerts', { app: 'TA-sophos-central', params: { ...base, client_secret: '********' } });
    for (const [fields, message] of [
      [{ page_size: '5000' }, 'page_size for alerts must be between 1 and 1000'],
      [{ exclude_types: 'Event::Endpoint::UpdateSuccess' }, 'exclude_types applies only to data = events'],
    ] as const) {
      const r = await splunkd.validate(fields, { name: 'stored-alerts' });
      expect(r.exitCode).toBe(1);
      expect(r.message).toContain(message);
    }
    expect((await splunkd.validate({ page_size: '500' }, { name: 'stored-alerts' })).exitCode).toBe(0);
    // An input splunkd does not list (or cannot be asked about) is checked on the fields sent, as before.
    expect((await splunkd.validate({ page_size: '5000' }, { name: 'not-stored' })).exitCode).toBe(0);
  });

  it('accepts an interval under 60 that the stored stanza already has (typed as a number by splunkd or not), and refuses a new one', async () => {
    splunkd.stanzas.set('short-stored', { app: 'TA-sophos-central', params: { ...base, client_secret: 'x', interval: 30 as unknown as string } });
    splunkd.stanzas.set('short-text', { app: 'TA-sophos-central', params: { ...base, client_secret: 'x', interval: '45' } });
    expect((await splunkd.validate({ ...base, client_secret: 'x', interval: '30' }, { name: 'short-stored' })).exitCode).toBe(0);
    expect((await splunkd.validate({ ...base, client_secret: 'x', interval: '45' }, { name: 'short-text' })).exitCode).toBe(0);
    const changed = await splunkd.validate({ ...base, client_secret: 'x', interval: '20' }, { name: 'short-text' });
    expect(changed.exitCode).toBe(1);
    expect(changed.message).toMatch(/^interval must be at least 60 seconds/);
  });

  it('refuses a masked proxy password that storage/passwords does not hold for that proxy user, host and port', async () => {
    // An admin who edits the host of a masked proxy_url in Splunk Web hears it now, not from the next run.
    const moved = await splunkd.validate({ ...base, client_secret: 'x', proxy_url: 'http://squid:********@new-proxy.corp:3128' });
    expect(moved.exitCode).toBe(1);
    expect(moved.message).toBe('no proxy password stored for squid@new-proxy.corp:3128; type proxy_url again with the password in it, as user:password@ before host:port');
    splunkd.passwords.set('sophos_central_proxy:squid@new-proxy.corp\\:3128:', {
      app: 'TA-sophos-central',
      realm: 'sophos_central_proxy',
      username: 'squid@new-proxy.corp:3128',
      password: 'p',
    });
    expect((await splunkd.validate({ ...base, client_secret: 'x', proxy_url: 'http://squid:********@New-Proxy.corp:3128' })).exitCode).toBe(0);
    // A clear password is this edit's to store: nothing to look up.
    expect((await splunkd.validate({ ...base, client_secret: 'x', proxy_url: 'http://squid:clear@other.corp:3128' })).exitCode).toBe(0);
  });

  it('answers malformed <items> with <error> and exit 1', () => {
    const r = run(['--validate-arguments'], '<items><item name="a">');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('<error><message>incomplete &lt;items&gt; document on stdin: &lt;items&gt;, &lt;item&gt; never closed</message></error>');
  });
});

describe('run mode stopped by SIGTERM before collection', () => {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };

  it('while splunkd is still writing the definition: exit 0 at once, one INFO line', async () => {
    const stdin = new PassThrough();
    const [stdout, stderr] = [capture(), capture()];
    const stop = new AbortController();
    stdin.write('<input><server_host>');
    setTimeout(() => stop.abort(), 50);
    const code = await runModularInput([], { stdin, stdout: stdout.stream, stderr: stderr.stream, env: {}, signal: stop.signal, stdinTimeoutMs: 20_000 }, async () => {
      throw new Error('never collects');
    });
    expect(code).toBe(0);
    expect(stdout.text()).toBe('');
    expect(stderr.text()).toBe('INFO TA-sophos-central: stopped before splunkd had sent the whole input definition, on SIGTERM\n');
  });

  it('while splunkd does not answer its REST API: exit 0 at once, no ERROR, no failed run_summary, nothing collected', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const checkpointDir = mkdtempSync(join(tmpdir(), 'ta-term-'));
    const [stdout, stderr] = [capture(), capture()];
    const stop = new AbortController();
    try {
      const doc = inputDocument({
        serverUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        sessionKey: 'k',
        checkpointDir,
        stanzas: [{ name: 'prod', app: 'TA-sophos-central', params: { client_id: 'c1', client_secret: 'clear', data: 'alerts' } }],
      });
      setTimeout(() => stop.abort(), 100);
      let collected = false;
      const code = await runModularInput([], { stdin: new PassThrough().end(doc), stdout: stdout.stream, stderr: stderr.stream, env: {}, signal: stop.signal }, async () => {
        collected = true;
      });
      expect(code).toBe(0);
      expect(collected).toBe(false);
      expect(stderr.text()).not.toMatch(/^(ERROR|WARN)/m);
      expect(stderr.text()).toMatch(/^INFO TA-sophos-central sophos_central:\/\/prod: stopped on SIGTERM after \d+\.\d s$/m);
      expect(stdout.text()).not.toContain('run_summary');
    } finally {
      server.closeAllConnections();
      server.close();
      rmSync(checkpointDir, { recursive: true, force: true });
    }
  });

  it('--validate-arguments while splunkd is still writing <items>: stops at once with its <error>, not after the stdin timeout', async () => {
    const child = spawn(process.execPath, [BUNDLE, '--validate-arguments'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stdin.write('<items><server_host>');
    // Late enough for Node to have loaded the bundle and its SIGTERM handler on a loaded CI machine (a signal
    // before that ends the process by default), and far inside the 30 s stdin timeout.
    setTimeout(() => child.kill('SIGTERM'), 1500);
    const started = Date.now();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(Buffer.concat(out).toString('utf8')).toBe('<error><message>stopped before splunkd had sent the whole input definition</message></error>');
  });

  it('--scheme into a pipe splunkd closed: no stack trace', async () => {
    const child = spawn(process.execPath, [BUNDLE, '--scheme'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    const errors: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => errors.push(c));
    await once(child, 'close');
    expect(Buffer.concat(errors).toString('utf8')).not.toMatch(/\n\s+at |Unhandled 'error' event/);
  });
});
