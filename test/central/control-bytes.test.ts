import { afterEach, describe, expect, it, vi } from 'vitest';
import { controlByteIn } from '../../src/central/control-bytes.js';
import { hash, unit } from '../emulator/rng.js';

const reference = (bytes: Uint8Array): boolean => bytes.some((b) => b < 0x20);

describe('controlByteIn', () => {
  it('finds every byte below 0x20 at every offset within a block and in the last, partial one', () => {
    for (const length of [1, 2, 63, 64, 65, 127, 128, 129, 200]) {
      for (let at = 0; at < length; at++) {
        for (const b of [0x00, 0x09, 0x0a, 0x1f, 0x20, 0x7f, 0x80, 0xff]) {
          const bytes = Buffer.alloc(length, 0x41);
          bytes[at] = b;
          expect(controlByteIn(bytes), `${length} bytes, 0x${b.toString(16)} at ${at}`).toBe(b < 0x20);
        }
      }
    }
    expect(controlByteIn(new Uint8Array(0))).toBe(false);
  });

  it('agrees with a byte-by-byte test on 20,000 random buffers', () => {
    let draws = 0;
    const r = (): number => unit(hash(3, draws++));
    for (let n = 0; n < 20_000; n++) {
      const bytes = Buffer.alloc(Math.floor(r() * 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = 0x20 + Math.floor(r() * 224);
      if (bytes.length > 0 && r() < 0.5) bytes[Math.floor(r() * bytes.length)] = Math.floor(r() * 0x20);
      expect(controlByteIn(bytes)).toBe(reference(bytes));
    }
  });

  it('is not misled by what an earlier, longer scan left in its memory', () => {
    const longer = Buffer.alloc(128, 0x41);
    longer[100] = 0x0a;
    expect(controlByteIn(longer)).toBe(true);
    expect(controlByteIn(Buffer.alloc(70, 0x41))).toBe(false);
  });

  it('scans pages larger than its memory window by window, to the last byte', () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 77, 0x41);
    expect(controlByteIn(big)).toBe(false);
    for (const at of [0, 1024 * 1024 - 1, 1024 * 1024, 2 * 1024 * 1024 + 5, big.length - 1]) {
      big[at] = 0x00;
      expect(controlByteIn(big), `at ${at}`).toBe(true);
      big[at] = 0x41;
    }
  });

  describe('where this Node has no WebAssembly', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
      vi.resetModules();
    });

    it('answers undefined, and the page scan tests the text instead', async () => {
      vi.stubGlobal('WebAssembly', undefined);
      vi.resetModules();
      const fresh = await import('../../src/central/control-bytes.js');
      expect(fresh.controlByteIn(Buffer.from('{"a":"\n"}'))).toBeUndefined();
      const { scanPage } = await import('../../src/central/page-scan.js');
      const text = '{"items":[{"id":"a\tb"}]}';
      expect(scanPage(text, ['id'], undefined, Buffer.from(text))).toBeUndefined();
      expect(scanPage('{"items":[{"id":"ab"}]}', ['id'], undefined, Buffer.from('{"items":[{"id":"ab"}]}'))?.heads).toEqual([{ id: 'ab' }]);
    });
  });
});
