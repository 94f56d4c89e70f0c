// The text of each item of a list response, sliced from the response body.
//
// Hot path, written by hand: an event is the API's JSON for the item, so re-serialising every parsed
// item with JSON.stringify was the largest single cost of a collection (a fifth of the CPU on 1,000,000
// SIEM events). One pass over the body that jumps from quote to quote with indexOf finds where each item
// starts and ends for a fraction of that, and keeps the item's bytes exactly as the API sent them.

/**
 * Compact JSON text of each element of the top-level `items` array of `body`, in order, or undefined when
 * the body has no such array (or more than one). `body` must be JSON that JSON.parse accepted: this only finds boundaries.
 * Whitespace outside strings inside an element is removed, so pretty-printed responses still give one-line
 * events; everything else (escapes, number spelling, key order) stays byte for byte the API's.
 */
export function itemTexts(body: string): string[] | undefined {
  let out: string[] | undefined;
  let items: string[] = [];
  const n = body.length;
  let depth = 0;
  // The last string seen directly inside the top-level object: the key of a value that follows it.
  let key = '';
  let inItems = false;
  // The element being read: where it starts (-1 between elements), where its last non-blank character
  // ends, and whether blanks occur inside it.
  let start = -1;
  let end = -1;
  let blanks = false;
  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c === QUOTE) {
      const close = closingQuote(body, i);
      if (inItems) {
        if (start < 0) {
          start = i;
          blanks = false;
        }
        end = close + 1;
      } else if (depth === 1) {
        key = body.slice(i + 1, close);
      }
      i = close;
      continue;
    }
    if (c === SPACE || c === LF || c === CR || c === TAB) {
      if (start >= 0) blanks = true;
      continue;
    }
    if (inItems && depth === 2 && (c === COMMA || c === CLOSE_ARRAY)) {
      if (start >= 0) items.push(blanks ? compact(body.slice(start, end)) : body.slice(start, end));
      start = -1;
      if (c === CLOSE_ARRAY) {
        // Read on to the end: JSON.parse keeps the last of duplicate keys, so a second `items` means no answer.
        if (out !== undefined) return undefined;
        out = items;
        items = [];
        inItems = false;
        depth = 1;
      }
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 1 && c === OPEN_ARRAY && key === 'items') {
        inItems = true;
        depth = 2;
        continue;
      }
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
    if (inItems) {
      if (start < 0) {
        start = i;
        blanks = false;
      }
      end = i + 1;
    }
  }
  return out;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Index of the quote that closes the string opened at `open`: the next quote not escaped by an odd run of backslashes. */
export function closingQuote(text: string, open: number): number {
  let q = text.indexOf('"', open + 1);
  while (q >= 0) {
    let k = q - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
  return text.length;
}

/** JSON text without the blanks outside its strings. */
export function compact(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
    } else if (c === SPACE || c === LF || c === CR || c === TAB) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

/**
 * `text`, one compact JSON object as itemTexts gives it, with `members` (compact `"key":value` pairs, comma
 * separated) added at the end of its top-level `tenant` object; undefined when it has no such member that is
 * an object, or more than one `tenant` key. Adding to the text keeps every other byte the API sent, where
 * parsing and re-serialising would rewrite numbers past 2^53 and escapes.
 */
export function withTenantMembers(text: string, members: string): string | undefined {
  if (text.charCodeAt(0) !== OPEN_OBJECT) return undefined;
  let depth = 0;
  // At depth 1: whether the next string is a key, and the key of the value that follows.
  let expectKey = false;
  let key = '';
  let close = -1;
  let empty = false;
  let tenantKeys = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (depth === 1 && expectKey) {
        key = text.slice(i + 1, end);
        expectKey = false;
        // JSON.parse keeps the last of duplicate keys: which one the item's tenant is, is left to it.
        if (key === 'tenant' && ++tenantKeys > 1) return undefined;
      }
      i = end;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth === 1) expectKey = true;
      else if (depth === 2 && c === OPEN_OBJECT && key === 'tenant') {
        close = objectEnd(text, i);
        empty = close === i + 1;
        i = close;
        depth--;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    } else if (depth === 1 && c === COMMA) {
      expectKey = true;
      key = '';
    }
  }
  if (close < 0) return undefined;
  return `${text.slice(0, close)}${empty ? '' : ','}${members}${text.slice(close)}`;
}

/** Index of the brace that closes the object opened at `open`. */
function objectEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = closingQuote(text, i);
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i;
  }
  return text.length;
}
