import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';

describe('MemoryCheckpointStore', () => {
  it('loads what was saved, as a copy that later mutation cannot change', async () => {
    const store = new MemoryCheckpointStore();
    const value = { v: 1, seen: { a: 1 } };
    await store.save('k', value);
    value.seen.a = 2;
    expect(await store.load('k')).toEqual({ v: 1, seen: { a: 1 } });
    const loaded = await store.load<typeof value>('k');
    loaded!.seen.a = 3;
    expect(await store.load('k')).toEqual({ v: 1, seen: { a: 1 } });
  });

  it('returns undefined for an unknown key and lists keys in the order first saved', async () => {
    const store = new MemoryCheckpointStore();
    expect(await store.load('missing')).toBeUndefined();
    await store.save('b', 2);
    await store.save('a', 1);
    await store.save('b', 3);
    expect(store.keys()).toEqual(['b', 'a']);
  });
});
