import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderScheme } from '../../src/splunk/scheme.js';
import { BUNDLE, WRAPPER } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'ta-wrapper-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory holding the few tools the wrapper needs, plus an optional fake node of a given version. */
function fakePath(name: string, nodeVersion?: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  for (const tool of ['dirname', 'sh']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`]).stdout.toString().trim(), join(dir, tool));
  if (nodeVersion) {
    writeFileSync(join(dir, 'node'), `#!/bin/sh\necho v${nodeVersion}\n`);
    chmodSync(join(dir, 'node'), 0o755);
  }
  return dir;
}

const run = (args: string[], env: NodeJS.ProcessEnv, input?: string) =>
  spawnSync('/bin/sh', [WRAPPER, ...args], { env, input, encoding: 'utf8' });

/** A copy of the wrapper whose app prints its arguments, stdin and Node options as JSON. */
const echoWrapper = (() => {
  const echoDir = join(tmp, 'echo-app');
  mkdirSync(join(echoDir, 'app'), { recursive: true });
  writeFileSync(join(echoDir, 'sophos_central.sh'), readFileSync(WRAPPER));
  writeFileSync(
    join(echoDir, 'app', 'sophos_central.js'),
    'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify({a:process.argv.slice(2),s,v8:process.execArgv})))',
  );
  return join(echoDir, 'sophos_central.sh');
})();

