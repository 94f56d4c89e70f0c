// CheckpointStore as one JSON file per key in a directory (Splunk's checkpoint_dir, or the CLI's state dir).
// Callers store cursors, high-water marks and IDs only; a secret or token never belongs in a checkpoint, and
// this store has no notion of one. Several input processes share checkpoint_dir, each with its own keys.
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fsync, mkdir, openSync, readdir, readFile, readSync, rename, renameSync, rm, rmSync, stat, unlinkSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CheckpointError, CorruptCheckpointError } from '../errors.js';
import type { CheckpointStore, SaveOptions } from './types.js';

interface Envelope {
  key: string;
  savedAt: string;
  value: unknown;
}

const STALE_TEMP_MS = 60 * 60 * 1000;
/**
 * What probe() writes: one file-system block, about what a checkpoint takes. More would stop collection on a
 * nearly full disk where the real saves still fit.
 */
const PROBE_BODY = Buffer.alloc(4096, 0x20);

/**
 * The few asynchronous calls the store makes, promisified from the callback API. Not fs.promises: loading it
 * (it brings readline and file streams with it) took about 4 ms of every run's start-up here.
 */
const fs = {
  fsync: promisify(fsync),
  mkdir: promisify(mkdir),
  readdir: promisify(readdir),
  readFile: promisify(readFile),
  rename: promisify(rename),
  rm: promisify(rm),
  stat: promisify(stat),
};

let tempTag: string | undefined;
let temps = 0;

/**
 * What makes a scratch file's name this process's own: its pid, a random tag drawn once, and a count, all hex
 * after the pid. One random draw per save cost about 60 µs, 0.6% of a collection run (npm run bench).
 */
function tempSuffix(): string {
  tempTag ??= randomBytes(4).toString('hex');
  return `${process.pid}-${tempTag}${(temps++).toString(16)}`;
}

/** How a damaged checkpoint set aside by load() is named: its file name, this, then the time. */
const CORRUPT_SUFFIX = '.corrupt-';

/**
 * The file name for a key: a readable, filesystem-safe prefix plus a hash of the exact key. The hash keeps
 * names unambiguous (keys differing only in case or in replaced characters never share a file, also on
 * case-insensitive filesystems) and bounded in length.
 */
