// Whether a page's UTF-8 bytes hold a control character, 64 bytes at a time with WebAssembly SIMD.
//
// Hot path, written by hand: the page scan (page-scan.ts) must rule out raw control characters in every
// alert and SIEM page, and the regex it ran over each page's text was 4-5% of a collection's CPU (about
// 0.38 ms for a 600 KB page); this takes 0.03 ms, the copy into WebAssembly memory included. In UTF-8 a
// byte below 0x20 is always that control character (the bytes of longer sequences are all 0x80 or more),
// so the bytes answer for the text decoded from them.

/**
 * The module below, assembled with wabt's wat2wasm (`--enable-simd`) from:
 *
 *   (module
 *     (memory (export "memory") 16)
 *     ;; Whether bytes [0, len) hold one below 0x20; len a multiple of 64.
 *     (func (export "control") (param $len i32) (result i32)
 *       (local $i i32) (local $space v128)
 *       (local.set $space (i8x16.splat (i32.const 0x20)))
 *       (block $done
 *         (loop $next
 *           (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
 *           (br_if $done
 *             (v128.any_true
 *               (i8x16.lt_u
 *                 (i8x16.min_u
 *                   (i8x16.min_u (v128.load offset=0 (local.get $i)) (v128.load offset=16 (local.get $i)))
 *                   (i8x16.min_u (v128.load offset=32 (local.get $i)) (v128.load offset=48 (local.get $i))))
 *                 (local.get $space))))
 *           (local.set $i (i32.add (local.get $i) (i32.const 64)))
 *           (br $next)))
 *       (i32.lt_u (local.get $i) (local.get $len))))
 */
const MODULE =
  'AGFzbQEAAAABBgFgAX8BfwMCAQAFAwEAEAcUAgZtZW1vcnkCAAdjb250cm9sAAAKUAFOAgF/AXtBIP0PIQICQANAIAEgAE8NASAB/QAEACAB/QAEEP13IAH9AAQgIAH9AAQw/Xf9dyAC/Sb9Uw0BIAFBwABqIQEMAAsLIAEgAEkL';

/** The module's memory, 16 WebAssembly pages: a page of the API is scanned in windows of this size, so the memory never grows. */
const WINDOW = 16 * 65536;
const SPACE = 0x20;

/** What is used here of the WebAssembly API, which TypeScript's ES libraries leave to the DOM's. */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; control: (length: number) => number } };
}

interface Scanner {
  memory: Uint8Array;
  control: (length: number) => number;
}

/** Instantiated on first use; null where this Node has no WebAssembly SIMD (`--jitless`, a CPU without SSE4.1). */
let scanner: Scanner | null | undefined;

function instance(): Scanner | null {
  if (scanner !== undefined) return scanner;
  try {
    const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
    const { exports } = new wasm.Instance(new wasm.Module(Buffer.from(MODULE, 'base64')));
    scanner = { memory: new Uint8Array(exports.memory.buffer, 0, WINDOW), control: exports.control };
  } catch {
    scanner = null;
  }
  return scanner;
}

/** Whether `bytes` hold a byte below 0x20; undefined where WebAssembly SIMD is not available (the caller then tests the text). */
export function controlByteIn(bytes: Uint8Array): boolean | undefined {
  const s = instance();
  if (s === null) return undefined;
  for (let start = 0; start < bytes.length; start += WINDOW) {
    const window = bytes.subarray(start, start + WINDOW);
    const padded = (window.length + 63) & ~63;
    s.memory.set(window);
    // Spaces up to the next 64 bytes: the module reads whole blocks.
    s.memory.fill(SPACE, window.length, padded);
    if (s.control(padded) !== 0) return true;
  }
  return false;
}
