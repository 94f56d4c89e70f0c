// XML 1.0 text helpers for everything written to splunkd (scheme, validation errors, event stream).

// Characters XML 1.0 forbids even when escaped: C0 controls other than tab/LF/CR, U+FFFE/U+FFFF and lone
// surrogates. Measured on the hot path: one replace with a single character class, plus V8's native
// isWellFormed() for the rare lone surrogate, is the fastest option in plain JS, faster than a
// per-character loop or chained replaces.
const DATA_SPECIAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF&<>]/g;
// Tab, LF and CR as character references: a parser turns them into spaces in an attribute and CR into LF in
// text (XML 1.0 §3.3.3, §2.11), so a stanza, host or index holding one would reach splunkd changed.
const ATTR_SPECIAL = /[\u0000-\u001F\uFFFE\uFFFF&<>"]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };
const replacement = (c: string): string => ENTITY[c] ?? '';

/** `text` with each lone surrogate replaced (dropped by default). */
function wellFormed(text: string, replace: (c: string) => string = () => ''): string {
  // String.prototype.isWellFormed is in Node 20 (V8 11.3) but not in TypeScript's ES2022 lib.
  return (text as string & { isWellFormed(): boolean }).isWellFormed() ? text : text.replace(LONE_SURROGATE, replace);
}

/** Entity-escapes text for an element or a double-quoted attribute, and drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return wellFormed(text).replace(ATTR_SPECIAL, replacement);
}

/** A UTF-16 code unit as a JSON `\u` escape. */
const jsonEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
const dataReplacement = (c: string): string => ENTITY[c] ?? (c >= '\uFFFE' ? jsonEscape(c) : '');

/**
 * Entity-escapes JSON event data for element text. `"` stays as is, which keeps it compact, and so do tab, LF
 * and CR, which JSON text holds only as escapes. A character XML forbids can stand in JSON text only inside a
 * string (U+FFFE, U+FFFF, a lone surrogate), where its `\u` escape means the same to a JSON reader: written so,
 * the value reaches splunkd as the API sent it, where dropping it changed values and could merge two keys. A
 * raw control character is invalid JSON anyway and is dropped.
 */
export function escapeJsonData(text: string): string {
  return wellFormed(text, jsonEscape).replace(DATA_SPECIAL, dataReplacement);
}
