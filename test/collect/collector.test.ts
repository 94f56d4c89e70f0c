// Helpers every collector shares.
import { describe, expect, it } from 'vitest';
import { later } from '../../src/collect/collector.js';

describe('later', () => {
  it('keeps the later time, and a known time over an unknown one, whichever side it is on', () => {
    expect(later(1, 2)).toBe(2);
    expect(later(2, 1)).toBe(2);
    expect(later(undefined, 1)).toBe(1);
    expect(later(1, undefined)).toBe(1);
    expect(later(undefined, undefined)).toBeUndefined();
    expect(later(-5, -7)).toBe(-5);
  });
});
