// One run of a stanza at a time. splunkd starts an input's next run only once the last has exited, but an
// edit restarts the input (the first run's own masking edit among them), and an input disabled and enabled
// again starts anew, while the process it stopped may still be writing its last page: two runs reading the
// same checkpoints would both send what is new. The lock is a file beside the checkpoints naming its holder.
// One left by a killed process is taken over: its PID is gone, or (Linux) now names a process started after
// it, as after a reboot. Where a process's start cannot be read, a lock its holder has not touched for
// LOCK_STALE_MS is taken over instead (a PID reused since), so the holder touches it while it runs.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, utimes, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { monotonicMs } from '../monotonic.js';
import { checkpointFileName } from './file-store.js';

/** How often the holder touches its lock. */
export const LOCK_HEARTBEAT_MS = 15_000;
/** Where a process's start cannot be read: a lock not touched for this long is stale, four touches missed. */
export const LOCK_STALE_MS = 60_000;
/** A takeover in progress lasts a read and an unlink; one older than this was left by a killed process. */
const TAKEOVER_STALE_MS = 10_000;
/** How often a run waiting for the lock looks again. */
const LOCK_POLL_MS = 200;

export interface RunLock {
  /** Stops touching the lock and removes it, unless another run has taken it over meanwhile. */
  release(): void;
}

/** The lock is another run's: its PID, unless several runs were contending for it. */
export interface Held {
  heldBy: number | undefined;
}

interface Holder {
  pid: number;
  token: string;
  /** The holder's boot and start time (Linux), which a reused PID does not share. */
  started?: string;
}

/** The lock file of a stanza in checkpoint_dir: named as its checkpoints are, so never one of theirs. */
export function runLockFile(dir: string, stanza: string): string {
  return join(dir, checkpointFileName(`run-lock|${stanza}`).replace(/\.json$/, '.lock'));
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
 * The boot and the start time of process `pid` (Linux's /proc), 'exited' for a process that has exited and
 * not yet been reaped (a zombie, which signal 0 still finds), or undefined where they cannot be read.
 */
export function processStarted(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields 3 (state) and 22 (starttime), counted after the command name, which may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return 'exited';
    return fields[19] ? `${boot}/${fields[19]}` : undefined;
  } catch {
    return undefined;
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof holder.pid === 'number' && typeof holder.token === 'string' ? (holder as Holder) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates `file` holding `body` whole, or returns false when it exists. A file created empty and written after
 * (writeFileSync with 'wx') would read, in between, as a lock a crash left unreadable.
 */
function createWhole(file: string, body: string): boolean {
  const temp = `${file}.new-${randomBytes(6).toString('hex')}`;
  writeFileSync(temp, body, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    // Best effort: the link decided the outcome; a scanner holding the file (Windows) must not undo it.
    try {
      unlinkSync(temp);
    } catch {
      // Left as a stray `.new-` file, which nothing reads.
    }
  }
}

/** Whether `holder` (of a lock last touched at `touched`, epoch ms) still runs, as far as this host can tell. */
function holderRuns(holder: Holder, touched: number, now: number): boolean {
  if (holder.pid === process.pid || !processAlive(holder.pid)) return false;
  const started = processStarted(holder.pid);
  if (started === 'exited') return false;
  if (holder.started !== undefined && started !== undefined) return started === holder.started;
  return now - touched < LOCK_STALE_MS;
}

/**
 * Takes the lock at once, or says which process holds it. A lock whose holder no longer runs, or unreadable,
 * is removed and taken: under a takeover lock of its own, so that of two runs taking it over at once one
 * cannot remove the lock the other has just made. Throws what the file system refuses (the caller decides
 * whether to run without).
 */
export function tryRunLock(file: string, now: () => number = Date.now): RunLock | Held {
  mkdirSync(dirname(file), { recursive: true });
  const started = processStarted(process.pid);
  const mine: Holder = { pid: process.pid, token: randomBytes(8).toString('hex'), ...(started ? { started } : {}) };
  const takeover = `${file}.takeover`;
  let seen: Holder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createWhole(file, JSON.stringify(mine))) return holding(file, mine);
    seen = readHolder(file);
    let touched: number;
    try {
      touched = statSync(file).mtimeMs;
    } catch {
      continue; // Released meanwhile.
    }
    if (seen && holderRuns(seen, touched, now())) return { heldBy: seen.pid };
    if (!createWhole(takeover, JSON.stringify(mine))) {
      // Another run is taking it over; one that died doing so left its takeover lock behind.
      const since = statSync(takeover, { throwIfNoEntry: false })?.mtimeMs;
      // Forced: two runs may find it stale at once, and the second finds it gone.
      if (since !== undefined && now() - since > TAKEOVER_STALE_MS) rmSync(takeover, { force: true });
      continue;
    }
    try {
      // Still the lock judged stale (not one another run took over meanwhile): removed.
      if (readHolder(file)?.token === seen?.token) unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    } finally {
      // Forced: a run that judged a takeover lock at this path stale (one a killed run left) removes it by path,
      // and may have removed this one. Its absence must not end the attempt as an error: the run would go on
      // without the lock.
      rmSync(takeover, { force: true });
    }
  }
  // Contended throughout: as good as held, and asked again.
  return { heldBy: seen?.pid };
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

/**
 * tryRunLock, asked again until `waitMs` has passed (a stopped run finishing its last page; Infinity: until the
 * lock is free), or `signal` aborts. The wait is timed on the monotonic clock, which a clock step does not move.
 */
export async function takeRunLock(file: string, waitMs: number, signal?: AbortSignal): Promise<RunLock | Held> {
  const until = monotonicMs() + waitMs;
  for (;;) {
    const got = tryRunLock(file);
    if (!('heldBy' in got) && signal?.aborted) {
      // Stopped before it came free: not this run's to hold.
      got.release();
      return { heldBy: undefined };
    }
    if (!('heldBy' in got) || monotonicMs() >= until || signal?.aborted) return got;
    await new Promise<void>((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}
