// A checkpoint save that fails half-way (the disk fills while the body is written) leaves the previous value
// readable: the body goes to a temp file that only a rename puts in place, never into the checkpoint itself.
// A power cut after the rename finds the new body on disk: it is synced before the rename, the rename after.
// A page loop's saves leave the directory's fsync running (`dirSync: 'later'`); the next rename and flush() wait for it.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoint/file-store.js';
import { CheckpointError } from '../../src/errors.js';

/** `dirSyncs`: whether each coming fsync of a directory fails, in the order they are asked for (then: none). */
const fail = vi.hoisted(() => ({ writes: false, dirSyncs: [] as boolean[] }));
/**
 * With `on`, a directory's fsync completes only when its callback, kept in `held` in the order the fsyncs were
 * asked for, is called; with `files`, a file's likewise, kept in `heldFiles`.
 */
const hold = vi.hoisted(() => ({ on: false, held: [] as (() => void)[], files: false, heldFiles: [] as (() => void)[] }));
/** The durable steps of a save, in the order they were taken (fsync of a file or a directory, rename). */
const steps = vi.hoisted(() => [] as string[]);
/** The temp files renamed into place. */
const renamed = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    writeFileSync: (...args: Parameters<typeof fs.writeFileSync>) => {
      if (fail.writes) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return fs.writeFileSync(...args);
    },
    fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      const dir = fs.fstatSync(fd).isDirectory();
      steps.push(dir ? 'fsync dir' : 'fsync file');
      const failing = dir && fail.dirSyncs.shift() === true;
      const done = (err: NodeJS.ErrnoException | null) => {
        if (dir) steps.push('fsync dir done');
        cb(failing ? Object.assign(new Error('input/output error'), { code: 'EIO' }) : err);
      };
      // Held in the order asked for, whatever order the disk finishes them in.
      const synced = new Promise<NodeJS.ErrnoException | null>((resolve) => fs.fsync(fd, resolve));
      const finish = () => void synced.then(done);
      if (dir && hold.on) hold.held.push(finish);
      else if (!dir && hold.files) hold.heldFiles.push(finish);
      else finish();
    },
    renameSync: (...args: Parameters<typeof fs.renameSync>) => {
      steps.push('rename');
      renamed.push(String(args[0]));
      fs.renameSync(...args);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  fail.writes = false;
  fail.dirSyncs.length = 0;
  hold.on = false;
  hold.held.length = 0;
  hold.files = false;
  hold.heldFiles.length = 0;
  steps.length = 0;
  renamed.length = 0;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A store in a directory of its own, holding `value` under key `k`. */
async function storeHolding(value: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'ta-ckpt-'));
  dirs.push(dir);
  const store = new FileCheckpointStore(dir);
  await store.save('k', value);
  return { dir, store };
}

describe('FileCheckpointStore.save failing as it writes', () => {
  it('keeps the previous value, sets nothing aside and leaves no temp file', async () => {
    const { dir, store } = await storeHolding({ cursor: 'before' });
    fail.writes = true;
    await expect(store.save('k', { cursor: 'after' })).rejects.toBeInstanceOf(CheckpointError);
    fail.writes = false;
    expect(await store.load('k')).toEqual({ cursor: 'before' });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.corrupt-'))).toEqual([]);
  });
});

describe('FileCheckpointStore.save, durable', () => {
  it('syncs the temp file to disk before the rename puts it in place, and the directory after', async () => {
    const { store } = await storeHolding({ cursor: 'first' });
    steps.length = 0;
    await store.save('k', { cursor: 'second' });
    expect(steps).toEqual(['fsync file', 'rename', 'fsync dir', 'fsync dir done']);
  });

  it("names each save's temp file apart, as this process's, in the form prepare() clears once stale", async () => {
    const { store } = await storeHolding({ n: 0 });
    for (let n = 1; n <= 3; n++) await store.save('k', { n });
    const names = renamed.map((path) => path.slice(path.lastIndexOf('.json.')));
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).toMatch(new RegExp(`^\\.json\\.tmp-${process.pid}-[0-9a-f]+$`));
  });
});

/** vi.waitFor's options here: fsyncs take milliseconds, and a slow disk under load may take seconds. */
const WAIT = { timeout: 5_000, interval: 2 };

