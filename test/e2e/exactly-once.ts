import { expect } from 'vitest';
import { duplicates } from './world.js';

/** Every ID of `truth` in `got`, and nothing in `got` twice. */
export function expectExactlyOnce(got: string[], truth: Map<string, string[]>): void {
  const want = [...truth.values()].flat();
  expect(want.length).toBeGreaterThan(0);
  const have = new Set(got);
  expect(want.filter((id) => !have.has(id))).toEqual([]);
  expect(duplicates([], got)).toBe(0);
}
