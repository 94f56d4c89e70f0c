// itemTexts slices each item's JSON from a response body by hand (the collection hot path): checked
// against JSON.parse/JSON.stringify on generated bodies full of awkward strings, and on the API fixtures.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itemTexts } from '../../src/central/item-text.js';
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

  it('keeps the API spelling of an item it emits from text', () => {
    const ser = new ItemSerializer({ id: 't', name: 'n' });
    const text = '{"id":"\\u0041","v":1.0}';
    expect(ser.serialize(JSON.parse(text) as Record<string, unknown>, text)).toBe('{"id":"\\u0041","v":1.0,"tenant":{"id":"t","name":"n"}}');
  });
});
