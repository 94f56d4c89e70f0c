import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redactSecrets } from '../../src/log.js';
import { createSplunkLogger } from '../../src/splunk/log.js';
import { ROOT } from '../helpers/paths.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const home = () => {
  const d = mkdtempSync(join(tmpdir(), 'ta-log-'));
  dirs.push(d);
  return d;
};
const capture = () => {
  const lines: string[] = [];
  return { lines, stderr: { write: (t: string) => lines.push(t) } };
};

/** A logger with a 1,000-byte file kept in three generations, on a clock the test moves on with `later`. */
const rotatingLog = () => {
  const splunkHome = home();
  let clock = Date.parse('2024-05-01T10:00:00.000Z');
  const { lines, stderr } = capture();
  const log = createSplunkLogger({ splunkHome, stderr, maxBytes: 1000, maxFiles: 3, now: () => new Date(clock) });
  return { dir: join(splunkHome, 'var/log/splunk'), lines, log, later: (ms: number) => (clock += ms) };
};

describe('createSplunkLogger', () => {
  it('writes one severity-prefixed line per message on stderr, newlines collapsed', () => {
    const { lines, stderr } = capture();
    const log = createSplunkLogger({ stanza: 'sophos_central://prod', stderr });
    log.info('run started');
    log.warn('tenant t1 failed:\n  403\r\n forbidden');
    log.error('boom');
    log.debug('hidden at INFO');
    expect(lines).toEqual([
      'INFO TA-sophos-central sophos_central://prod: run started\n',
      'WARN TA-sophos-central sophos_central://prod: tenant t1 failed: 403 forbidden\n',
      'ERROR TA-sophos-central sophos_central://prod: boom\n',
    ]);
  });

  it('keeps a stanza name with a line break in it on one line', () => {
    const { lines, stderr } = capture();
    createSplunkLogger({ stanza: 'sophos_central://a\nb\r\nc', stderr }).info('x');
    expect(lines).toEqual(['INFO TA-sophos-central sophos_central://a b c: x\n']);
  });

  it('honours the level and shows DEBUG on stderr only when there is no log file', () => {
    const { lines, stderr } = capture();
    createSplunkLogger({ level: 'DEBUG', stderr }).debug('detail');
    createSplunkLogger({ level: 'ERROR', stderr }).warn('not shown');
    expect(lines).toEqual(['DEBUG TA-sophos-central: detail\n']);
  });

  it('also writes timestamped lines to $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log', () => {
    const splunkHome = home();
    const { lines, stderr } = capture();
    const log = createSplunkLogger({ level: 'DEBUG', stanza: 'sophos_central://a', splunkHome, stderr, now: () => new Date('2024-05-01T10:00:00.000Z') });
    log.debug('stack: Error: x\n    at f (file.js:1:1)');
    log.info('hello');
    const file = readFileSync(join(splunkHome, 'var/log/splunk/ta_sophos_central.log'), 'utf8');
    expect(file).toBe(
      `2024-05-01T10:00:00.000Z DEBUG pid=${process.pid} stanza=sophos_central://a | stack: Error: x at f (file.js:1:1)\n` +
        `2024-05-01T10:00:00.000Z INFO pid=${process.pid} stanza=sophos_central://a | hello\n`,
    );
    expect(lines).toEqual(['INFO TA-sophos-central sophos_central://a: hello\n']);
  });

  it('rotates by size and keeps maxFiles generations', () => {
    const splunkHome = home();
    const log = createSplunkLogger({ splunkHome, stderr: capture().stderr, maxBytes: 1000, maxFiles: 3 });
    for (let i = 0; i < 100; i++) log.info(`message ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    const dir = join(splunkHome, 'var/log/splunk');
    expect(readdirSync(dir).sort()).toEqual(['ta_sophos_central.log', 'ta_sophos_central.log.1', 'ta_sophos_central.log.2', 'ta_sophos_central.log.3']);
    const generations = ['.3', '.2', '.1', ''].map((s) => readFileSync(join(dir, `ta_sophos_central.log${s}`), 'utf8'));
    for (const g of generations) expect(Buffer.byteLength(g)).toBeLessThanOrEqual(1000);
    const numbers = generations.join('').match(/message (\d+)/g)!.map((m) => Number(m.slice(8)));
    // The newest messages survive, in order, without a gap.
    expect(numbers.at(-1)).toBe(99);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => 100 - numbers.length + i));
  });

  it('when the file system refuses a rotation (Windows, another process holds the file), keeps every line and retries a minute later', () => {
    const { dir, lines, log, later } = rotatingLog();
    for (let i = 0; i < 15; i++) log.info(`message ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    writeFileSync(join(dir, 'ta_sophos_central.log.1'), 'older generation\n');
    // Something where the file moves aside: the rename is refused, as Windows refuses it for a file in use.
    mkdirSync(join(dir, `ta_sophos_central.log.rotating-${process.pid}`, 'held'), { recursive: true });
    for (let i = 15; i < 40; i++) log.info(`message ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    expect(readFileSync(join(dir, 'ta_sophos_central.log.1'), 'utf8')).toBe('older generation\n');
    expect(readdirSync(dir).filter((f) => /\.log\.\d$/.test(f))).toEqual(['ta_sophos_central.log.1']);
    expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([]);
    rmSync(join(dir, `ta_sophos_central.log.rotating-${process.pid}`), { recursive: true });
    later(61_000);
    log.info('after the retry delay');
    expect(readFileSync(join(dir, 'ta_sophos_central.log.2'), 'utf8')).toBe('older generation\n');
    const all = ['.1', ''].map((g) => readFileSync(join(dir, `ta_sophos_central.log${g}`), 'utf8')).join('');
    const numbers = all.match(/message (\d+)/g)!.map((m) => Number(m.slice(8)));
    expect(numbers.slice(-25)).toEqual(Array.from({ length: 25 }, (_, i) => 15 + i));
    expect(all).toContain('after the retry delay');
  });

  it('when .1 cannot be moved (held open by another process on Windows), no generation is lost, and rotation resumes later', () => {
    const { dir, lines, log, later } = rotatingLog();
    log.info('first');
    for (const g of ['1', '2', '3']) writeFileSync(join(dir, `ta_sophos_central.log.${g}`), `GEN${g}\n`);
    // Where .1 would move: a directory in the way refuses the rename, as Windows refuses it for a held file.
    mkdirSync(join(dir, `ta_sophos_central.log.1.rotating-${process.pid}`, 'held'), { recursive: true });
    for (let i = 0; i < 20; i++) log.info(`message ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([]);
    for (const g of ['1', '2', '3']) expect(readFileSync(join(dir, `ta_sophos_central.log.${g}`), 'utf8')).toBe(`GEN${g}\n`);
    expect(readdirSync(dir).filter((f) => f.startsWith('ta_sophos_central.log.rotating-'))).toEqual([]);
    expect(readFileSync(join(dir, 'ta_sophos_central.log'), 'utf8').match(/message (\d+)/g)).toHaveLength(20);
    // Once .1 is free and the retry delay has passed: one rotation, the oldest generation dropped.
    rmSync(join(dir, `ta_sophos_central.log.1.rotating-${process.pid}`), { recursive: true });
    later(61_000);
    log.info('after the retry delay');
    expect(readFileSync(join(dir, 'ta_sophos_central.log.2'), 'utf8')).toBe('GEN1\n');
    expect(readFileSync(join(dir, 'ta_sophos_central.log.3'), 'utf8')).toBe('GEN2\n');
    expect(readFileSync(join(dir, 'ta_sophos_central.log.1'), 'utf8').match(/message (\d+)/g)).toHaveLength(20);
    expect(readFileSync(join(dir, 'ta_sophos_central.log'), 'utf8')).toContain('after the retry delay');
  });

  it('after another process rotated the shared file away, the next line goes to the new file, not to .1', () => {
    const splunkHome = home();
    const dir = join(splunkHome, 'var/log/splunk');
    const a = createSplunkLogger({ splunkHome, stanza: 'sophos_central://a', stderr: capture().stderr, maxBytes: 1000, maxFiles: 3 });
    const b = createSplunkLogger({ splunkHome, stanza: 'sophos_central://b', stderr: capture().stderr, maxBytes: 1000, maxFiles: 3 });
    a.info('a opens the file');
    for (let i = 0; i < 15; i++) b.info(`b ${'x'.repeat(60)}`);
    expect(existsSync(join(dir, 'ta_sophos_central.log.1'))).toBe(true);
    a.info('a writes after the rotation');
    expect(readFileSync(join(dir, 'ta_sophos_central.log'), 'utf8')).toContain('a writes after the rotation');
    expect(readFileSync(join(dir, 'ta_sophos_central.log.1'), 'utf8')).not.toContain('a writes after the rotation');
  });

  it('does not rotate while another process holds the rotation lock, and takes over a lock left by a process that died', () => {
    const { dir, log } = rotatingLog();
    const lock = join(dir, 'ta_sophos_central.log.rotation-lock');
    mkdirSync(lock);
    for (let i = 0; i < 30; i++) log.info(`message ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    // Held: every line stays in the one file, none is lost, and the holder's rotation will move it.
    expect(readdirSync(dir).sort()).toEqual(['ta_sophos_central.log', 'ta_sophos_central.log.rotation-lock']);
    expect(readFileSync(join(dir, 'ta_sophos_central.log'), 'utf8').match(/message (\d+)/g)).toHaveLength(30);
    // Two minutes old: its holder died mid-rotation; the next line rotates and the lock is gone.
    const old = new Date(Date.now() - 120_000);
    utimesSync(lock, old, old);
    log.info('after the holder died');
    expect(readdirSync(dir).sort()).toEqual(['ta_sophos_central.log', 'ta_sophos_central.log.1']);
    expect(readFileSync(join(dir, 'ta_sophos_central.log.1'), 'utf8').match(/message (\d+)/g)).toHaveLength(30);
    expect(readFileSync(join(dir, 'ta_sophos_central.log'), 'utf8')).toContain('after the holder died');
  });

  it('processes that log and rotate the same file at once lose no line and repeat none', async () => {
    const splunkHome = home();
    const dir = join(splunkHome, 'var/log/splunk');
    const script = join(splunkHome, 'writer.mts');
    // Each child: one stanza's input process, writing as fast as it can; small files, so that rotations collide.
    writeFileSync(
      script,
      `import { createSplunkLogger } from ${JSON.stringify(join(ROOT, 'src/splunk/log.ts'))};\n` +
        `const [name, count] = process.argv.slice(2);\n` +
        `const log = createSplunkLogger({ splunkHome: ${JSON.stringify(splunkHome)}, stanza: 'sophos_central://' + name, stderr: { write() {} }, maxBytes: 20000, maxFiles: 80 });\n` +
        `for (let i = 0; i < Number(count); i++) log.info(name + ' line ' + i + ' ' + 'x'.repeat(60));\n`,
    );
    const writers = ['w1', 'w2', 'w3', 'w4'];
    const lines = 2000;
    await Promise.all(
      writers.map(
        (name) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', script, name, String(lines)], { stdio: 'inherit' });
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${name} exited ${code}`))));
          }),
      ),
    );
    const files = readdirSync(dir).filter((f) => /^ta_sophos_central\.log(\.\d+)?$/.test(f));
    const seen = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').match(/w\d line \d+/g) ?? []);
    expect(seen.length).toBe(writers.length * lines);
    expect(new Set(seen).size).toBe(seen.length);
    // Rotated all along (a file may pass the size by what the others write while one process rotates).
    expect(files.length).toBeGreaterThan(20);
  }, 60_000);

  it('keeps working on stderr when the log directory cannot be created', () => {
    const splunkHome = home();
    const { lines, stderr } = capture();
    rmSync(splunkHome, { recursive: true });
    writeFileSync(splunkHome, 'not a dir'); // a file where the directory should be
    dirs.push(splunkHome);
    createSplunkLogger({ splunkHome, stderr }).info('still here');
    expect(lines[0]).toMatch(/^WARN TA-sophos-central: cannot write /);
    expect(lines[1]).toBe('INFO TA-sophos-central: still here\n');
    expect(existsSync(join(splunkHome, 'var'))).toBe(false);
  });
});