describe("FileCheckpointStore.save with dirSync: 'later'", () => {
  it('resolves once the rename is done; the next rename and flush() wait for the directory fsync', async () => {
    const { dir, store } = await storeHolding({ cursor: 'first' });
    steps.length = 0;
    hold.on = true;
    await store.save('k', { cursor: 'second' }, { dirSync: 'later' });
    expect(steps).toEqual(['fsync file', 'rename', 'fsync dir']);
    // A process killed now finds the new value: the rename is done.
    expect(await new FileCheckpointStore(dir).load('k')).toEqual({ cursor: 'second' });

    let flushed = false;
    const flush = store.flush().then(() => (flushed = true));
    const third = store.save('k', { cursor: 'third' }, { dirSync: 'later' });
    await vi.waitFor(() => expect([hold.held.length, steps.length]).toEqual([1, 4]), WAIT);
    expect(steps).toEqual(['fsync file', 'rename', 'fsync dir', 'fsync file']);
    expect(flushed).toBe(false);
    hold.held.shift()!();
    await third;
    await flush;
    expect(steps).toEqual(['fsync file', 'rename', 'fsync dir', 'fsync file', 'fsync dir done', 'rename', 'fsync dir']);

    flushed = false;
    const last = store.flush().then(() => (flushed = true));
    await vi.waitFor(() => expect(hold.held).toHaveLength(1), WAIT);
    expect(flushed).toBe(false);
    hold.held.shift()!();
    await last;
    expect(await store.load('k')).toEqual({ cursor: 'third' });
  });

  it('reports a directory fsync that failed, at flush() or at the next save, once', async () => {
    const { store } = await storeHolding({ cursor: 'first' });
    fail.dirSyncs.push(true);
    await store.save('k', { cursor: 'second' }, { dirSync: 'later' });
    await expect(store.flush()).rejects.toThrow(expect.objectContaining({ name: 'CheckpointError', message: expect.stringContaining('EIO') }));
    await expect(store.flush()).resolves.toBeUndefined();

    fail.dirSyncs.push(true);
    await store.save('k', { cursor: 'third' }, { dirSync: 'later' });
    // The rename waits for the failed fsync, and the save fails with it, leaving the value before it in place.
    await expect(store.save('k', { cursor: 'fourth' }, { dirSync: 'later' })).rejects.toBeInstanceOf(CheckpointError);
    expect(await store.load('k')).toEqual({ cursor: 'third' });
    await expect(store.flush()).resolves.toBeUndefined();
  });

  it('joins the directory fsyncs of saves that overlap (tenants sharing the store), so that none goes unreported', async () => {
    const { store } = await storeHolding({ cursor: 'first' });
    hold.on = true;
    // Both pass their wait for earlier fsyncs at once, and the first's fsync fails, the second's not.
    fail.dirSyncs.push(true, false);
    const [a, b] = [store.save('a', { n: 1 }, { dirSync: 'later' }), store.save('b', { n: 1 }, { dirSync: 'later' })];
    await Promise.all([a, b]);
    await vi.waitFor(() => expect(hold.held).toHaveLength(2), WAIT);
    hold.held.splice(0).forEach((release) => release());
    await expect(store.flush()).rejects.toBeInstanceOf(CheckpointError);
    await expect(store.flush()).resolves.toBeUndefined();
  });

  it('keeps a directory fsync started while a flush() waited for an earlier one, for the next flush() to report', async () => {
    const { store } = await storeHolding({ cursor: 'first' });
    hold.on = true;
    hold.files = true;
    fail.dirSyncs.push(false, true);
    const saves = [store.save('a', { n: 1 }, { dirSync: 'later' }), store.save('b', { n: 1 }, { dirSync: 'later' })];
    await vi.waitFor(() => expect(hold.heldFiles).toHaveLength(2), WAIT);
    // The first save's file fsync released: it renames and starts its directory's fsync.
    hold.heldFiles.shift()!();
    await Promise.race(saves);
    const first = store.flush();
    hold.heldFiles.shift()!();
    await Promise.all(saves);
    await vi.waitFor(() => expect(hold.held).toHaveLength(2), WAIT);
    hold.held.shift()!();
    await expect(first).resolves.toBeUndefined();
    hold.held.shift()!();
    await expect(store.flush()).rejects.toBeInstanceOf(CheckpointError);
  });
});
