// A checkpoint save that fails half-way (the disk fills while the body is written) leaves the previous value
// readable: the body goes to a temp file that only a rename puts in place, never into the checkpoint itself.
// A power cut after the rename finds the new body on disk: it is synced before the rename, the rename after.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileCheckpointStore } from '../../src/checkpoint/file-store.js';
import { CheckpointError } from '../../src/errors.js';

const fail = vi.hoisted(() => ({ writes: false }));
/** The durable steps of a save, in the order they were taken (fsync of a file or a directory, rename). */
const steps = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    writeFileSync: (...args: Parameters<typeof fs.writeFileSync>) => {
      if (fail.writes) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      return fs.writeFileSync(...args);
    },
    fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      steps.push(fs.fstatSync(fd).isDirectory() ? 'fsync dir' : 'fsync file');
      fs.fsync(fd, cb);
    },
    renameSync: (...args: Parameters<typeof fs.renameSync>) => {
      steps.push('rename');
      fs.renameSync(...args);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  fail.writes = false;
  steps.length = 0;
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
    expect(steps).toEqual(['fsync file', 'rename', 'fsync dir']);
  });
});
