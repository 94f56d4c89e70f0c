import { describe, expect, it } from 'vitest';
import { keepTenant, shardOf, UnmatchedEntries } from '../../src/central/tenant-filter.js';

const acme = { id: '0b6e9a4c-0000-4000-8000-000000000001', name: 'Acme Corp' };
const globex = { id: '0b6e9a4c-0000-4000-8000-000000000002', name: 'Globex' };

describe('keepTenant', () => {
  it('keeps everything without a filter or with empty lists', () => {
    expect(keepTenant(acme)).toBe(true);
    expect(keepTenant(acme, { include: [], exclude: [] })).toBe(true);
    expect(keepTenant(acme, { include: [' '] })).toBe(true);
  });
  it('includes by ID or case-insensitive name', () => {
    expect(keepTenant(acme, { include: ['acme corp'] })).toBe(true);
    expect(keepTenant(acme, { include: [acme.id.toUpperCase()] })).toBe(true);
    expect(keepTenant(globex, { include: ['ACME CORP', acme.id] })).toBe(false);
  });
  it('lets exclude win over include', () => {
    expect(keepTenant(acme, { include: ['Acme Corp'], exclude: [acme.id] })).toBe(false);
    expect(keepTenant(globex, { exclude: ['GLOBEX'] })).toBe(false);
    expect(keepTenant(acme, { exclude: ['GLOBEX'] })).toBe(true);
  });
});

describe('UnmatchedEntries', () => {
  it('keeps the include entries no tenant seen has as its ID or name, as keepTenant matches them', () => {
    const left = new UnmatchedEntries(['ACME CORP ', 'Acme Typo', globex.id.toUpperCase(), ' ', '0b6e9a4c-0000-4000-8000-000000000009']);
    left.see(acme);
    left.see(globex);
    expect(left.entries).toEqual(['Acme Typo', '0b6e9a4c-0000-4000-8000-000000000009']);
  });
  it('counts a tenant that exclude or shard then leaves out as matched', () => {
    const left = new UnmatchedEntries(['Globex']);
    expect(keepTenant(globex, { include: ['Globex'], shard: { index: shardOf(globex.id, 2) === 1 ? 2 : 1, count: 2 } })).toBe(false);
    left.see(globex);
    expect(left.entries).toEqual([]);
  });
  it('is empty without include entries', () => {
    expect(new UnmatchedEntries().entries).toEqual([]);
    expect(new UnmatchedEntries(['', '  ']).entries).toEqual([]);
  });
});

describe('shardOf', () => {
  it('is stable: fixed values that must never change between versions', () => {
    // Changing the hash would move tenants between forwarders; these values pin it.
    expect([acme.id, globex.id, 'a', 'b'].map((id) => shardOf(id, 4))).toEqual([
      shardOf(acme.id.toUpperCase(), 4),
      shardOf(globex.id, 4),
      shardOf('A', 4),
      shardOf(' b ', 4),
    ]);
    expect(shardOf('a', 1000)).toBe(PINNED_A);
  });
  it('splits many tenants over every shard, each tenant in exactly one', () => {
    const ids = Array.from({ length: 400 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const counts = [0, 0, 0, 0];
    for (const id of ids) {
      const kept = [1, 2, 3, 4].filter((index) => keepTenant({ id, name: id }, { shard: { index, count: 4 } }));
      expect(kept).toHaveLength(1);
      counts[(kept[0] as number) - 1] = (counts[(kept[0] as number) - 1] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });
});

// sha1('a') = 86f7e437..., 0x86f7e437 % 1000 + 1
const PINNED_A = (0x86f7e437 % 1000) + 1;
