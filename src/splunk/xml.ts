// XML 1.0 text helpers for everything written to splunkd (scheme, validation errors, event stream).

// Characters XML 1.0 forbids even when escaped: C0 controls other than tab/LF/CR, U+FFFE/U+FFFF and
// lone surrogates. A hand-written regex on the hot path is faster than any library call per event.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SPECIAL = /[&<>"]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Entity-escapes text for an element or a double-quoted attribute, and drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text.replace(FORBIDDEN, '').replace(SPECIAL, (c) => ENTITY[c]!);
}