export function checkpointFileName(key: string): string {
  const hash = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${readablePart(key) || 'key'}.${hash}.json`;
}

/**
 * How the file name of every key that starts with `keyPrefix` starts. Other keys' names may start the same
 * way (`a|` and `a_b|` both give `a_`): only checkpointFileName of a whole key says which key a name is.
 */
export function checkpointFilePrefix(keyPrefix: string): string {
  return readablePart(keyPrefix);
}

/** Lower case, runs of other characters as one `_`, no leading dot or underscore, at most 80 characters. */
function readablePart(key: string): string {
  return key
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 80);
}

export class FileCheckpointStore implements CheckpointStore {
  private cleaned = false;
  /** The directory fsyncs that saves with `dirSync: 'later'` left running, joined: none once flushed. */
  private dirSynced: Promise<unknown> | undefined;

  constructor(private readonly dir: string) {}

  async load<T>(key: string): Promise<T | undefined> {
    const file = join(this.dir, checkpointFileName(key));
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeFailure('read', file, err, this.dir);
    }
    let envelope: Envelope | undefined;
    try {
      const parsed = JSON.parse(text) as Envelope;
      if (parsed && typeof parsed === 'object' && parsed.key === key && 'value' in parsed) envelope = parsed;
    } catch {
      envelope = undefined;
    }
    if (envelope === undefined) {
      const aside = await this.setAside(key);
      // Gone meanwhile: another input process set it aside (and reported it) first.
      if (aside === undefined) return undefined;
      throw new CorruptCheckpointError(`checkpoint for "${key}" was unreadable and was set aside as ${aside}`);
    }
    return envelope.value as T;
  }

  async setAside(key: string): Promise<string | undefined> {
    // Set aside rather than delete: an admin can inspect it, and the next run starts from a safe point
    // instead of failing on every run.
    const file = join(this.dir, checkpointFileName(key));
    const aside = `${file}${CORRUPT_SUFFIX}${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      await fs.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeFailure('set aside the unusable checkpoint', file, err, this.dir);
    }
    return aside;
  }

  /**
   * Write a temp file, fsync, rename over the old one, fsync the directory: a crash leaves old or new.
   *
   * Hot path (one save per page, and a page is written only once the previous page's save is done). As
   * fs.promises calls, each waited for a turn of a loop busy with the next page; fully synchronous, the
   * loop sat blocked in fsync. So the quick calls are synchronous and only the two fsyncs go to the
   * thread pool, where they overlap with the next page's work.
   *
   * With `dirSync: 'later'` the save resolves once the rename is done, and the directory's fsync, which makes
   * the rename itself durable, goes on meanwhile: the next save waits for it before its own rename, and
   * flush() waits for it. See SaveOptions.
   */
  async save<T>(key: string, value: T, options?: SaveOptions): Promise<void> {
    try {
      await this.prepare();
      const file = join(this.dir, checkpointFileName(key));
      const temp = `${file}.tmp-${tempSuffix()}`;
      const body = JSON.stringify({ key, savedAt: new Date().toISOString(), value } satisfies Envelope);
      let fd: number | undefined;
      try {
        fd = openSync(temp, 'w', 0o600);
        writeFileSync(fd, body, 'utf8');
        // No rename overtakes one whose directory fsync is still running: at most one is not yet durable.
        await Promise.all([fs.fsync(fd), this.flush()]);
        closeSync(fd);
        fd = undefined;
        renameSync(temp, file);
      } catch (err) {
        if (fd !== undefined) closeSync(fd);
        removeTemp(temp);
        throw err;
      }
      if (options?.dirSync === 'later') this.syncDirLater();
      else await this.syncDir();
    } catch (err) {
      throw storeFailure('save the checkpoint in', this.dir, err, this.dir);
    }
  }

  /** Resolves once the rename of every save so far is durable; rejects when a directory fsync left running failed. */
  async flush(): Promise<void> {
    const pending = this.dirSynced;
    if (pending === undefined) return;
    try {
      await pending;
    } catch (err) {
      throw storeFailure('save the checkpoint in', this.dir, err, this.dir);
    } finally {
      // Done with once waited for, unless another save's fsync was joined to it meanwhile (another tenant's):
      // then the next flush waits for both, and reports a failure of either.
      if (this.dirSynced === pending) this.dirSynced = undefined;
    }
  }

  /**
   * Writes, fsyncs and removes a scratch file about the size of a checkpoint. A collector that wrote a
   * page and then failed to save its checkpoint sends that page again on the next run: with the directory
   * refusing every save (a read-only or full disk), every run would send the same first pages again until an
   * admin stepped in. Asked first, the directory stops the run before anything is written instead.
   */
  async probe(): Promise<void> {
    let temp: string | undefined;
    try {
      await this.prepare();
      // Named like save()'s temp files, so that prepare() removes it should this process die meanwhile.
      temp = join(this.dir, `probe.json.tmp-${tempSuffix()}`);
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeFileSync(fd, PROBE_BODY);
        await fs.fsync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw storeFailure('save the checkpoint in', this.dir, err, this.dir);
    } finally {
      if (temp !== undefined) removeTemp(temp);
    }
  }

  /**
   * Removes every checkpoint whose key `orphaned` says belongs to nothing any more, except those written at
   * or after `writtenBefore` (epoch ms): whatever created them may be newer than the caller's knowledge.
   * Files `live` recognises by name as belonging to what still exists are not even read: with thousands of
   * tenants, reading every file after every run cost seconds. Unreadable files are left to load(). Copies
   * load() set aside (`.corrupt-<time>`) go with their checkpoint, or, where none was saved since, by the key
   * they open with when it is still readable: nothing else would ever remove them.
   * Returns the removed keys.
   */
  async removeOrphans(orphaned: (key: string) => boolean, writtenBefore: number, live: (name: string) => boolean = () => false): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const removed: string[] = [];
    /** File names removed here: their set-aside copies go with them. */
    const gone = new Set<string>();
    const head = Buffer.alloc(HEAD_BYTES);
    for (const name of names.filter((n) => n.endsWith('.json') && !live(n))) {
      const file = join(this.dir, name);
      try {
        // save() writes the key first: a file's first bytes say whose it is, without reading the rest.
        const key = keyAtHead(file, head) ?? (JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Envelope>).key;
        if (typeof key !== 'string' || !orphaned(key) || file !== join(this.dir, checkpointFileName(key))) continue;
        if ((await fs.stat(file)).mtimeMs >= writtenBefore) continue;
        await fs.rm(file, { force: true });
        gone.add(name);
        removed.push(key);
      } catch {
        // Gone meanwhile (another input process), or unreadable: nothing to do here.
      }
    }
    const present = new Set(names);
    for (const aside of names) {
      const at = aside.indexOf(CORRUPT_SUFFIX);
      if (at < 0) continue;
      const base = aside.slice(0, at);
      if (present.has(base) && !gone.has(base)) continue;
      const file = join(this.dir, aside);
      try {
        if (!gone.has(base)) {
          const key = keyAtHead(file, head);
          if (key === undefined || !orphaned(key) || checkpointFileName(key) !== base) continue;
          if ((await fs.stat(file)).mtimeMs >= writtenBefore) continue;
        }
        await fs.rm(file, { force: true });
      } catch {
        // Gone meanwhile: nothing to do here.
      }
    }
    if (removed.length > 0) await this.syncDir();
    return removed;
  }

  /** Creates the directory once and removes temp files that a killed process left behind long ago. */
  private async prepare(): Promise<void> {
    if (this.cleaned) return;
    await fs.mkdir(this.dir, { recursive: true });
    const now = Date.now();
    for (const name of await fs.readdir(this.dir)) {
      if (!/\.json\.tmp-\d+-[0-9a-f]+$/.test(name)) continue;
      const path = join(this.dir, name);
      const st = await fs.stat(path).catch(() => undefined);
      // House-keeping only: a temp file another program holds (Windows refuses to delete it) must not fail
      // the save, or every save of every input sharing the directory would fail with it.
      if (st && now - st.mtimeMs > STALE_TEMP_MS) await fs.rm(path, { force: true }).catch(() => undefined);
    }
    this.cleaned = true;
  }

  /** Starts the directory's fsync and joins it to those still running, so that no failure goes unreported. */
  private syncDirLater(): void {
    const synced = this.syncDir();
    this.dirSynced = this.dirSynced === undefined ? synced : Promise.all([this.dirSynced, synced]);
    // Reported by the next save or flush(); never an unhandled rejection meanwhile.
    this.dirSynced.catch(() => undefined);
  }

  private async syncDir(): Promise<void> {
    // Makes the rename itself durable. Windows cannot open a directory for fsync; there rename is all we have.
    if (process.platform === 'win32') return;
    const fd = openSync(this.dir, 'r');
    try {
      await fs.fsync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Enough for the `{"key":"..."` that opens an envelope, however long the stanza name within reason. */
const HEAD_BYTES = 1024;

/** The key an envelope opens with, or undefined when the file does not start like one (then it is read whole). */
function keyAtHead(file: string, buffer: Buffer): string | undefined {
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const literal = /^\{"key":("(?:[^"\\]|\\.)*")/.exec(buffer.toString('utf8', 0, read))?.[1];
    return literal === undefined ? undefined : (JSON.parse(literal) as string);
  } finally {
    closeSync(fd);
  }
}

/** A half-written temp file goes now where it can; where it cannot, prepare() of a later run removes it. */
function removeTemp(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // Left for prepare(): the directory refused the removal too.
  }
}

