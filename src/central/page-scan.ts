// One pass over a list page that stands in for JSON.parse on the collectors' hot path.
//
// Hot path, written by hand: after slicing item texts (item-text.ts), JSON.parse of every page was the
// largest cost left in a collection (~18% of the input's CPU), although collectors read only a few
// top-level members of each item (id, its time, tenant) and the page's envelope (next key or cursor).
// This pass validates the body as JSON (anything it cannot vouch for returns undefined, and the caller
// then runs JSON.parse as before), slices each item's text, and parses only those few members, each
// with JSON.parse on its own text (or, for a plain string the caller reads at once, as a slice of it) so
// that their values are exactly what a full parse gives.

import { controlByteIn } from './control-bytes.js';
import { closingQuote, compact } from './item-text.js';

export interface ScannedPage {
  /** The body's top-level members other than `items`, each parsed from its own text. */
  envelope: Record<string, unknown>;
  /** Each item's compact JSON text, as itemTexts gives it. */
  texts: string[];
  /**
   * For each item, an object with exactly the asked-for keys: the item's top-level member of that name
   * as JSON.parse gives it, undefined where the item has none. A string is its own copy, except in a
   * member named in scanPage's `sliced`.
   */
  heads: Record<string, unknown>[];
}

// Any raw control character is either blank outside strings (a pretty-printed body: rare, left to
// JSON.parse) or invalid inside one; ruling them all out leaves the space as the only blank and keeps
// the string skipping below a plain indexOf.
const CONTROL = /[\u0000-\u001f]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Nesting deeper than this is left to JSON.parse: the descent below recurses once per level, and the
 * API's items nest a handful of levels at most.
 */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const SPACE = 0x20;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const FAIL = -1;

/**
 * The scan in progress, as module state rather than parameters threaded through every call: scanPage is
 * synchronous and never re-entered, and the descent's small functions stay cheap to inline.
 */
let body = '';
/** Index of the next backslash at or after the last key read (body.length when none is left). */
let nextBackslash = 0;
/** Set whenever a blank is skipped, so that an item with blanks inside is compacted. */
let blank = false;
const NONE: ReadonlySet<string> = new Set();

/**
 * Validates `text` as a JSON object with one top-level `items` array of objects and returns its
 * envelope, item texts and item heads (the top-level members named in `headKeys`); undefined when the
 * body is anything else, is not valid JSON, or contains a raw control character.
 *
 * A string without escapes in a head member named in `sliced` is a slice of `text`: no JSON.parse (about
 * 0.1 µs a string), but it keeps the whole page alive for as long as it is kept. For members read only while
 * their page is handled, such as times.
 *
 * `raw`, the UTF-8 bytes `text` was decoded from, is where control characters are looked for when given:
 * about ten times faster than in the text (control-bytes.ts).
 *
 * A recursive descent, one small function per grammar rule: each knows what may come next, where the
 * character-by-character state machine it replaced worked that out again at every character; about a
 * fifth faster on the emulator's alert and SIEM pages.
 */
export function scanPage(text: string, headKeys: readonly string[], sliced: ReadonlySet<string> = NONE, raw?: Uint8Array): ScannedPage | undefined {
  const control = raw === undefined ? undefined : controlByteIn(raw);
  if ((control ?? CONTROL.test(text)) || !escapesValid(text)) return undefined;
  body = text;
  nextBackslash = 0;
  try {
    return scanBody(headKeys, sliced);
  } finally {
    // Hold no page once the scan is over.
    body = '';
  }
}

