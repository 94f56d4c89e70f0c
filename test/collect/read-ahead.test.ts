// readAhead: the tenant list is read to its end at once, not as collection slots free up.
import { describe, expect, it, vi } from 'vitest';
import { readAhead } from '../../src/collect/run.js';

/** A source that records how far it has been read and whether it was closed. */
function tracked(count: number, failAt?: number) {
  const state = { read: 0, closed: false };
  async function* source(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < count; i++) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (i === failAt) throw new Error(`listing failed at ${i}`);
        state.read++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, source: source() };
}

describe('readAhead', () => {
  it('reads the whole source while the consumer is still on its first item, then yields every item in order', async () => {
    const { state, source } = tracked(50);
    const seen: number[] = [];
    const readWhenFirstDone: number[] = [];
    for await (const item of readAhead(source)) {
      if (item === 0) {
        // A slow first tenant: many turns of the loop pass while it is collected.
        for (let i = 0; i < 200; i++) await new Promise<void>((resolve) => setImmediate(resolve));
        readWhenFirstDone.push(state.read);
      }
      seen.push(item);
    }
    expect(readWhenFirstDone).toEqual([50]);
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rethrows a failure of the source after every item read before it', async () => {
    const { source } = tracked(10, 6);
    const seen: number[] = [];
    await expect(async () => {
      for await (const item of readAhead(source)) seen.push(item);
    }).rejects.toThrow('listing failed at 6');
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a consumer that stops early stops the read and closes the source', async () => {
    const { state, source } = tracked(1_000_000);
    for await (const item of readAhead(source)) if (item === 2) break;
    // Closed at the next item the read would have taken.
    await vi.waitFor(() => expect(state.closed).toBe(true));
    expect(state.read).toBeLessThan(1_000_000);
  });

  it('a consumer that stops early does not wait for an item still on its way', async () => {
    async function* hanging(): AsyncGenerator<number> {
      yield 0;
      // A tenant-list page that never answers.
      await new Promise<never>(() => {});
    }
    const done = (async () => {
      for await (const item of readAhead(hanging())) if (item === 0) break;
      return 'stopped';
    })();
    const late = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000));
    expect(await Promise.race([done, late])).toBe('stopped');
  });

  it('an empty source ends at once', async () => {
    const { source } = tracked(0);
    const seen: number[] = [];
    for await (const item of readAhead(source)) seen.push(item);
    expect(seen).toEqual([]);
  });
});
