import { describe, expect, it } from 'vitest';
import { eachPage } from '../../src/collect/paging.js';

function pages(n: number, opts: { failAt?: number; onReturn?: () => void; onFail?: () => void } = {}): AsyncIterable<number> {
  return {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        async next() {
          if (i === opts.failAt) {
            opts.onFail?.();
            throw new Error(`request ${i} failed`);
          }
          return i < n ? { done: false, value: i++ } : { done: true, value: undefined };
        },
        async return() {
          opts.onReturn?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
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
    const source: AsyncIterable<number> = { [Symbol.asyncIterator]: () => ((asked = true), pages(1)[Symbol.asyncIterator]()) };
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

  it('passes the time each page was asked for', async () => {
    let clock = 100;
    const times: number[] = [];
    await eachPage(pages(2), () => (clock += 10), undefined, async (_p, at) => void times.push(at));
    expect(times).toEqual([110, 120]);
  });
});
