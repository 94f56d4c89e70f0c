// One pass over a list page that stands in for JSON.parse on the collectors' hot path.
//
// Hot path, written by hand: after slicing item texts (item-text.ts), JSON.parse of every page was the
// largest cost left in a collection (~18% of the input's CPU), although collectors read only a few
// top-level members of each item (id, its time, tenant) and the page's envelope (next key or cursor).
// This pass validates the body as JSON (anything it cannot vouch for returns undefined, and the caller
// then runs JSON.parse as before), slices each item's text, and parses only those few members, each
// with JSON.parse on its own text so that their values are exactly what a full parse gives.

import { closingQuote, compact } from './item-text.js';

export interface ScannedPage {
  /** The body's top-level members other than `items`, each parsed from its own text. */
  envelope: Record<string, unknown>;
  /** Each item's compact JSON text, as itemTexts gives it. */
  texts: string[];
  /**
   * For each item, an object with exactly the asked-for keys: the item's top-level member of that name
   * as JSON.parse gives it, undefined where the item has none.
   */
  heads: Record<string, unknown>[];
}

// Any raw control character is either blank outside strings (a pretty-printed body: rare, left to
// JSON.parse) or invalid inside one; ruling them all out keeps the string skipping below a plain indexOf.
const CONTROL = /[\u0000-\u001f]/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

const QUOTE = 0x22;
const SPACE = 0x20;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

// What the grammar allows next.
const VALUE = 0;
const VALUE_OR_CLOSE = 1; // after `[`
const KEY = 2; // after `,` in an object
const KEY_OR_CLOSE = 3; // after `{`
const COLON_NEXT = 4;
const AFTER_VALUE = 5; // `,`, the container's close, or the end of the body

/**
 * Validates `body` as a JSON object with one top-level `items` array of objects and returns its
 * envelope, item texts and item heads (the top-level members named in `headKeys`); undefined when the
 * body is anything else, is not valid JSON, or contains a raw control character.
 */