function scanBody(headKeys: readonly string[], sliced: ReadonlySet<string>): ScannedPage | undefined {
  const n = body.length;
  const envelope: Record<string, unknown> = {};
  let texts: string[] | undefined;
  let heads: Record<string, unknown>[] = [];
  let i = skipBlanks(0);
  if (body.charCodeAt(i) !== OPEN_OBJECT) return undefined;
  i = skipBlanks(i + 1);
  if (body.charCodeAt(i) === CLOSE_OBJECT) return undefined;
  for (;;) {
    const keyEnd = stringEnd(i);
    if (keyEnd === FAIL) return undefined;
    const key = keyText(i, keyEnd);
    i = valueStart(keyEnd);
    if (i === FAIL) return undefined;
    if (key === 'items') {
      // A second `items` (JSON.parse keeps the last) is left to JSON.parse.
      if (texts !== undefined || body.charCodeAt(i) !== OPEN_ARRAY) return undefined;
      texts = [];
      heads = [];
      i = itemsEnd(i, headKeys, headKeys.map((key) => sliced.has(key)), texts, heads);
    } else {
      // An own `__proto__` member would set the envelope's prototype here: left to JSON.parse.
      if (key === '__proto__') return undefined;
      const start = i;
      i = valueEnd(i, 1);
      if (i !== FAIL) envelope[key] = JSON.parse(body.slice(start, i));
    }
    if (i === FAIL) return undefined;
    i = skipBlanks(i);
    if (body.charCodeAt(i) !== COMMA) break;
    i = skipBlanks(i + 1);
  }
  if (body.charCodeAt(i) !== CLOSE_OBJECT || texts === undefined || skipBlanks(i + 1) !== n) return undefined;
  return { envelope, texts, heads };
}

