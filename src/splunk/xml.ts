// XML 1.0 text helpers for everything written to splunkd (scheme, validation errors, event stream).

// Characters XML 1.0 forbids even when escaped: C0 controls other than tab/LF/CR, U+FFFE/U+FFFF and lone
// surrogates. Measured on the hot path: one replace with a single character class, plus V8's native
// isWellFormed() for the rare lone surrogate, is the fastest option in plain JS, faster than a
// per-character loop or chained replaces.
const TEXT_SPECIAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF&<>]/g;
const ATTR_SPECIAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF&<>"]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const replacement = (c: string): string => ENTITY[c] ?? '';

function wellFormed(text: string): string {
  // String.prototype.isWellFormed is in Node 20 (V8 11.3) but not in TypeScript's ES2022 lib.
  return (text as string & { isWellFormed(): boolean }).isWellFormed() ? text : text.replace(LONE_SURROGATE, '');
}

/** Entity-escapes text for an element or a double-quoted attribute, and drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return wellFormed(text).replace(ATTR_SPECIAL, replacement);
}

/** The same for element text only: `"` stays as is, which keeps JSON event data compact. */
export function escapeXmlText(text: string): string {
  return wellFormed(text).replace(TEXT_SPECIAL, replacement);
}
