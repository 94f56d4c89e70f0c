// Bundles every entry point in src/entry/ into one self-contained CommonJS file
// under bin/app/, so a Splunk host needs Node and nothing else (no node_modules),
// and the setup page (src/ui/setup.ts) into one browser script under appserver/static/build/.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, basename } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entryDir = join(root, 'src', 'entry');
const entryPoints = Object.fromEntries(
  readdirSync(entryDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [basename(f, '.ts'), join(entryDir, f)]),
);

// `undici` itself (not its files) resolves to scripts/undici-core.cjs, and its node:http2, node:assert and node:http
// to scripts/no-http2.cjs, scripts/undici-assert.cjs and scripts/undici-http.cjs; each says why.
const undiciCore = {
  name: 'undici-core',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: join(root, 'scripts', 'undici-core.cjs') }));
    b.onResolve({ filter: /^node:http2$/ }, ({ importer }) =>
      importer.includes('undici') ? { path: join(root, 'scripts', 'no-http2.cjs') } : undefined,
    );
    b.onResolve({ filter: /^node:assert$/ }, ({ importer }) =>
      importer.includes('undici') ? { path: join(root, 'scripts', 'undici-assert.cjs') } : undefined,
    );
    b.onResolve({ filter: /^node:http$/ }, ({ importer }) =>
      importer.includes('undici') ? { path: join(root, 'scripts', 'undici-http.cjs') } : undefined,
    );
  },
};

await build({
  entryPoints,
  outdir: join(root, 'bin', 'app'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: false,
  minifySyntax: true,
  legalComments: 'none',
  define: { __TA_VERSION__: JSON.stringify(version) },
  plugins: [undiciCore],
  logLevel: 'warning',
});

// The setup page runs in Splunk Web, loaded by a Simple XML view as a plain script (not an AMD module).
await build({
  entryPoints: { setup: join(root, 'src', 'ui', 'setup.ts') },
  outdir: join(root, 'appserver', 'static', 'build'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15', 'edge100'],
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
