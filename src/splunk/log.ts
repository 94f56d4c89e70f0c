// The modular input's Logger: one severity-prefixed line per message on stderr (splunkd.log takes the level
// from the leading word, splunk-addon.md §1.8) and, when SPLUNK_HOME is set, a detailed file
// $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log (indexed into _internal by default) with size-based rotation.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from '../errors.js';
import { LEVEL_RANK, logText, type Logger, type LogLevel } from '../log.js';

export const LOG_FILE_NAME = 'ta_sophos_central.log';

export interface SplunkLoggerOptions {
  level?: LogLevel;
  /** Full stanza name, shown on every line. */
  stanza?: string;
  /** When set, also log to $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log. */
  splunkHome?: string;
  /** Rotate when the file would exceed this size (default 25 MB, solnlib's default). */
  maxBytes?: number;
  /** Rotated files kept: .1 (newest) to .N (default 5). */
  maxFiles?: number;
  stderr?: { write(text: string): unknown };
  now?: () => Date;
}

/** How long a rotation the file system refused waits before it is tried again. */
const ROTATE_RETRY_MS = 60_000;
/** A rotation lock older than this was left by a process that died while rotating. */
const STALE_LOCK_MS = 60_000;

/**
 * Appends lines to a file and rotates it by size. Several input processes share the file (one per stanza),
 * so one rotates at a time, under a lock directory, and only if the path still names the file it found full;
 * a process whose file was rotated away by another writes its next line to the new file at the path.
 * Windows refuses to rename a file another process holds open: then the lines keep going to the file as it
 * is, and rotation is tried again a minute later.
 */
class RotatingFile {
  private fd: number | undefined;
  private rotateAfter = 0;
  private stuck = false;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private readonly now: () => number,
    /** Told once when rotation cannot even begin (the directory refuses the lock): the file then grows. */
    private readonly onStuck: (reason: string) => void,
  ) {}

  append(line: string): void {
    const bytes = Buffer.byteLength(line);
    let st = fstatSync(this.open());
    // Rotated away by another process: this line belongs in the file now at the path, not in `.1`.
    if (!this.atPath(st.ino)) {
      this.close();
      st = fstatSync(this.open());
    }
    if (st.size > 0 && st.size + bytes > this.maxBytes && this.now() >= this.rotateAfter) this.rotate(st.ino);
    writeSync(this.open(), line);
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) closeSync(fd);
    } catch {
      // Closing a descriptor that already failed: nothing left to release.
    }
  }

  private open(): number {
    this.fd ??= openSync(this.path, 'a', 0o600);
    return this.fd;
  }

  /** Whether the path names the file with this inode. */
  private atPath(ino: number): boolean {
    try {
      return statSync(this.path).ino === ino;
    } catch {
      return false;
    }
  }

  private rotate(ino: number): void {
    // Two processes rotating at once would each shift the generations, the second one moving the fresh file
    // the first had just left, so that a full generation was dropped early.
    const lock = `${this.path}.rotation-lock`;
    const got = acquireLock(lock);
    // Held: another process is rotating this very file, and the next line finds the new one.
    if (got === 'held') return;
    if (got !== 'ok') {
      // The directory refuses new entries (permissions, a read-only mount): asked again in a minute, not per line.
      this.rotateAfter = this.now() + ROTATE_RETRY_MS;
      if (!this.stuck) this.onStuck(got.refused);
      this.stuck = true;
      return;
    }
    try {
      // Asked under the lock: another process may have rotated the full file meanwhile.
      if (this.atPath(ino) && !this.shiftGenerations()) {
        this.rotateAfter = this.now() + ROTATE_RETRY_MS;
        return;
      }
    } finally {
      removeQuietly(lock);
    }
    // Rotated here or by another process already: either way, reopen the (new) file at the path.
    this.close();
  }

  /**
   * Moves the full file to `.1` and each older generation one up, the oldest dropped. The two moves Windows
   * may refuse (the file and `.1`, which another process can still hold open) come first, each to a name of
   * this process's own, so that a refusal puts things back before any other generation has moved.
   * False when refused: nothing is lost and the file keeps its name.
   */
  private shiftGenerations(): boolean {
    const aside = `${this.path}.rotating-${process.pid}`;
    const first = `${this.path}.1`;
    const firstAside = `${first}.rotating-${process.pid}`;
    const moved = tryRename(this.path, aside);
    if (moved !== 'ok') return moved === 'missing';
    if (tryRename(first, firstAside) === 'refused') {
      tryRename(aside, this.path);
      return false;
    }
    for (let i = this.maxFiles - 1; i >= 2; i--) tryRename(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    if (this.maxFiles >= 2) tryRename(firstAside, `${this.path}.2`);
    else removeQuietly(firstAside);
    if (tryRename(aside, first) !== 'ok') {
      tryRename(aside, this.path);
      return false;
    }
    return true;
  }
}

