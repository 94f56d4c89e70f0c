// The modular input's Logger: one severity-prefixed line per message on stderr (splunkd.log takes the level
// from the leading word, splunk-addon.md §1.8) and, when SPLUNK_HOME is set, a detailed file
// $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log (indexed into _internal by default) with size-based rotation.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
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

/**
 * Appends lines to a file and rotates it by size. Several input processes share the file, so rotation
 * checks that the path still names the file this process has open before renaming (best effort).
 * Windows refuses to rename a file another process holds open: then the lines keep going to the file as it
 * is, and rotation is tried again a minute later.
 */
class RotatingFile {
  private fd: number | undefined;
  private rotateAfter = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private readonly now: () => number,
  ) {}

  append(line: string): void {
    const bytes = Buffer.byteLength(line);
    const fd = this.open();
    const st = fstatSync(fd);
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

  private rotate(ino: number): void {
    let current: number | undefined;
    try {
      current = statSync(this.path).ino;
    } catch {
      current = undefined;
    }
    if (current === ino) {
      // The full file moves aside first: if that is refused, no older generation has been shifted yet.
      const aside = `${this.path}.rotating-${process.pid}`;
      try {
        renameSync(this.path, aside);
      } catch {
        this.rotateAfter = this.now() + ROTATE_RETRY_MS;
        return;
      }
      for (let i = this.maxFiles - 1; i >= 1; i--) {
        try {
          renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch {
          // that generation does not exist yet
        }
      }
      try {
        renameSync(aside, `${this.path}.1`);
      } catch {
        // `.1` is held (Windows): the file goes back to its name, or failing that stays open where it is.
        try {
          renameSync(aside, this.path);
        } catch {
          // appended to through the open descriptor until the next attempt
        }
        this.rotateAfter = this.now() + ROTATE_RETRY_MS;
        return;
      }
    }
    // Another process may have rotated already: either way, reopen the (new) file at the path.
    this.close();
  }
}

export function createSplunkLogger(options: SplunkLoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'INFO'];
  const stderr = options.stderr ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const prefix = options.stanza ? `TA-sophos-central ${options.stanza}: ` : 'TA-sophos-central: ';
  let file: RotatingFile | undefined;
  if (options.splunkHome) {
    const dir = join(options.splunkHome, 'var', 'log', 'splunk');
    try {
      mkdirSync(dir, { recursive: true });
      file = new RotatingFile(join(dir, LOG_FILE_NAME), options.maxBytes ?? 25 * 1024 * 1024, options.maxFiles ?? 5, () => now().getTime());
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
      file.append(`${now().toISOString()} ${level} pid=${process.pid}${options.stanza ? ` stanza=${options.stanza}` : ''} | ${text}\n`);
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
