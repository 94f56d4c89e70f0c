// Writes dist/TA-sophos-central-<version>.tgz: one top folder, no ./ prefixes, no hidden or dev files,
// only bin/ executable (splunk-addon.md §4.6). Files are copied from an allow-list, so nothing new
// slips into the package unnoticed.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const APP = 'TA-sophos-central';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const INCLUDE = ['app.manifest', 'LICENSE', 'README.md', 'CHANGELOG.md', 'README', 'bin', 'default', 'metadata', 'appserver', 'static', 'lookups'];

if (!existsSync(join(root, 'bin', 'app', 'sophos_central.js'))) {
  throw new Error('bin/app/sophos_central.js is missing: run npm run build first');
}

const stage = join(root, 'dist', 'stage');
const appDir = join(stage, APP);
rmSync(stage, { recursive: true, force: true });
mkdirSync(appDir, { recursive: true });

const hidden = (p) => p.split(sep).some((part) => part.startsWith('.') || part === '__MACOSX');
// Splunk writes metadata/local.meta when an admin changes permissions on a dev instance; a package must not ship it.
const localMeta = join('metadata', 'local.meta');
for (const entry of INCLUDE) {
  const from = join(root, entry);
  if (!existsSync(from)) continue;
  cpSync(from, join(appDir, entry), { recursive: true, filter: (src) => !hidden(relative(root, src)) && relative(root, src) !== localMeta });
}

// Normalise modes: dirs 755, files 644, and only the bin/ wrappers executable.
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      chmodSync(p, 0o755);
      walk(p);
    } else {
      const inBin = relative(appDir, p).split(sep)[0] === 'bin';
      chmodSync(p, inBin && p.endsWith('.sh') ? 0o755 : 0o644);
    }
  }
};
walk(appDir);

const out = join(root, 'dist', `${APP}-${version}.tgz`);
rmSync(out, { force: true });
execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', stage, '-czf', out, APP]);
rmSync(stage, { recursive: true, force: true });
process.stdout.write(`${relative(root, out)}\n`);
