// The run lock of a stanza in checkpoint_dir: one run at a time, a lock its holder left behind taken over.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCK_HEARTBEAT_MS, LOCK_STALE_MS, processStarted, runLockFile, takeRunLock, tryRunLock, type Held, type RunLock } from '../../src/checkpoint/run-lock.js';

let dir: string;
/** A live process other than this one, to hold locks. */
let other: ChildProcess;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ta-run-lock-'));
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
});
afterAll(() => {
  other.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => vi.useRealTimers());

const file = (stanza: string) => runLockFile(dir, stanza);
const heldBy = (pid: number, stanza: string, touchedAgoMs = 0, started?: string) => {
  writeFileSync(file(stanza), JSON.stringify({ pid, token: 'theirs', ...(started ? { started } : {}) }));
  const at = new Date(Date.now() - touchedAgoMs);
  utimesSync(file(stanza), at, at);
};
const isLock = (got: RunLock | Held): got is RunLock => !('heldBy' in got);

describe('tryRunLock', () => {
  it('is one file per stanza beside the checkpoints, never named like one of them', () => {
    expect(file('sophos_central://prod')).toMatch(/\.lock$/);
    expect(file('sophos_central://prod')).not.toBe(file('sophos_central://Prod'));
  });

  it('takes a free lock, names this process in it, and removes it on release', () => {
    const got = tryRunLock(file('free'));
    expect(isLock(got)).toBe(true);
    expect(JSON.parse(readFileSync(file('free'), 'utf8'))).toMatchObject({ pid: process.pid });
    (got as RunLock).release();
    expect(existsSync(file('free'))).toBe(false);
  });

  it('says which live process holds a lock it keeps touching', () => {
    heldBy(other.pid!, 'held', LOCK_STALE_MS / 2);
    expect(tryRunLock(file('held'))).toEqual({ heldBy: other.pid });
    expect(JSON.parse(readFileSync(file('held'), 'utf8')).token).toBe('theirs');
  });

  it('takes over a lock whose holder is gone, one not touched for LOCK_STALE_MS (a PID reused after a reboot), and an unreadable one', async () => {
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await once(gone, 'exit');
    heldBy(gone.pid!, 'dead');
    heldBy(other.pid!, 'stale', LOCK_STALE_MS + 1000);
    writeFileSync(file('torn'), '{"pid":');
    for (const stanza of ['dead', 'stale', 'torn']) {
      const got = tryRunLock(file(stanza));
      expect(isLock(got), stanza).toBe(true);
      expect(JSON.parse(readFileSync(file(stanza), 'utf8')).pid).toBe(process.pid);
      (got as RunLock).release();
    }
  });

  // Linux: a process's boot and start time tell a live holder from a PID reused since, whatever the clock does.
  it.runIf(processStarted(process.pid) !== undefined)('tells a live holder from a reused PID by when it started, not by the clock', () => {
    // Touched long ago (the wall clock stepped forward, or a holder busy a minute): still held.
    heldBy(other.pid!, 'started', LOCK_STALE_MS * 2, processStarted(other.pid!));
    expect(tryRunLock(file('started'))).toEqual({ heldBy: other.pid });
    expect(tryRunLock(file('started'), () => Date.now() + 10 * LOCK_STALE_MS)).toEqual({ heldBy: other.pid });
    // The same PID, started at another time (after a reboot): taken over however fresh.
    heldBy(other.pid!, 'reused', 0, 'another-boot/12345');
    const got = tryRunLock(file('reused'));
    expect(isLock(got)).toBe(true);
    (got as RunLock).release();
  });

  it.runIf(processStarted(process.pid) !== undefined)('takes over a lock whose holder was killed and is not yet reaped (a zombie, which signal 0 still finds)', async () => {
    // A Node process starts a child that exits at once, then blocks its event loop, where libuv would reap it.
    // (A shell that execs a sleep after starting the child may reap it first on a loaded machine.)
    const reaper = "const c = require('node:child_process').spawn('true'); process.stdout.write(`${c.pid}\\n`); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000);";
    const parent = spawn(process.execPath, ['-e', reaper], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    await vi.waitFor(() => expect(processStarted(zombie)).toBe('exited'), { timeout: 5000 });
    heldBy(zombie, 'zombie');
    const got = tryRunLock(file('zombie'));
    parent.kill('SIGKILL');
    expect(isLock(got)).toBe(true);
    (got as RunLock).release();
  });

  it('never leaves a lock file without its holder, even for a moment, and cleans up after a takeover', () => {
    const got = tryRunLock(file('whole')) as RunLock;
    expect(readdirSync(dir).filter((n) => n.includes('.new-') || n.endsWith('.takeover'))).toEqual([]);
    got.release();
    heldBy(other.pid!, 'left', LOCK_STALE_MS + 1000);
    writeFileSync(`${file('left')}.takeover`, 'a takeover a killed run left');
    utimesSync(`${file('left')}.takeover`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const taken = tryRunLock(file('left'));
    expect(isLock(taken)).toBe(true);
    (taken as RunLock).release();
    expect(existsSync(`${file('left')}.takeover`)).toBe(false);
  });

  it('a takeover lock a killed run left is removed once stale, also when another run removes it first', () => {
    heldBy(other.pid!, 'both', LOCK_STALE_MS + 1000);
    const takeover = `${file('both')}.takeover`;
    writeFileSync(takeover, 'left by a killed run');
    const past = new Date(Date.now() - 60_000);
    utimesSync(takeover, past, past);
    // The other run is a step ahead: between this one's finding the takeover lock stale (its second reading of
    // the clock; the first judged the run lock) and removing it, the other removes it.
    let readings = 0;
    const got = tryRunLock(file('both'), () => {
      if (++readings === 2) rmSync(takeover, { force: true });
      return Date.now();
    });
    expect(readings).toBeGreaterThanOrEqual(2);
    expect(isLock(got)).toBe(true);
    (got as RunLock).release();
  });

  it('leaves a lock another run took over between this one finding the old one stale and taking it', () => {
    heldBy(other.pid!, 'race', LOCK_STALE_MS + 1000);
    let readings = 0;
    const got = tryRunLock(file('race'), () => {
      // The other run is a step ahead: it takes the stale lock over while this one reads the clock to judge it.
      if (++readings === 1) writeFileSync(file('race'), JSON.stringify({ pid: other.pid, token: 'winner' }));
      return Date.now();
    });
    expect(got).toEqual({ heldBy: other.pid });
    expect(JSON.parse(readFileSync(file('race'), 'utf8')).token).toBe('winner');
  });

  it('waits while another run takes a stale lock over (its takeover lock is fresh), and leaves that run\'s takeover lock alone', () => {
    heldBy(other.pid!, 'busy', LOCK_STALE_MS + 1000);
    writeFileSync(`${file('busy')}.takeover`, JSON.stringify({ pid: other.pid, token: 'taking' }));
    expect(tryRunLock(file('busy'))).toEqual({ heldBy: other.pid });
    expect(existsSync(`${file('busy')}.takeover`)).toBe(true);
  });

  it("takes over a lock that names this process's own PID, however recently touched: only an earlier process given the same PID can have left it", () => {
    // Written without a start time, as where a process's start cannot be read: the PID is all there is to go by.
    heldBy(process.pid, 'own');
    const got = tryRunLock(file('own'));
    expect(isLock(got)).toBe(true);
    expect(JSON.parse(readFileSync(file('own'), 'utf8')).token).not.toBe('theirs');
    (got as RunLock).release();
  });

  it('a release after another run took the lock over leaves that run\'s lock alone', () => {
    const got = tryRunLock(file('taken'));
    heldBy(other.pid!, 'taken');
    (got as RunLock).release();
    expect(JSON.parse(readFileSync(file('taken'), 'utf8')).token).toBe('theirs');
  });

  it('touches the lock while held, so that a long run is not taken for a stale one', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const got = tryRunLock(file('long')) as RunLock;
    const past = new Date(Date.now() - LOCK_STALE_MS);
    utimesSync(file('long'), past, past);
    vi.advanceTimersByTime(LOCK_HEARTBEAT_MS);
    vi.useRealTimers();
    await vi.waitFor(() => expect(Date.now() - statSync(file('long')).mtimeMs).toBeLessThan(LOCK_HEARTBEAT_MS));
    got.release();
  });
});

describe('processes contending for the lock', () => {
  it('three processes taking and releasing it as fast as they can never hold it at once', async () => {
    const log = join(dir, 'holders.log');
    const script = join(__dirname, '..', 'helpers', 'lock-churn.ts');
    const children = [1, 2, 3].map(() => spawn(process.execPath, ['--import', 'tsx', script, file('churn'), '3000', log], { stdio: 'inherit' }));
    await Promise.all(children.map((c) => once(c, 'exit')));
    let holder: string | undefined;
    let taken = 0;
    const overlaps: string[] = [];
    for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
      const [what, pid] = line.split(' ') as ['A' | 'R', string];
      if (what === 'R') {
        if (holder === pid) holder = undefined;
        continue;
      }
      taken++;
      if (holder !== undefined) overlaps.push(`${pid} took it while ${holder} held it`);
      holder = pid;
    }
    expect(taken).toBeGreaterThan(100);
    expect(overlaps).toEqual([]);
  }, 30_000);
});

describe('takeRunLock', () => {
  it('waits for a holder that finishes, then takes the lock', async () => {
    heldBy(other.pid!, 'finishing');
    setTimeout(() => rmSync(file('finishing')), 300);
    const got = await takeRunLock(file('finishing'), 10_000);
    expect(isLock(got)).toBe(true);
    (got as RunLock).release();
  });

  it('a wait stopped before the lock came free ends without it, even when it comes free at once after', async () => {
    heldBy(other.pid!, 'stopped');
    const stop = new AbortController();
    const got = takeRunLock(file('stopped'), 15_000, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // splunkd stops both runs: the waiter is told first, then the holder exits and releases its lock.
    stop.abort();
    rmSync(file('stopped'));
    expect(await got).toEqual({ heldBy: undefined });
    expect(existsSync(file('stopped'))).toBe(false);
  });

  it('times its wait on a clock that a step of the wall clock does not move', async () => {
    heldBy(other.pid!, 'stepped');
    const wall = Date.now.bind(Date);
    let readings = 0;
    // The first reading is true, every later one an hour behind: NTP stepped the clock back during the wait.
    vi.spyOn(Date, 'now').mockImplementation(() => (readings++ === 0 ? wall() : wall() - 3_600_000));
    const t0 = performance.now();
    try {
      const got = await Promise.race([takeRunLock(file('stepped'), 400), new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 3000))]);
      expect(got).toEqual({ heldBy: other.pid });
    } finally {
      vi.restoreAllMocks();
    }
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it('gives up after the wait, or at once when stopped, naming the holder', async () => {
    heldBy(other.pid!, 'busy');
    const t0 = Date.now();
    expect(await takeRunLock(file('busy'), 400)).toEqual({ heldBy: other.pid });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    const stop = new AbortController();
    stop.abort();
    const t1 = Date.now();
    expect(await takeRunLock(file('busy'), 10_000, stop.signal)).toEqual({ heldBy: other.pid });
    expect(Date.now() - t1).toBeLessThan(1000);
  });
});