/**
 * Creates the lock directory (atomic across processes); one left by a process that died is taken over.
 * `held` while another process has it; `refused` with the reason when the directory takes no new entry.
 */
function acquireLock(lock: string): 'ok' | 'held' | { refused: string } {
  try {
    mkdirSync(lock);
    return 'ok';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { refused: (err as Error).message };
  }
  try {
    if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return 'held';
    rmdirSync(lock);
    mkdirSync(lock);
    return 'ok';
  } catch {
    return 'held';
  }
}

/** Removes a file or the lock directory; what cannot be removed stays, and nothing is lost by it. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // an oldest generation under this process's name, or a lock a later rotation takes over as stale
  }
}

/** A rename that reports instead of throwing: `missing` when there was nothing to move. */
function tryRename(from: string, to: string): 'ok' | 'missing' | 'refused' {
  try {
    renameSync(from, to);
    return 'ok';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'refused';
  }
}

export function createSplunkLogger(options: SplunkLoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'INFO'];
  const stderr = options.stderr ?? process.stderr;
  const now = options.now ?? (() => new Date());
  // A stanza name is splunkd's to choose: one with a line break in it must not split a line either.
  const stanza = options.stanza === undefined ? undefined : oneLine(options.stanza);
  const prefix = stanza ? `TA-sophos-central ${stanza}: ` : 'TA-sophos-central: ';
  let file: RotatingFile | undefined;
  if (options.splunkHome) {
    const dir = join(options.splunkHome, 'var', 'log', 'splunk');
    try {
      mkdirSync(dir, { recursive: true });
      const maxBytes = options.maxBytes ?? 25 * 1024 * 1024;
      const path = join(dir, LOG_FILE_NAME);
      file = new RotatingFile(path, maxBytes, options.maxFiles ?? 5, () => now().getTime(), (reason) => {
        stderr.write(`WARN ${prefix}cannot rotate ${path}, so it grows past ${maxBytes} bytes until ${dir} lets this user create files: ${oneLine(reason)}\n`);
      });
    } catch (err) {
      stderr.write(`WARN ${prefix}cannot write ${join(dir, LOG_FILE_NAME)}: ${(err as Error).message}\n`);
    }
  }

  const log = (level: LogLevel, message: string): void => {
    if (LEVEL_RANK[level] < threshold) return;
    const text = logText(message);
    // DEBUG stays out of splunkd.log when the add-on's own file exists.
    if (level !== 'DEBUG' || !file) stderr.write(`${level} ${prefix}${text}\n`);
    if (!file) return;
    try {
      file.append(`${now().toISOString()} ${level} pid=${process.pid}${stanza ? ` stanza=${stanza}` : ''} | ${text}\n`);
    } catch (err) {
      file.close();
      file = undefined;
      stderr.write(`WARN ${prefix}stopped writing ${LOG_FILE_NAME}: ${oneLine((err as Error).message)}\n`);
    }
  };

  return {
    debug: (m) => log('DEBUG', m),
    info: (m) => log('INFO', m),
    warn: (m) => log('WARN', m),
    error: (m) => log('ERROR', m),
  };
}
