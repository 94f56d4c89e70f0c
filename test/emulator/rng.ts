// Deterministic pseudo-randomness without state: every generated value is a pure function of
// (seed, stream, index), so any page of any tenant can be rendered without generating what comes before it.

/** A 32-bit avalanche mix (the "lowbias32" finaliser): cheap and well distributed. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** FNV-1a of the seed's text, so that `1` and `"1"` give the same data. */
export function seedHash(seed: number | string): number {
  const s = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0);
}

/** Hash of up to four integers. */
export function hash(a: number, b: number, c = 0, d = 0): number {
  return mix32(mix32(mix32(mix32(a ^ 0x9e3779b9) ^ b) ^ c) + d);
}

/** A float in [0, 1) from a 32-bit hash. */
export function unit(h: number): number {
  return h / 4294967296;
}

export function pick<T>(list: readonly T[], h: number): T {
  return list[h % list.length] as T;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** 8 lower-case hex digits of a 32-bit value. */
export function hex8(x: number): string {
  return HEX[(x >>> 24) & 255]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}

/** A version-4-looking UUID from four 32-bit words. */
export function uuid(w0: number, w1: number, w2: number, w3: number): string {
  const b = hex8(w1);
  const c = hex8(w2);
  return `${hex8(w0)}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${'89ab'[w2 & 3]}${c.slice(1, 4)}-${c.slice(4, 8)}${hex8(w3)}`;
}

/** A UUID derived from a stream and index. */
export function uuidOf(seed: number, stream: number, a: number, b = 0): string {
  const h = hash(seed, stream, a, b);
  return uuid(h, mix32(h ^ 1), mix32(h ^ 2), mix32(h ^ 3));
}
