// What the modular input loads to run: only what it uses. splunkd starts it every interval for every input,
// so each Node module it loads for nothing is start-up paid again and again (npm run bench, "1st event").
// The bundle takes from undici its dispatchers alone (scripts/undici-core.cjs), not fetch, WebSocket or
// HTTP/2 (scripts/no-http2.cjs), nor node:assert for its invariants (scripts/undici-assert.cjs), nor node:http for a
// class and a number (scripts/undici-http.cjs); and the input's own code reads neither the global `performance`
// (src/monotonic.ts) nor fs.promises (src/checkpoint/file-store.ts), each of which loads modules of its own. And
// what it compiles it takes, from its second run on, from the code cache its first run kept (src/code-cache.ts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeCacheDir } from '../../src/code-cache.js';
import { BUNDLE } from '../helpers/paths.js';
import { ids, SOURCETYPE, startWorld, type World } from './world.js';

describe('the modular input at run time', () => {
  let w: World;
  let dir: string;
  beforeAll(async () => {
    w = await startWorld({ seed: 'startup', tenants: 1, alertsPerTenant: 5 });
    dir = mkdtempSync(join(tmpdir(), 'ta-startup-'));
  });
  afterAll(async () => {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads none of the Node modules that only fetch, WebSocket, HTTP/2, node:http, node:assert, performance or fs.promises need', async () => {
    const loaded = join(dir, 'modules.json');
    const preload = join(dir, 'record-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(process.moduleLoadList)));\n`);
    const r = await w.run('startup', w.params('alerts', { start_days: '90' }), { env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.alerts)).toHaveLength(5);
    const builtins = (JSON.parse(readFileSync(loaded, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule '));
    // The HTTP stack the collection itself needs is there, so the list is the run's.
    expect(builtins).toEqual(expect.arrayContaining(['NativeModule net', 'NativeModule tls']));
    expect(builtins.filter((m) => /^NativeModule (http2?|zlib|worker_threads|assert|perf_hooks|internal\/fs\/promises)$/.test(m))).toEqual([]);
  });

  it("keeps a code cache from a collection run under SPLUNK_HOME, and the next run compiles from it", async () => {
    const cacheDir = codeCacheDir({ SPLUNK_HOME: w.splunkd.splunkHome })!;
    const files = () => (existsSync(cacheDir) ? readdirSync(cacheDir) : []);
    // The run of the test above kept one.
    rmSync(cacheDir, { recursive: true, force: true });
    // splunkd's validation of an input calls a fraction of what a run does: it keeps no cache.
    const v = await w.splunkd.validate(w.params('alerts'));
    expect(v.exitCode).toBe(0);
    expect(files()).toEqual([]);

    const first = await w.run('cache', w.params('alerts', { start_days: '90' }));
    expect(first.exitCode).toBe(0);
    expect(ids(first.records, SOURCETYPE.alerts)).toHaveLength(5);
    const [kept, ...more] = files();
    expect(more).toEqual([]);
    expect(kept).toMatch(/^sophos_central_input-\d+-\d+-v[\d.]+-\w+\.cache$/);
    const before = statSync(join(cacheDir, kept!));

    w.emu.addAlerts(w.emu.tenants[0]!.id, 2, { raisedAt: w.emu.clock.now() - 120_000 });
    const second = await w.run('cache', w.params('alerts', { start_days: '90' }));
    expect(second.exitCode).toBe(0);
    expect(ids(second.records, SOURCETYPE.alerts)).toHaveLength(2);
    // V8 took it: one it refused would have been written again, as a new file.
    const after = statSync(join(cacheDir, kept!));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('says in one line that the input bundle is missing, without a stack trace', () => {
    const app = mkdtempSync(join(tmpdir(), 'ta-startup-app-'));
    try {
      copyFileSync(BUNDLE, join(app, 'sophos_central.js'));
      const r = spawnSync(process.execPath, [join(app, 'sophos_central.js')], { input: '', encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`ERROR TA-sophos-central: ${join(app, 'sophos_central_input.js')} is missing: reinstall the add-on.\n`);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
