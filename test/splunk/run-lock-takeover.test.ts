// The run lock's takeover under a race that only a mocked file system can stage on cue: another run removes
// this run's takeover lock, judging it stale, while this run is inside its takeover.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** Called as this run removes the stale lock, inside its takeover. */
const onUnlink = vi.hoisted(() => ({ hook: undefined as ((path: string) => void) | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    unlinkSync: (path: fs.PathLike) => {
      onUnlink.hook?.(String(path));
      real.unlinkSync(path);
    },
  };
});
const { runLockFile, tryRunLock } = await import('../../src/checkpoint/run-lock.js');

const dirs: string[] = [];
afterEach(() => {
  onUnlink.hook = undefined;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('tryRunLock when its takeover lock is removed under it', () => {
  it('still takes the stale lock, rather than failing and leaving the run to collect without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ta-takeover-'));
    dirs.push(dir);
    const file = runLockFile(dir, 'sophos_central://race');
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(gone, 'exit');
    writeFileSync(file, JSON.stringify({ pid: gone.pid, token: 'dead' }));
    onUnlink.hook = (path) => {
      // Another run, finding this run's takeover lock stale, removes it as this run removes the stale lock.
      if (path === file) rmSync(`${file}.takeover`, { force: true });
    };
    const got = tryRunLock(file);
    expect('heldBy' in got).toBe(false);
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    if (!('heldBy' in got)) got.release();
  });
});