describe('bin/sophos_central.sh', () => {
  it('prints the scheme through the bundle, like node bin/app/sophos_central.js', () => {
    const viaWrapper = run(['--scheme'], { PATH: process.env.PATH });
    const direct = spawnSync(process.execPath, [BUNDLE, '--scheme'], { encoding: 'utf8' });
    expect(viaWrapper.status).toBe(0);
    expect(viaWrapper.stdout).toBe(renderScheme());
    expect(direct.stdout).toBe(viaWrapper.stdout);
  });

  it('prefers $SPLUNK_HOME/bin/node when it is Node 20 or newer', () => {
    const splunkHome = join(tmp, 'splunk-new');
    mkdirSync(join(splunkHome, 'bin'), { recursive: true });
    symlinkSync(process.execPath, join(splunkHome, 'bin', 'node'));
    const r = run(['--scheme'], { PATH: fakePath('path-old', '18.19.0'), SPLUNK_HOME: splunkHome });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<scheme>');
  });

  it('falls back to node on PATH when $SPLUNK_HOME/bin/node is too old', () => {
    const splunkHome = join(tmp, 'splunk-old');
    mkdirSync(join(splunkHome, 'bin'), { recursive: true });
    writeFileSync(join(splunkHome, 'bin', 'node'), '#!/bin/sh\necho v8.11.3\n');
    chmodSync(join(splunkHome, 'bin', 'node'), 0o755);
    const r = run(['--scheme'], { PATH: process.env.PATH, SPLUNK_HOME: splunkHome });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<scheme>');
  });

  it('passes arguments and stdin through unchanged', () => {
    const r = spawnSync('/bin/sh', [echoWrapper, '--validate-arguments', 'a b', '"q"'], {
      env: { PATH: process.env.PATH },
      input: '<items>é</items>',
      encoding: 'utf8',
    });
    expect(JSON.parse(r.stdout)).toMatchObject({ a: ['--validate-arguments', 'a b', '"q"'], s: '<items>é</items>' });
  });

  it('starts Node with the V8 heap settings and Sparkplug from the first call', () => {
    const r = spawnSync('/bin/sh', [echoWrapper], { env: { PATH: process.env.PATH }, input: '', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).v8).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=175', '--initial-old-space-size=48', '--always-sparkplug']);
  });

  it('gives the Windows wrapper the same V8 settings', () => {
    const sh = readFileSync(WRAPPER, 'utf8');
    const cmd = readFileSync(WRAPPER.replace(/\.sh$/, '.cmd'), 'utf8');
    const flags = (text: string, pattern: RegExp) => pattern.exec(text)?.[1];
    expect(flags(cmd, /^set "HEAP_FLAGS=(.*)"\r$/m)).toBe(flags(sh, /^heap_flags="(.*)"$/m));
    expect(flags(cmd, /^set "START_FLAGS=(.*)"\r$/m)).toBe(flags(sh, /^start_flags="(.*)"$/m));
  });

  it('runs with the heap settings alone, without a word, on a Node that rejects --always-sparkplug', () => {
    const dir = fakePath('path-no-sparkplug');
    writeFileSync(
      join(dir, 'node'),
      `#!/bin/sh\nfor a; do case $a in --always-sparkplug) echo "node: bad option: $a" >&2; exit 9;; esac; done\nexec "${process.execPath}" "$@"\n`,
    );
    chmodSync(join(dir, 'node'), 0o755);
    const r = spawnSync('/bin/sh', [echoWrapper, '--scheme'], { env: { PATH: dir }, input: '', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ a: ['--scheme'], v8: ['--max-semi-space-size=4', '--heap-growing-percent=175', '--initial-old-space-size=48'] });
  });

  it('runs without the heap settings, with one WARN line, on a Node that rejects them', () => {
    // Node refuses to start on an option its V8 lacks, as a later V8 without --heap-growing-percent would.
    const dir = fakePath('path-strict-node');
    writeFileSync(
      join(dir, 'node'),
      `#!/bin/sh\nfor a; do case $a in --heap-growing-percent=*) echo "node: bad option: $a" >&2; exit 9;; esac; done\nexec "${process.execPath}" "$@"\n`,
    );
    chmodSync(join(dir, 'node'), 0o755);
    const r = spawnSync('/bin/sh', [echoWrapper, '--scheme'], { env: { PATH: dir }, input: '', encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ a: ['--scheme'], v8: [] });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^WARN TA-sophos-central: .*node \(v\d+\) does not accept --max-semi-space-size=4 --heap-growing-percent=175 --initial-old-space-size=48; running without them/);
  });

  it('writes one ERROR line and exits 1 when only an old Node exists', () => {
    const r = run(['--scheme'], { PATH: fakePath('path-only-old', '18.19.0') });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ERROR .*Node\.js 20 or newer is required.*v18/);
  });

  it('the bundle run directly on a Node older than 20 writes the same one ERROR line and exits 1, no stack trace', () => {
    // Node 18 as far as the bundle can tell: its version, and no String#isWellFormed.
    const preload = join(tmp, 'node18.cjs');
    writeFileSync(preload, "delete String.prototype.isWellFormed;\nObject.defineProperty(process, 'version', { value: 'v18.19.0' });\nObject.defineProperty(process.versions, 'node', { value: '18.19.0' });\n");
    for (const args of [['--scheme'], ['--validate-arguments'], []]) {
      const r = spawnSync(process.execPath, ['--require', preload, BUNDLE, ...args], { input: '', encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('ERROR TA-sophos-central: Node.js 20 or newer is required, found v18.19.0. Install Node.js 20+ on this host.\n');
    }
  });

  it('writes one ERROR line and exits 1 when the bundle is missing (a broken install)', () => {
    const dir = join(tmp, 'no-bundle');
    mkdirSync(dir);
    writeFileSync(join(dir, 'sophos_central.sh'), readFileSync(WRAPPER));
    const r = spawnSync('/bin/sh', [join(dir, 'sophos_central.sh'), '--scheme'], { env: process.env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`ERROR TA-sophos-central: ${join(dir, 'app', 'sophos_central.js')} is missing: reinstall the add-on.\n`);
  });

  it('writes one ERROR line and exits 1 when no Node exists at all', () => {
    const r = run(['--scheme'], { PATH: fakePath('path-none') });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ERROR .*neither \$SPLUNK_HOME\/bin\/node nor node on PATH/);
  });
});
