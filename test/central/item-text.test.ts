// itemTexts slices each item's JSON from a response body by hand (the collection hot path): checked
// against JSON.parse/JSON.stringify on generated bodies full of awkward strings, and on the API fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemTexts, withTenantMembers } from '../../src/central/item-text.js';
import { scanPage } from '../../src/central/page-scan.js';
import { ItemSerializer } from '../../src/collect/records.js';
import { FIXTURES } from '../helpers/paths.js';

/** Small seeded PRNG (mulberry32) so that a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters that trip a naive scanner: structure inside strings, escapes, backslash runs, unicode,
// lone surrogates, control characters, U+2028, XML specials.
const PIECES = ['{', '}', '[', ']', '"', '\\', '\\\\', '\\"', ',', ':', ' ', '\n', '\t', 'é', '日本', '😀', '\ud800', '\udc00', '\u0001', '\u2028', '&<>', 'items', 'abc', ''];

function randomString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (k) {
    case 0: return randomString(r);
    case 1: return Math.round((r() - 0.5) * 1e6) / 100;
    case 2: return r() < 0.5;
    case 3: return null;
    case 4: return Math.floor(r() * 1e12);
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: return randomObject(r, depth + 1);
  }
}

function randomObject(r: () => number, depth: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[randomString(r) + i] = randomValue(r, depth);
  return o;
}

function randomItem(r: () => number): Record<string, unknown> {
  const item: Record<string, unknown> = { id: randomString(r), ...randomObject(r, 1) };
  const t = r();
  if (t < 0.3) item.tenant = { id: randomString(r), name: randomString(r) };
  else if (t < 0.4) item.tenant = { id: randomString(r) };
  else if (t < 0.45) item.tenant = null;
  return item;
}

describe('withTenantMembers', () => {
  it.each([
    ['{"tenant":{"id":"t"}}', '{"tenant":{"id":"t","name":"n"}}'],
    ['{"tenant":{}}', '{"tenant":{"name":"n"}}'],
    ['{"a":"\\"tenant\\":{}","tenant":{"id":"}{"},"b":[{"tenant":{}}]}', '{"a":"\\"tenant\\":{}","tenant":{"id":"}{","name":"n"},"b":[{"tenant":{}}]}'],
    ['{"x":{"tenant":{"id":"t"}}}', undefined],
    ['{"tenant":"t"}', undefined],
    ['{"tenant":[{"id":"t"}]}', undefined],
    ['{"tenant":{"id":"a"},"tenant":{"id":"b"}}', undefined],
    ['{"tenant":{"id":"a"},"tenant":null}', undefined],
    ['[1]', undefined],
  ])('%s', (text, out) => {
    expect(withTenantMembers(text, '"name":"n"')).toBe(out);
    if (out !== undefined) expect(JSON.parse(out)).toEqual({ ...JSON.parse(text), tenant: { ...JSON.parse(text).tenant, name: 'n' } });
  });
});

describe('itemTexts', () => {
  it('gives each item exactly as JSON.stringify wrote it, on 500 generated bodies', () => {
    const r = rng(42);
    for (let n = 0; n < 500; n++) {
      const items = Array.from({ length: Math.floor(r() * 6) }, () => randomItem(r));
      const envelope = { [`x${randomString(r)}`]: randomValue(r, 2), pages: { nextKey: '{"items":[1]}' } };
      const body = r() < 0.5 ? { ...envelope, items } : { items, ...envelope };
      expect(itemTexts(JSON.stringify(body))).toEqual(items.map((i) => JSON.stringify(i)));
    }
  });

  it('compacts pretty-printed bodies without touching the strings', () => {
    const r = rng(7);
    for (let n = 0; n < 200; n++) {
      const items = Array.from({ length: Math.floor(r() * 5) }, () => randomItem(r));
      const texts = itemTexts(JSON.stringify({ pages: {}, items }, null, n % 2 === 0 ? 2 : '\t'));
      expect(texts).toEqual(items.map((i) => JSON.stringify(i)));
    }
  });

  it('keeps the API bytes as sent: escapes, number spellings and non-object elements', () => {
    const body = '{ "items" : [ {"a":"\\u0041\\/\\"}{","n":1.50e2,"t":{ }} ,"x\\\\",[1, 2],7 ], "items2":[9]}';
    expect(itemTexts(body)).toEqual(['{"a":"\\u0041\\/\\"}{","n":1.50e2,"t":{}}', '"x\\\\"', '[1,2]', '7']);
    expect(itemTexts('{"items":[]}')).toEqual([]);
  });

  it('finds only the top-level items array', () => {
    expect(itemTexts('{"pages":{"items":[1,2]},"x":"items","items":[3]}')).toEqual(['3']);
    expect(itemTexts('{"pages":{"items":[1,2]}}')).toBeUndefined();
    expect(itemTexts('[1,2]')).toBeUndefined();
    expect(itemTexts('{"items":{"items":[1]}}')).toBeUndefined();
    expect(itemTexts('{"items":[1],"items":[2]}')).toBeUndefined();
  });

  it('matches every list fixture from the real API', () => {
    const dir = join(FIXTURES, 'sophos');
    let lists = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const body = JSON.parse(text) as { items?: unknown[] };
      if (!Array.isArray(body.items)) continue;
      lists++;
      const texts = itemTexts(text)!;
      expect(texts.map((t) => JSON.parse(t))).toEqual(body.items);
      for (const t of texts) expect(t).toBe(JSON.stringify(JSON.parse(t)));
    }
    expect(lists).toBeGreaterThanOrEqual(2);
  });
});

describe('ItemSerializer with the item text', () => {
  it('writes the same event from the text as from the parsed item', () => {
    const r = rng(99);
    const ser = new ItemSerializer({ id: 't-"1"', name: 'Acme {North} \\ <GmbH> é' });
    for (let n = 0; n < 2000; n++) {
      const item = randomItem(r);
      const [text] = itemTexts(JSON.stringify({ items: [item] }))!;
      expect(ser.serialize(item, text)).toBe(ser.serialize(item));
    }
  });

  it('writes the same event from a scanned head and text as from the parsed item', () => {
    const r = rng(123);
    const ser = new ItemSerializer({ id: 't-2', name: 'Acme' });
    for (let n = 0; n < 2000; n++) {
      const item = randomItem(r);
      const scanned = scanPage(JSON.stringify({ items: [item] }), ['id', 'tenant'])!;
      expect(ser.serialize(scanned.heads[0]!, scanned.texts[0], true)).toBe(ser.serialize(item));
    }
  });

  it("adds a tenant's missing members inside its object in the text, every other byte as the API sent it", () => {
    const ser = new ItemSerializer({ id: 't-1', name: 'Acme "North"' });
    // An endpoint carries tenant {id} only; numbers past 2^53, escapes and key order must survive.
    const text = '{"id":"e1","n":1.50,"big":12345678901234567890,"2":"k","e":"caf\\u00e9 \\/ x","tenant":{"id":"t-1"},"x":{"tenant":{}}}';
    const item = JSON.parse(text) as Record<string, unknown>;
    expect(ser.serialize(item, text)).toBe('{"id":"e1","n":1.50,"big":12345678901234567890,"2":"k","e":"caf\\u00e9 \\/ x","tenant":{"id":"t-1","name":"Acme \\"North\\""},"x":{"tenant":{}}}');
    const scanned = scanPage(`{"items":[${text}]}`, ['id', 'tenant'])!;
    expect(ser.serialize(scanned.heads[0]!, scanned.texts[0], true)).toBe(ser.serialize(item, text));
    expect(ser.serialize({ tenant: {} }, '{"tenant":{}}')).toBe('{"tenant":{"id":"t-1","name":"Acme \\"North\\""}}');
  });

  it("does not give another tenant's ID this tenant's name", () => {
    const ser = new ItemSerializer({ id: 't-1', name: 'Acme' });
    const text = '{"id":"a","tenant":{"id":"t-other"}}';
    expect(ser.serialize(JSON.parse(text) as Record<string, unknown>, text)).toBe(text);
    expect(ser.serialize(JSON.parse(text) as Record<string, unknown>)).toBe(text);
  });

  it('keeps the API spelling of an item it emits from text', () => {
    const ser = new ItemSerializer({ id: 't', name: 'n' });
    const text = '{"id":"\\u0041","v":1.0}';
    expect(ser.serialize(JSON.parse(text) as Record<string, unknown>, text)).toBe('{"id":"\\u0041","v":1.0,"tenant":{"id":"t","name":"n"}}');
  });
});

// scanPage stands in for JSON.parse of list pages, so whatever it returns must be exactly what a full
// parse gives, and any body it cannot vouch for must come back undefined (the caller then parses fully).
const HEAD_KEYS = ['id', 'tenant', 'when', 'n'] as const;

/** What scanPage must return for `text`, computed with JSON.parse. */
function expectedScan(text: string) {
  const body = JSON.parse(text) as Record<string, unknown> & { items: Record<string, unknown>[] };
  const { items, ...envelope } = body;
  // The texts keep the body's own spelling (itemTexts, checked above); each must parse to its item.
  const texts = itemTexts(text)!;
  expect(texts.map((t) => JSON.parse(t))).toEqual(items);
  return {
    envelope,
    texts,
    heads: items.map((i) => Object.fromEntries(HEAD_KEYS.map((k) => [k, i[k]]))),
  };
}

