// The node:http the bundles give undici (scripts/build.mjs): what undici reads from it, as node:http gives it,
// without loading node:http.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const shim = createRequire(import.meta.url)('../../scripts/undici-http.cjs') as { IncomingMessage: new () => object; maxHeaderSize: number };

describe('scripts/undici-http.cjs', () => {
  it("gives Node's own default header limit, and an IncomingMessage that no stream of Node's is", () => {
    // Node's default, which this test process runs with: only --max-http-header-size changes it.
    expect(shim.maxHeaderSize).toBe(http.maxHeaderSize);
    expect(typeof shim.IncomingMessage).toBe('function');
    const incoming = new http.IncomingMessage(null as never);
    expect(Object.getPrototypeOf(incoming).constructor === shim.IncomingMessage).toBe(false);
    expect(Object.keys(shim).sort()).toEqual(['IncomingMessage', 'maxHeaderSize']);
  });

  it('gives every name that the undici files in the bundles read from node:http', () => {
    const require = createRequire(import.meta.url);
    const read = new Set<string>();
    for (const file of ['undici/lib/core/util.js', 'undici/lib/dispatcher/client.js']) {
      const source = readFileSync(require.resolve(file), 'utf8');
      for (const [, names] of source.matchAll(/const \{([^}]*)\} = require\('node:http'\)/g)) for (const name of names!.split(',')) read.add(name.trim());
      if (/const http = require\('node:http'\)/.test(source)) for (const [, name] of source.matchAll(/\bhttp\.(\w+)/g)) read.add(name!);
    }
    expect([...read].sort()).toEqual(Object.keys(shim).sort());
  });
});
