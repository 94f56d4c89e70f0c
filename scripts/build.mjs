// Bundles every entry point in src/entry/ into one self-contained CommonJS file
// under bin/app/, so a Splunk host needs Node and nothing else (no node_modules).
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
  logLevel: 'warning',
});