export function scanPage(body: string, headKeys: readonly string[]): ScannedPage | undefined {
  if (CONTROL.test(body) || !escapesValid(body)) return undefined;
  const n = body.length;
  const envelope: Record<string, unknown> = {};
  const texts: string[] = [];
  const heads: Record<string, unknown>[] = [];
  let sawItems = false;
  let itemsKeys = 0;
  // Container kinds, innermost last (true: object); depth 1 is the body's object, 2 the items array,
  // 3 an item's own members.
  const stack: boolean[] = [];
  let state = VALUE;
  let inItems = false;
  // The member being read at depth 1 (its key) or at depth 3 (its index in headKeys, -1 if not wanted).
  let envKey = '';
  let headIndex = -1;
  let valueStart = -1;
  let head: Record<string, unknown> | undefined;
  let itemStart = -1;
  let itemBlanks = false;
  let nextBackslash = body.indexOf('\\');

  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    // Set when a value ends here: the depth of the container it is in, and the index just after it.
    let endDepth = -1;
    let end = 0;
    if (c === SPACE) {
      if (itemStart >= 0) itemBlanks = true;
      continue;
    }
    const depth = stack.length;
    if (state === AFTER_VALUE) {
      if (c === COMMA && depth > 0) {
        state = stack[depth - 1] ? KEY : VALUE;
        continue;
      }
      if ((c === CLOSE_OBJECT && stack[depth - 1] === true) || (c === CLOSE_ARRAY && stack[depth - 1] === false)) {
        stack.pop();
        endDepth = depth - 1;
        end = i + 1;
      } else {
        return undefined;
      }
    } else if (state === COLON_NEXT) {
      if (c !== COLON) return undefined;
      state = VALUE;
      continue;
    } else if (state === KEY || state === KEY_OR_CLOSE) {
      if (c === CLOSE_OBJECT && state === KEY_OR_CLOSE) {
        stack.pop();
        endDepth = depth - 1;
        end = i + 1;
      } else {
        if (c !== QUOTE) return undefined;
        const close = closingQuote(body, i);
        if (close >= n) return undefined;
        if (nextBackslash >= 0 && nextBackslash < i) nextBackslash = body.indexOf('\\', i);
        const escaped = nextBackslash >= 0 && nextBackslash < close;
        if (depth === 1) {
          envKey = escaped ? (JSON.parse(body.slice(i, close + 1)) as string) : body.slice(i + 1, close);
          // A second `items` (JSON.parse keeps the last) or an own `__proto__` member: left to JSON.parse.
          if (envKey === '__proto__' || (envKey === 'items' && ++itemsKeys > 1)) return undefined;
        } else if (depth === 3 && inItems) {
          headIndex = escaped ? headKeys.indexOf(JSON.parse(body.slice(i, close + 1)) as string) : keyIndex(body, i + 1, close, headKeys);
        }
        i = close;
        state = COLON_NEXT;
        continue;
      }
    } else if (c === CLOSE_ARRAY && state === VALUE_OR_CLOSE) {
      stack.pop();
      endDepth = depth - 1;
      end = i + 1;
    } else {
      // A value starts here (state VALUE or VALUE_OR_CLOSE).
      if (depth === 0 && c !== OPEN_OBJECT) return undefined;
      if (depth === 1 || (depth === 3 && inItems)) valueStart = i;
      if (depth === 2 && inItems) {
        if (c !== OPEN_OBJECT) return undefined;
        itemStart = i;
        itemBlanks = false;
        head = {};
        for (const key of headKeys) head[key] = undefined;
      }
      if (c === OPEN_OBJECT) {
        stack.push(true);
        state = KEY_OR_CLOSE;
      } else if (c === OPEN_ARRAY) {
        if (depth === 1 && envKey === 'items') {
          if (sawItems) return undefined;
          sawItems = true;
          inItems = true;
        }
        stack.push(false);
        state = VALUE_OR_CLOSE;
      } else if (c === QUOTE) {
        const close = closingQuote(body, i);
        if (close >= n) return undefined;
        i = close;
        endDepth = depth;
        end = close + 1;
      } else {
        end = literalEnd(body, i);
        if (end < 0) return undefined;
        i = end - 1;
        endDepth = depth;
      }
    }
    if (endDepth < 0) continue;
    state = AFTER_VALUE;
    if (endDepth === 1) {
      if (envKey === 'items') {
        inItems = false;
      } else {
        envelope[envKey] = JSON.parse(body.slice(valueStart, end));
      }
    } else if (endDepth === 2 && inItems) {
      texts.push(itemBlanks ? compact(body.slice(itemStart, end)) : body.slice(itemStart, end));
      heads.push(head!);
      itemStart = -1;
    } else if (endDepth === 3 && inItems && headIndex >= 0) {
      // JSON.parse of the member's own text: exact values, and strings that do not keep the page alive.
      head![headKeys[headIndex]!] = JSON.parse(body.slice(valueStart, end));
    }
  }
  if (stack.length !== 0 || state !== AFTER_VALUE || !sawItems) return undefined;
  return { envelope, texts, heads };

}

/** Index in `keys` of the unescaped key text body[from, to), or -1. */
function keyIndex(body: string, from: number, to: number, keys: readonly string[]): number {
  const length = to - from;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    if (key.length === length && body.startsWith(key, from)) return k;
  }
  return -1;
}

/** End of the literal (number, true, false, null) starting at `i`, or -1 when it is not one. */
function literalEnd(body: string, i: number): number {
  const c = body.charCodeAt(i);
  if (c === 0x74) return body.startsWith('true', i) ? i + 4 : -1;
  if (c === 0x66) return body.startsWith('false', i) ? i + 5 : -1;
  if (c === 0x6e) return body.startsWith('null', i) ? i + 4 : -1;
  NUMBER.lastIndex = i;
  if (!NUMBER.test(body)) return -1;
  const end = NUMBER.lastIndex;
  return end > i ? end : -1;
}

const ESCAPABLE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

/** Every backslash starts an escape that JSON allows (outside strings, the grammar rejects it anyway). */
function escapesValid(body: string): boolean {
  for (let i = body.indexOf('\\'); i >= 0; i = body.indexOf('\\', i)) {
    const c = body.charCodeAt(i + 1);
    if (ESCAPABLE.has(c)) {
      i += 2;
    } else if (c === 0x75 && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
      i += 6;
    } else {
      return false;
    }
  }
  return true;
}
