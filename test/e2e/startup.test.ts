// What the modular input loads to run: only what it uses. splunkd starts it every interval for every input,
// so each Node module it loads for nothing is start-up paid again and again (npm run bench, "1st event").
// The bundle takes from undici its dispatchers alone (scripts/undici-core.cjs), not fetch, WebSocket or
// HTTP/2 (scripts/no-http2.cjs).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('loads none of the Node modules that only fetch, WebSocket or HTTP/2 need', async () => {
    const loaded = join(dir, 'modules.json');
    const preload = join(dir, 'record-modules.cjs');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(process.moduleLoadList)));\n`);
    const r = await w.run('startup', w.params('alerts', { start_days: '90' }), { env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.alerts)).toHaveLength(5);
    const builtins = (JSON.parse(readFileSync(loaded, 'utf8')) as string[]).filter((m) => m.startsWith('NativeModule '));
    // The HTTP stack the collection itself needs is there, so the list is the run's.
    expect(builtins).toEqual(expect.arrayContaining(['NativeModule net', 'NativeModule http', 'NativeModule tls']));
    expect(builtins.filter((m) => /^NativeModule (http2|zlib|worker_threads)$/.test(m))).toEqual([]);
  });
});
