// Polling state of the CLI: in the user's state directory (never inside the install, which an upgrade
// replaces), one sub-directory per data type, guarded by a lock file so that two polls cannot send the
// same alerts twice.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CheckpointStore } from '../checkpoint/types.js';
import { processAlive } from '../checkpoint/run-lock.js';
import { ConfigError } from '../errors.js';

export const ENV_STATE_DIR = 'SOPHOS_CENTRAL_STATE_DIR';

/** --state_dir, else $SOPHOS_CENTRAL_STATE_DIR, else $XDG_STATE_HOME/ta-sophos-central, else ~/.local/state/ta-sophos-central. */
export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  return env[ENV_STATE_DIR] || xdgStateDir(env);
}

/** $XDG_STATE_HOME/ta-sophos-central, else ~/.local/state/ta-sophos-central: state that survives upgrades. */
export function xdgStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'ta-sophos-central');
}

export interface PollState {
  dir: string;
  /** True when an earlier poll left state (so --days no longer applies). */
  existed: boolean;
  release(): void;
}

/** Prepares `<stateDir>/<data>`: clears it on --reset, takes the lock. */
export function openPollState(stateDir: string, data: string, reset: boolean): PollState {
  const dir = join(stateDir, data);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ConfigError(`state directory ${dir}: ${(err as Error).message} (set --state_dir or ${ENV_STATE_DIR})`, 'state_dir');
  }
  const lock = join(stateDir, `${data}.lock`);
  takeLock(lock);
  if (reset) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const existed = readdirSync(dir).some((f) => !f.startsWith('.'));
  return { dir, existed, release: () => rmSync(lock, { force: true }) };
}

function takeLock(lock: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigError(`state lock ${lock}: ${(err as Error).message}`);
    }
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new ConfigError(`another sophos-central poll (pid ${pid}) is using ${lock}; wait for it to finish`);
    }
    // The holder is gone (killed or crashed): the lock is stale.
    rmSync(lock, { force: true });
  }
  throw new ConfigError(`could not take the state lock ${lock}`);
}

/**
 * Holds checkpoint saves in memory until `commit`, for outputs whose events are accepted only when a
 * tenant is done (the JSON file is renamed into place then): the window advances with the file, not before.
 */
export class DeferredCheckpointStore implements CheckpointStore {
  private readonly pending = new Map<string, unknown>();

  constructor(private readonly inner: CheckpointStore) {}

  async load<T>(key: string): Promise<T | undefined> {
    return this.pending.has(key) ? (this.pending.get(key) as T) : this.inner.load<T>(key);
  }

  async save<T>(key: string, value: T): Promise<void> {
    this.pending.set(key, structuredClone(value));
  }

  setAside(key: string): Promise<string | undefined> {
    this.pending.delete(key);
    return this.inner.setAside(key);
  }

  async commit(key: string): Promise<void> {
    if (!this.pending.has(key)) return;
    await this.inner.save(key, this.pending.get(key));
    this.pending.delete(key);
  }
}
