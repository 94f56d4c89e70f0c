// The node:assert the bundles give undici (scripts/build.mjs): it must fail as node:assert fails.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const assert = createRequire(import.meta.url)('../../scripts/undici-assert.cjs') as (value: unknown, message?: string | Error) => void;

describe('scripts/undici-assert.cjs', () => {
  it('passes a truthy value and throws an AssertionError (ERR_ASSERTION) for a falsy one', () => {
    for (const ok of [true, 1, 'x', {}]) expect(() => assert(ok)).not.toThrow();
    for (const bad of [false, 0, '', null, undefined]) {
      expect(() => assert(bad)).toThrow(expect.objectContaining({ name: 'AssertionError', code: 'ERR_ASSERTION', message: 'The expression evaluated to a falsy value' }));
    }
    expect(() => assert(false, 'socket not free')).toThrow(expect.objectContaining({ name: 'AssertionError', message: 'socket not free' }));
    const own = new TypeError('own');
    expect(() => assert(false, own)).toThrow(own);
  });
});
