// One run of a stanza at a time. splunkd starts an input's next run only once the last has exited, but an
// edit restarts the input (the first run's own masking edit among them), and an input disabled and enabled
// again starts anew, while the process it stopped may still be writing its last page: two runs reading the
// same checkpoints would both send what is new. The lock is a file beside the checkpoints naming its holder,
// touched while held, so that one left by a killed process (dead PID), or after a reboot by a PID reused
// since (not touched for LOCK_STALE_MS), is taken over.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, utimes, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointFileName } from './file-store.js';

/** How often the holder touches its lock. */
export const LOCK_HEARTBEAT_MS = 15_000;
/** A lock not touched for this long is stale whoever holds it: four heartbeats missed. */
export const LOCK_STALE_MS = 60_000;
/** How often a run waiting for the lock looks again. */
const LOCK_POLL_MS = 200;

export interface RunLock {
  /** Stops touching the lock and removes it, unless another run has taken it over meanwhile. */
  release(): void;
}

interface Holder {
  pid: number;
  token: string;
}

/** The lock file of a stanza in checkpoint_dir: named as its checkpoints are, so never one of theirs. */
export function runLockFile(dir: string, stanza: string): string {
  return join(dir, checkpointFileName(`run-lock|${stanza}`).replace(/\.json$/, '.lock'));
}

function readHolder(file: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof holder.pid === 'number' && typeof holder.token === 'string' ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock at once, or says which live process holds it. A lock whose holder is gone, unreadable (a
 * crash while writing it) or not touched for LOCK_STALE_MS is taken over. Throws what the file system
 * refuses (the caller decides whether to run without).
 */
export function tryRunLock(file: string, now: () => number = Date.now): RunLock | { heldBy: number } {
  mkdirSync(join(file, '..'), { recursive: true });
  const mine: Holder = { pid: process.pid, token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx', mode: 0o600 });
      return holding(file, mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readHolder(file);
    let touched: number;
    try {
      touched = statSync(file).mtimeMs;
    } catch {
      continue; // Released meanwhile.
    }
    if (holder && holder.pid !== process.pid && processAlive(holder.pid) && now() - touched < LOCK_STALE_MS) return { heldBy: holder.pid };
    // Stale. Moved aside and checked before removal: two runs taking it over at once must not remove the fresh
    // lock one of them has just written.
    const aside = `${file}.stale-${mine.token}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    if (readHolder(aside)?.token === holder?.token) unlinkSync(aside);
    else renameSync(aside, file);
  }
  throw new Error(`could not take the run lock ${file}`);
}

function holding(file: string, mine: Holder): RunLock {
  const beat = setInterval(() => {
    const at = new Date();
    // Best effort: a missed touch costs nothing until four are missed in a row.
    utimes(file, at, at, () => undefined);
  }, LOCK_HEARTBEAT_MS);
  beat.unref();
  return {
    release() {
      clearInterval(beat);
      if (readHolder(file)?.token !== mine.token) return;
      try {
        unlinkSync(file);
      } catch {
        // Gone already.
      }
    },
  };
}

/** tryRunLock, asked again until `waitMs` has passed (a stopped run finishing its last page), or `signal` aborts. */
export async function takeRunLock(file: string, waitMs: number, signal?: AbortSignal): Promise<RunLock | { heldBy: number }> {
  const until = Date.now() + waitMs;
  for (;;) {
    const got = tryRunLock(file);
    if (!('heldBy' in got) || Date.now() >= until || signal?.aborted) return got;
    await new Promise<void>((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}
