import { describe, expect, it } from 'vitest';
import { eachPage, PageCommits } from '../../src/collect/paging.js';

/** A page source of `n` pages for eachPage; `hangAt`: that request settles only once the loop's signal cancels it. */
function pages(
  n: number,
  opts: { failAt?: number; hangAt?: number; onReturn?: () => void; onFail?: () => void } = {},
): (signal: AbortSignal) => AsyncIterable<number> {
  return (signal) => ({
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        async next() {
          if (i === opts.failAt) {
            opts.onFail?.();
            throw new Error(`request ${i} failed`);
          }
          if (i === opts.hangAt) {
            await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true }));
          }
          return i < n ? { done: false, value: i++ } : { done: true, value: undefined };
        },
        async return() {
          opts.onReturn?.();
          return { done: true, value: undefined };
        },
      };
    },
  });
}

describe('eachPage', () => {
  it('hands every page over in order and ends complete', async () => {
    const seen: number[] = [];
    expect(await eachPage(pages(3), () => 0, undefined, async (p) => void seen.push(p))).toBe('complete');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('finishes the page in hand, then stops at the boundary once aborted, releasing the iterator', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    let returned = false;
    const end = await eachPage(pages(5, { onReturn: () => (returned = true) }), () => 0, ac.signal, async (p) => {
      seen.push(p);
      if (p === 1) ac.abort();
    });
    expect(end).toBe('aborted');
    expect(seen).toEqual([0, 1]);
    expect(returned).toBe(true);
  });

  it('does not ask for anything when already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    let asked = false;
    const source = (signal: AbortSignal) => ((asked = true), pages(1)(signal));
    expect(await eachPage(source, () => 0, ac.signal, async () => undefined)).toBe('aborted');
    expect(asked).toBe(false);
  });

  it('a request cut short by the abort ends as aborted, not as a failure', async () => {
    const ac = new AbortController();
    const end = await eachPage(pages(5, { failAt: 2, onFail: () => ac.abort() }), () => 0, ac.signal, async () => undefined);
    expect(end).toBe('aborted');
  });

  it('a failing request without an abort is thrown', async () => {
    await expect(eachPage(pages(5, { failAt: 1 }), () => 0, undefined, async () => undefined)).rejects.toThrow('request 1 failed');
  });

  it('a failing handler is thrown and the iterator released', async () => {
    let returned = false;
    const run = eachPage(pages(5, { onReturn: () => (returned = true) }), () => 0, undefined, async () => {
      throw new Error('sink closed');
    });
    await expect(run).rejects.toThrow('sink closed');
    expect(returned).toBe(true);
  });

  it('a failing handler cancels the page asked for ahead instead of waiting for it', async () => {
    const run = eachPage(pages(5, { hangAt: 1 }), () => 0, undefined, async () => {
      throw new Error('sink closed');
    });
    await expect(run).rejects.toThrow('sink closed');
  });

  it('from stopAt on asks for no further page: the page in hand is the last, and the loop ends paused', async () => {
    let clock = 0;
    let asked = 0;
    let returned = false;
    const source = pages(10, { onReturn: () => (returned = true) });
    const counted = (signal: AbortSignal): AsyncIterable<number> => ({
      [Symbol.asyncIterator]() {
        const it = source(signal)[Symbol.asyncIterator]();
        return { next: () => (asked++, it.next()), return: () => it.return!() };
      },
    });
    const seen: number[] = [];
    const end = await eachPage(counted, () => clock, undefined, async (p) => {
      seen.push(p);
      clock += 25;
    }, { at: 60 });
    expect(end).toBe('paused');
    // Page 3 arrived at 75, past 60: handled, and page 4 never asked for.
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(asked).toBe(4);
    expect(returned).toBe(true);
  });

  it('a page past stopAt that is the last anyway ends the loop complete, not paused', async () => {
    let clock = 0;
    const end = await eachPage(pages(2), () => clock, undefined, async () => void (clock += 100), { at: 50, isLast: (p) => p === 1 });
    expect(end).toBe('complete');
  });

  it('past the pause time, goes on while pausing is not allowed yet, then pauses at once', async () => {
    let clock = 0;
    const seen: number[] = [];
    const end = await eachPage(pages(10), () => clock, undefined, async (p) => {
      seen.push(p);
      clock += 100;
    }, { at: 50, allowed: () => seen.includes(4) });
    expect(end).toBe('paused');
    // Pages 1 to 4 arrived past 50 while pausing was not allowed; page 5 arrived once it was.
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('passes the time each page was asked for', async () => {
    let clock = 100;
    const times: number[] = [];
    await eachPage(pages(2), () => (clock += 10), undefined, async (_p, at) => void times.push(at));
    expect(times).toEqual([110, 120]);
  });
});

describe('PageCommits', () => {
  function deferredStore() {
    const saved: unknown[] = [];
    const pending: Array<() => void> = [];
    const store = {
      load: async () => undefined,
      setAside: async () => undefined,
      save: (_key: string, value: unknown) => new Promise<void>((resolve) => pending.push(() => (saved.push(value), resolve()))),
    };
    return { store, saved, pending };
  }
  const rec = (n: number) => [{ time: n, sourcetype: 's', data: String(n) }];

  it('encodes the next page while the previous save runs, and writes it only once that save is done', async () => {
    const { store, saved, pending } = deferredStore();
    const log: string[] = [];
    const sink = {
      write: async () => undefined,
      prepare: (records: { data: string }[]) => {
        log.push(`encode ${records[0]!.data}`);
        return async () => void log.push(`send ${records[0]!.data}`);
      },
    };
    const commits = new PageCommits(store, 'k');
    await commits.write(sink, rec(1));
    commits.save(1);
    const second = commits.write(sink, rec(2));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['encode 1', 'send 1', 'encode 2']);
    pending.shift()!();
    await second;
    expect(log).toEqual(['encode 1', 'send 1', 'encode 2', 'send 2']);
    commits.save(2);
    commits.save(3);
    const done = commits.settled();
    await new Promise((r) => setImmediate(r));
    expect(pending).toHaveLength(1);
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(pending).toHaveLength(1);
    pending.shift()!();
    await done;
    expect(saved).toEqual([1, 2, 3]);
  });

  it('a failed save stops the next write before anything is handed over, and is reported by settled', async () => {
    const written: string[] = [];
    const store = { load: async () => undefined, setAside: async () => undefined, save: async () => Promise.reject(new Error('disk full')) };
    const sink = { write: async (records: { data: string }[]) => void written.push(records[0]!.data) };
    const commits = new PageCommits(store, 'k');
    await commits.write(sink, rec(1));
    commits.save(1);
    await expect(commits.write(sink, rec(2))).rejects.toThrow('disk full');
    await expect(commits.settled()).rejects.toThrow('disk full');
    expect(written).toEqual(['1']);
  });

  it("saves with the directory fsync left running, and settled waits for the store's flush and reports its failure", async () => {
    const options: unknown[] = [];
    let flushes = 0;
    let release: ((err?: Error) => void) | undefined;
    const store = {
      load: async () => undefined,
      setAside: async () => undefined,
      save: async (_key: string, _value: unknown, opts?: unknown) => void options.push(opts),
      flush: () => {
        flushes++;
        return new Promise<void>((resolve, reject) => (release = (err) => (err ? reject(err) : resolve())));
      },
    };
    const commits = new PageCommits(store, 'k');
    commits.save(1);
    commits.save(2);
    let settled = false;
    const done = commits.settled().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(options).toEqual([{ dirSync: 'later' }, { dirSync: 'later' }]);
    expect([flushes, settled]).toEqual([1, false]);
    release!();
    await done;
    const failing = commits.settled();
    await new Promise((r) => setImmediate(r));
    release!(new Error('input/output error'));
    await expect(failing).rejects.toThrow('input/output error');
  });
});
