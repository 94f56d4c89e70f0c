// The input's code cache (src/code-cache.ts): each load in its own process, as splunkd starts the input, since V8
// also keeps what it compiled in the process itself and would hide a cache it did not take.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { codeCacheDir } from '../../src/code-cache.js';
import { ROOT } from '../helpers/paths.js';

const LOAD = join(ROOT, 'test', 'helpers', 'code-cache-load.ts');

describe('requireCompiled', () => {
  let dir: string;
  let file: string;
  let cacheDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ta-code-cache-'));
    file = join(dir, 'app', 'input.js');
    cacheDir = join(dir, 'cache');
    mkdirSync(join(dir, 'app'));
    writeFileSync(join(dir, 'app', 'dep.js'), 'module.exports = 41;\n');
    writeFileSync(file, bundle('one'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A CommonJS file that requires a neighbour and reports where it ran. */
  const bundle = (tag: string) =>
    `const dep = require('./dep.js');\nfunction answer() { return dep + 1; }\nmodule.exports = { tag: ${JSON.stringify(tag)}, answer: answer(), file: __filename, dir: __dirname, self: this === module.exports };\n`;

  const load = (cache: string | null = cacheDir): { cache: string; exports: Record<string, unknown> } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', LOAD, file, ...(cache === null ? [] : [cache])], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as { cache: string; exports: Record<string, unknown> };
  };
  const caches = () => readdirSync(cacheDir).sort();

  it('runs the file as require would, and compiles from the cache its first run kept', () => {
    const first = load();
    expect(first).toEqual({ cache: 'miss', exports: { tag: 'one', answer: 42, file, dir: join(dir, 'app'), self: true } });
    const [kept, ...more] = caches();
    expect(more).toEqual([]);
    expect(kept).toMatch(new RegExp(`^input-\\d+-\\d+-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.cache$`));
    // Private to the user the input runs as.
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cacheDir, kept!)).mode & 0o777).toBe(0o600);
    const before = statSync(join(cacheDir, kept!));

    const second = load();
    expect(second).toEqual({ ...first, cache: 'hit' });
    // Taken as it was: a cache V8 refused would have been written again.
    const after = statSync(join(cacheDir, kept!));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('never takes the cache of an earlier release of the file, and removes it once the new one is kept', () => {
    load();
    const [old] = caches();
    writeFileSync(file, bundle('two'));
    expect(load()).toMatchObject({ cache: 'miss', exports: { tag: 'two', answer: 42 } });
    expect(caches()).toHaveLength(1);
    expect(caches()).not.toContain(old);
    expect(load()).toMatchObject({ cache: 'hit', exports: { tag: 'two' } });
  });

  it('tells a release of the same size by its time', () => {
    load();
    const [old] = caches();
    writeFileSync(file, bundle('6ix'));
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    expect(load()).toMatchObject({ cache: 'miss', exports: { tag: '6ix' } });
    expect(caches()).not.toContain(old);
  });

  it('runs without a cache V8 refuses (damaged), and replaces it', () => {
    load();
    const [name] = caches();
    writeFileSync(join(cacheDir, name!), Buffer.alloc(4096, 7));
    expect(load()).toMatchObject({ cache: 'rejected', exports: { tag: 'one', answer: 42 } });
    expect(readFileSync(join(cacheDir, name!)).equals(Buffer.alloc(4096, 7))).toBe(false);
    expect(load()).toMatchObject({ cache: 'hit' });
  });

  it('runs without a cache where none can be kept', () => {
    // A file stands where the cache directory should be.
    writeFileSync(cacheDir, 'not a directory');
    expect(load()).toMatchObject({ cache: 'miss', exports: { answer: 42 } });
    expect(load()).toMatchObject({ cache: 'miss' });
    expect(readFileSync(cacheDir, 'utf8')).toBe('not a directory');
    expect(readdirSync(dir).sort()).toEqual(['app', 'cache']);
  });

  it('keeps no cache without a directory for it', () => {
    expect(load(null)).toMatchObject({ cache: 'off', exports: { answer: 42 } });
    expect(readdirSync(dir).sort()).toEqual(['app']);
  });
});

describe('codeCacheDir', () => {
  it("is under splunkd's run-time state, and there is none without SPLUNK_HOME", () => {
    expect(codeCacheDir({ SPLUNK_HOME: '/opt/splunk' })).toBe(join('/opt/splunk', 'var', 'run', 'splunk', 'ta_sophos_central', 'code-cache'));
    expect(codeCacheDir({})).toBeUndefined();
  });
});
