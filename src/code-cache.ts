// Loading the modular input's bundle with V8's code cache. splunkd starts the input every interval, and each
// start compiled the same 770 KB bundle again, plus every function the run went on to call: 30-40 ms of every
// run before its first event (npm run bench, "1st event"). V8 can save what it compiled and take it back on the
// next start; Node 22 does this itself (module.enableCompileCache), Node 20 only through vm.Script, so this
// file does what it would. A cache that cannot be read or written costs the next start its compile, nothing else.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/** How a load went: compiled from the cache, compiled and cached for next time, or without a cache. */
export type CacheUse = 'hit' | 'miss' | 'rejected' | 'off';

/**
 * Where the input keeps its code cache: under splunkd's run-time state, as a host-local cache must be (not in
 * the app, which a deployment server replaces, nor in checkpoint_dir, which is known only once stdin is read).
 * None without SPLUNK_HOME: run by hand, the input compiles as any script does.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  return env.SPLUNK_HOME ? join(env.SPLUNK_HOME, 'var', 'run', 'splunk', 'ta_sophos_central', 'code-cache') : undefined;
}

/** A file loaded by requireCompiled. */
export interface Compiled {
  exports: unknown;
  cache: CacheUse;
  /**
   * Writes the cache for the next start when this one had none it could use; best called as the process exits,
   * when it holds every function the run compiled, not only the top level. Never throws.
   */
  keep(): void;
}

/**
 * Runs the CommonJS file `file` as require() would and returns its exports, compiled from the cache in `cacheDir`
 * when one fits. A cache is named by the file's size and time and by the Node that made it, so a new release or
 * another Node never takes an old one (V8 itself checks only its own version, flags and the source's length).
 */
export function requireCompiled(file: string, cacheDir: string | undefined): Compiled {
  // Named by the file it read, not by one an upgrade put in its place meanwhile.
  const fd = openSync(file, 'r');
  let source: string;
  let size: number;
  let mtimeMs: number;
  try {
    ({ size, mtimeMs } = fstatSync(fd));
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const stem = `${basename(file, '.js')}-`;
  const name = `${stem}${size}-${Math.trunc(mtimeMs)}-${process.version}-${process.arch}.cache`;
  const cached = cacheDir === undefined ? undefined : readCache(join(cacheDir, name));
  const script = new Script(wrap(source), { filename: file, ...(cached ? { cachedData: cached } : {}) });
  const cache: CacheUse = cacheDir === undefined ? 'off' : cached === undefined ? 'miss' : script.cachedDataRejected ? 'rejected' : 'hit';
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cache,
    keep: () => {
      if (cacheDir !== undefined && cache !== 'hit') keepCache(cacheDir, stem, name, script);
    },
  };
}

function readCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Writes the cache whole (another input may start meanwhile) and removes those of earlier releases or Nodes. */
function keepCache(dir: string, stem: string, name: string, script: Script): void {
  const temp = join(dir, `${name}.tmp-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    renameSync(temp, join(dir, name));
    for (const other of readdirSync(dir)) {
      if (other.startsWith(stem) && other !== name) rmSync(join(dir, other), { force: true });
    }
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Left behind, to be replaced by the next start that writes a cache.
    }
  }
}