/** The items array opening at `i`: every element an object, its text and head collected; end or FAIL. */
function itemsEnd(i: number, headKeys: readonly string[], slices: readonly boolean[], texts: string[], heads: Record<string, unknown>[]): number {
  // Every head has the same keys in the same order: copies of one template share a shape.
  const template: Record<string, unknown> = {};
  for (const key of headKeys) template[key] = undefined;
  i = skipBlanks(i + 1);
  if (body.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
  for (;;) {
    if (body.charCodeAt(i) !== OPEN_OBJECT) return FAIL;
    const head = { ...template };
    blank = false;
    const end = itemEnd(i, headKeys, slices, head);
    if (end === FAIL) return FAIL;
    texts.push(blank ? compact(body.slice(i, end)) : body.slice(i, end));
    heads.push(head);
    i = skipBlanks(end);
    if (body.charCodeAt(i) !== COMMA) return closeEnd(i, CLOSE_ARRAY);
    i = skipBlanks(i + 1);
  }
}

/**
 * One item, an object opening at `i`, with the members named in `headKeys` read into `head` (as slices where
 * `slices` says so); end or FAIL.
 */
function itemEnd(i: number, headKeys: readonly string[], slices: readonly boolean[], head: Record<string, unknown>): number {
  i = skipBlanks(i + 1);
  if (body.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const keyEnd = stringEnd(i);
    if (keyEnd === FAIL) return FAIL;
    const wanted = keyIndex(i, keyEnd, headKeys);
    const start = valueStart(keyEnd);
    if (start === FAIL) return FAIL;
    i = valueEnd(start, 3);
    if (i === FAIL) return FAIL;
    if (wanted >= 0) head[headKeys[wanted]!] = headValue(start, i, slices[wanted]!);
    i = skipBlanks(i);
    if (body.charCodeAt(i) !== COMMA) return closeEnd(i, CLOSE_OBJECT);
    i = skipBlanks(i + 1);
  }
}

/** The last object or array a head member held, by its exact text, and its value (frozen: shared). */
let lastObjectText = '';
let lastObject: unknown;

/**
 * The value of a head member, body[start, end): JSON.parse of its own text, so that values are exact and
 * strings do not keep the page alive; with `slice`, a string without escapes is a slice of the page instead
 * (scanPage's `sliced`). An object or array spelled exactly like the previous one is that same frozen value:
 * every alert of a page carries the same `tenant`, and parsing it once per item was the largest cost of
 * reading heads (about a sixth of the scan).
 */
function headValue(start: number, end: number, slice: boolean): unknown {
  if (slice && body.charCodeAt(start) === QUOTE && !escaped(start, end)) return body.slice(start + 1, end - 1);
  const text = body.slice(start, end);
  const c = body.charCodeAt(start);
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) return JSON.parse(text);
  if (text !== lastObjectText) {
    lastObject = deepFreeze(JSON.parse(text));
    // Kept as its own serialisation rather than a slice, so that the cache does not hold the page; a
    // member spelled otherwise (blanks, escapes) is simply parsed every time.
    const canonical = JSON.stringify(lastObject);
    lastObjectText = canonical === text ? canonical : '';
  }
  return lastObject;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/** End of the value starting at `i` (blanks already skipped), nested `depth` levels down; or FAIL. */
function valueEnd(i: number, depth: number): number {
  const c = body.charCodeAt(i);
  if (c === QUOTE) return stringEnd(i);
  if (c === OPEN_OBJECT) return objectEnd(i, depth + 1);
  if (c === OPEN_ARRAY) return arrayEnd(i, depth + 1);
  return literalEnd(i);
}

function objectEnd(i: number, depth: number): number {
  if (depth > MAX_DEPTH) return FAIL;
  i = skipBlanks(i + 1);
  if (body.charCodeAt(i) === CLOSE_OBJECT) return i + 1;
  for (;;) {
    const keyEnd = stringEnd(i);
    if (keyEnd === FAIL) return FAIL;
    i = valueStart(keyEnd);
    if (i === FAIL) return FAIL;
    i = valueEnd(i, depth);
    if (i === FAIL) return FAIL;
    i = skipBlanks(i);
    if (body.charCodeAt(i) !== COMMA) return closeEnd(i, CLOSE_OBJECT);
    i = skipBlanks(i + 1);
  }
}

function arrayEnd(i: number, depth: number): number {
  if (depth > MAX_DEPTH) return FAIL;
  i = skipBlanks(i + 1);
  if (body.charCodeAt(i) === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = valueEnd(i, depth);
    if (i === FAIL) return FAIL;
    i = skipBlanks(i);
    if (body.charCodeAt(i) !== COMMA) return closeEnd(i, CLOSE_ARRAY);
    i = skipBlanks(i + 1);
  }
}

/** Where a member's value starts, after its key ending at `keyEnd` and the colon; or FAIL. */
function valueStart(keyEnd: number): number {
  const i = skipBlanks(keyEnd);
  return body.charCodeAt(i) === COLON ? skipBlanks(i + 1) : FAIL;
}

/** The end of a container whose last member or element is followed, at `i`, by something other than a comma. */
function closeEnd(i: number, close: number): number {
  return body.charCodeAt(i) === close ? i + 1 : FAIL;
}

/** End of the string opening at `i`, or FAIL when there is no string or it never closes. */
function stringEnd(i: number): number {
  if (body.charCodeAt(i) !== QUOTE) return FAIL;
  const close = closingQuote(body, i);
  return close >= body.length ? FAIL : close + 1;
}

function skipBlanks(i: number): number {
  if (body.charCodeAt(i) !== SPACE) return i;
  blank = true;
  do i++;
  while (body.charCodeAt(i) === SPACE);
  return i;
}

/** Whether the string body[open, end) holds a backslash (an escape). */
function escaped(open: number, end: number): boolean {
  if (nextBackslash < open) {
    nextBackslash = body.indexOf('\\', open);
    if (nextBackslash < 0) nextBackslash = body.length;
  }
  return nextBackslash < end;
}

/** The text of the key string body[open, end). */
function keyText(open: number, end: number): string {
  return escaped(open, end) ? (JSON.parse(body.slice(open, end)) as string) : body.slice(open + 1, end - 1);
}

/** Index in `keys` of the key string body[open, end), or -1. */
function keyIndex(open: number, end: number, keys: readonly string[]): number {
  if (escaped(open, end)) return keys.indexOf(JSON.parse(body.slice(open, end)) as string);
  const length = end - open - 2;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length === length && body.startsWith(key, open + 1)) return k;
  }
  return -1;
}

/** End of the literal (number, true, false, null) starting at `i`, or FAIL when it is not one. */
function literalEnd(i: number): number {
  const c = body.charCodeAt(i);
  if (c === 0x74) return body.startsWith('true', i) ? i + 4 : FAIL;
  if (c === 0x66) return body.startsWith('false', i) ? i + 5 : FAIL;
  if (c === 0x6e) return body.startsWith('null', i) ? i + 4 : FAIL;
  NUMBER.lastIndex = i;
  if (!NUMBER.test(body)) return FAIL;
  const end = NUMBER.lastIndex;
  return end > i ? end : FAIL;
}

const ESCAPABLE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** Every backslash starts an escape that JSON allows (outside strings, the grammar rejects it anyway). */
function escapesValid(text: string): boolean {
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i)) {
    const c = text.charCodeAt(i + 1);
    if (ESCAPABLE.has(c)) {
      i += 2;
    } else if (c === 0x75 && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      i += 6;
    } else {
      return false;
    }
  }
  return true;
}