function generatedBody(r: () => number): string {
  const items = Array.from({ length: Math.floor(r() * 6) }, () => {
    const item = randomItem(r);
    if (r() < 0.5) item.when = randomValue(r, 2);
    if (r() < 0.3) item.n = { id: randomValue(r, 2), tenant: 'nested, not top-level' };
    return item;
  });
  const envelope = { [`x${randomString(r)}`]: randomValue(r, 2), pages: { nextKey: '{"items":[1]}' }, has_more: r() < 0.5 };
  return JSON.stringify(r() < 0.5 ? { ...envelope, items } : { items, ...envelope });
}

describe('scanPage', () => {
  it('gives the envelope, texts and heads JSON.parse gives, on 1,000 generated bodies', () => {
    const r = rng(5);
    for (let n = 0; n < 1000; n++) {
      const text = generatedBody(r);
      expect(scanPage(text, HEAD_KEYS)).toEqual(expectedScan(text));
    }
  });

  it('gives the same heads with members read as slices of the page, escaped strings and other values still parsed', () => {
    const sliced = new Set(['id', 'when', 'tenant']);
    const r = rng(6);
    for (let n = 0; n < 1000; n++) {
      const text = generatedBody(r);
      expect(scanPage(text, HEAD_KEYS, sliced)).toEqual(expectedScan(text));
    }
    const text = '{"items":[{"id":"a\\"b","when":"2025-01-01T00:00:00Z","n":1},{"id":"x\\u0041","when":5,"tenant":{"id":"t"}},{"id":"","when":"\\/"}]}';
    expect(scanPage(text, HEAD_KEYS, sliced)).toEqual(expectedScan(text));
    expect(scanPage(text, HEAD_KEYS, sliced)!.heads.map((h) => h.id)).toEqual(['a"b', 'xA', '']);
  });

  it('compacts blanks between tokens, and leaves bodies with raw control characters to JSON.parse', () => {
    const r = rng(8);
    for (let n = 0; n < 200; n++) {
      const pretty = JSON.stringify(JSON.parse(generatedBody(r)), null, 1);
      expect(scanPage(pretty, HEAD_KEYS)).toBeUndefined();
      // Looked for in the bytes the text came from, as the client does.
      expect(scanPage(pretty, HEAD_KEYS, undefined, Buffer.from(pretty))).toBeUndefined();
      // Newlines only occur outside strings (JSON.stringify escapes them inside), leaving blanks only.
      const spaced = pretty.replace(/\n/g, ' ');
      expect(scanPage(spaced, HEAD_KEYS)).toEqual(expectedScan(spaced));
    }
  });

  it('never returns anything JSON.parse would not give, on 20,000 corrupted bodies', () => {
    const r = rng(11);
    const junk = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '1', '-', '.', 'e', 't', 'n', 'x', '\u0000', '\\u12', '"items":[]', ''];
    let accepted = 0;
    for (let n = 0; n < 20_000; n++) {
      const text = generatedBody(r);
      const at = Math.floor(r() * (text.length + 1));
      const kind = r();
      const corrupt =
        kind < 0.3 ? text.slice(0, at) : kind < 0.6 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + junk[Math.floor(r() * junk.length)] + text.slice(at);
      const scanned = scanPage(corrupt, HEAD_KEYS);
      expect(scanPage(corrupt, HEAD_KEYS, undefined, Buffer.from(corrupt))).toEqual(scanned);
      if (scanned === undefined) continue;
      accepted++;
      expect(scanned).toEqual(expectedScan(corrupt));
    }
    // Some mutations still give valid JSON (a blank, a digit in a number): those must be read right too.
    expect(accepted).toBeGreaterThan(100);
  });

  it('leaves to JSON.parse what it does not model: no items array, non-object items, duplicate items, __proto__', () => {
    for (const text of [
      '{"pages":{"items":[1,2]}}',
      '[{"items":[]}]',
      '{"items":{"items":[]}}',
      '{"items":[1]}',
      '{"items":[{}],"items":[{}]}',
      '{"items":[{}],"items":5}',
      '{"__proto__":{"x":1},"items":[]}',
      '{"items":[{"id":"\\x"}]}',
      '{"items":[{"id":01}]}',
      '{"items":[]} x',
    ]) {
      expect(scanPage(text, HEAD_KEYS), text).toBeUndefined();
    }
    expect(scanPage('{"items":[{"\\u0069d":"a","id":"b","tenant":{"id":"t"}}]}', HEAD_KEYS)?.heads).toEqual([
      { id: 'b', tenant: { id: 't' }, when: undefined, n: undefined },
    ]);
    expect(scanPage('{"items":[{"\\u0069d":"a"}]}', HEAD_KEYS)?.heads[0]!.id).toBe('a');
  });

  it('parses a repeated head object once, shares it frozen, and parses a different one afresh', () => {
    const acme = { id: 't-1', name: 'Acme' };
    const other = { id: 't-2', name: 'Other' };
    const items = [acme, acme, other, acme, { id: 't-1', name: 'Acme', x: [1] }].map((tenant, i) => ({ id: `a${i}`, tenant }));
    const text = JSON.stringify({ items, pages: {} });
    const scanned = scanPage(text, HEAD_KEYS)!;
    expect(scanned).toEqual(expectedScan(text));
    const tenants = scanned.heads.map((h) => h.tenant as Record<string, unknown>);
    expect(tenants[1]).toBe(tenants[0]);
    expect(tenants[2]).not.toBe(tenants[0]);
    expect(Object.isFrozen(tenants[0]) && Object.isFrozen(tenants[4]!.x)).toBe(true);
    // Modules are strict: writing to the shared value throws instead of changing it for every head.
    expect(() => {
      tenants[0]!.name = 'changed';
    }).toThrow(TypeError);
    // A later page with the same tenant text gets an equal value, never one a caller could have changed.
    expect(scanPage(text, HEAD_KEYS)!.heads[0]!.tenant).toEqual(acme);
  });

  it('matches every list fixture from the real API', () => {
    const dir = join(FIXTURES, 'sophos');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      const body = JSON.parse(text) as { items?: unknown[] };
      if (!Array.isArray(body.items) || body.items.some((i) => typeof i !== 'object' || i === null || Array.isArray(i))) continue;
      // Fixtures are pretty-printed: the same bytes with line breaks turned to blanks must scan exactly.
      const spaced = text.replace(/[\r\n\t]/g, ' ');
      expect(scanPage(spaced, HEAD_KEYS), file).toEqual(expectedScan(spaced));
    }
  });
});