/** Errors that say the directory (its disk, its file system, its path) is unusable, not one file in it. */
const DIRECTORY_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'ENOTDIR', 'ENOENT', 'EIO']);

/**
 * One actionable line for a file-system failure: what failed, where, the errno, and what usually fixes it;
 * and whether it is the directory's (every tenant's) or one file's. A permission error is the directory's
 * only when the directory itself refuses this user.
 */
export function storeFailure(what: string, path: string, err: unknown, dir: string): CheckpointError {
  if (err instanceof CheckpointError) return err;
  const raw = (err as NodeJS.ErrnoException).code;
  const code = errnoOf(err);
  const scope = failureScope(err, dir);
  const hint =
    code === 'EBUSY' || (process.platform === 'win32' && code === 'EPERM')
      ? 'another program (antivirus, backup) may hold the file open, or the user this runs as cannot write there'
      : code === 'EACCES' || code === 'EPERM'
        ? 'the user this runs as must be able to read and write there'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'the disk is full'
          : code === 'EROFS'
            ? 'the file system is read-only'
            : code === 'ENOTDIR'
              ? `a file stands where ${raw === 'EEXIST' ? `the directory ${dir}` : `a directory of ${dir}`} should be`
              : code === 'EISDIR'
                ? 'a directory stands where the checkpoint file should be: remove it'
                : undefined;
  const reason = raw ?? (err instanceof Error ? err.message : String(err));
  return new CheckpointError(`cannot ${what} ${path}: ${reason}${hint ? `; ${hint}` : ''}`, scope, { cause: err });
}

/** The errno of a file-system failure, an EEXIST from mkdir of checkpoint_dir itself (where a file stands) read as the ENOTDIR it is, one level up. */
function errnoOf(err: unknown): string | undefined {
  const raw = (err as NodeJS.ErrnoException).code;
  return raw === 'EEXIST' ? 'ENOTDIR' : raw;
}

/**
 * Whose a file-system failure in `dir` is: the directory's (every file in it fails alike: its disk, its file
 * system, its path, or a permission the directory itself refuses) or one file's.
 */
export function failureScope(err: unknown, dir: string): 'directory' | 'file' {
  const code = errnoOf(err);
  return DIRECTORY_ERRORS.has(code ?? '') || ((code === 'EACCES' || code === 'EPERM') && !usable(dir)) ? 'directory' : 'file';
}

/**
 * Whether this user can list the directory and create a file in it. Creating one is the only test that
 * holds on Windows too, where access checks look at the read-only attribute and not at the folder's ACL.
 */
function usable(dir: string): boolean {
  const probe = join(dir, `.probe-${tempSuffix()}`);
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
    closeSync(openSync(probe, 'wx', 0o600));
  } catch {
    return false;
  }
  try {
    unlinkSync(probe);
  } catch {
    // an empty probe file left behind costs nothing
  }
  return true;
}