describe('redactSecrets', () => {
  it.each([
    ['Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.abc.def', 'Authorization: Bearer <redacted>'],
    ['Authorization: Splunk 0123456789abcdef^xyz', 'Authorization: Splunk <redacted>'],
    ['authorization: Splunk Hk3^Zq0vV8y1bQpNfE7s^ab_Xc9yW2 (GET /servicesNS)', 'authorization: Splunk <redacted> (GET /servicesNS)'],
    ['{"authorization":"Splunk Hk3^Zq0vV8y1bQp"}', '{"authorization":"Splunk <redacted>"}'],
    ['stdin: <server_uri>https://127.0.0.1:8089</server_uri><session_key>Hk3^Zq0vV8y1bQpNfE7s</session_key>', 'stdin: <server_uri>https://127.0.0.1:8089</server_uri><session_key><redacted></session_key>'],
    ['form client_secret=abc123&grant_type=client_credentials', 'form client_secret="<redacted>"&grant_type=client_credentials'],
    ['{"clear_password":"p@ss w","realm":"r"}', '{"clear_password":"<redacted>","realm":"r"}'],
    ['proxy http://user:pw@proxy:3128 failed', 'proxy http://<redacted>@proxy:3128 failed'],
    // A password with an unencoded / or @ is blanked to its end, not to the first of them.
    ['got "http://squid:Secr3t/Pw@127.0.0.1:3128"', 'got "http://<redacted>@127.0.0.1:3128"'],
    ['got "http://squid:Secr3t@Pw9@127.0.0.1:3128" and http://h:1/x', 'got "http://<redacted>@127.0.0.1:3128" and http://h:1/x'],
    // Not past a quote or a blank: a URL next to an e-mail address keeps both.
    ['{"url":"https://api.central.sophos.com/siem/v1/alerts","user":"bob@corp.com"}', '{"url":"https://api.central.sophos.com/siem/v1/alerts","user":"bob@corp.com"}'],
    ['GET https://api-eu01.central.sophos.com/common/v1/alerts failed for bob@corp.com', 'GET https://api-eu01.central.sophos.com/common/v1/alerts failed for bob@corp.com'],
    ['tenant 4f1c ok, 12 events', 'tenant 4f1c ok, 12 events'],
    ['Sophos Central POST /api/v2/oauth2/token: ECONNREFUSED connect; retry 1/5', 'Sophos Central POST /api/v2/oauth2/token: ECONNREFUSED connect; retry 1/5'],
    ['token: abc.def and access_token=xyz', 'token: "<redacted>" and access_token="<redacted>"'],
  ])('%s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});
