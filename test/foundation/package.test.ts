import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const archive = join(ROOT, 'dist', `TA-sophos-central-${version}.tgz`);
const unpacked = mkdtempSync(join(tmpdir(), 'ta-pkg-'));
let listing: { mode: string; path: string }[] = [];

beforeAll(() => {
  // npm test has built the bundle already; package it exactly as `npm run package` does.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs')], { cwd: ROOT });
  listing = execFileSync('tar', ['-tzvf', archive], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.split(/\s+/);
      return { mode: parts[0]!, path: parts.slice(5).join(' ') };
    });
  execFileSync('tar', ['-xzf', archive, '-C', unpacked]);
});
afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

describe('npm run package', () => {
  it('has one top folder TA-sophos-central/ and no ./ prefixes', () => {
    expect(listing.length).toBeGreaterThan(5);
    for (const { path } of listing) {
      expect(path.startsWith('TA-sophos-central/')).toBe(true);
      expect(path.startsWith('./')).toBe(false);
    }
  });

  it('holds no hidden, source, test or dev files', () => {
    for (const { path } of listing) {
      const parts = path.split('/').filter(Boolean);
      expect(parts.some((p) => p.startsWith('.') || p === '__MACOSX')).toBe(false);
      expect(parts[1] ?? '').not.toMatch(/^(src|test|node_modules|scripts|bench|dist|local|package(-lock)?\.json|tsconfig\.json|vitest\.config\.ts)$/);
    }
    expect(listing.some((e) => e.path.endsWith('local.meta'))).toBe(false);
  });

  it('makes only files under bin/ executable, and the .sh wrapper is', () => {
    for (const { mode, path } of listing) {
      if (mode.startsWith('d')) continue;
      if (/[x]/.test(mode)) expect(path.startsWith('TA-sophos-central/bin/')).toBe(true);
    }
    expect(listing.find((e) => e.path === 'TA-sophos-central/bin/sophos_central.sh')?.mode).toBe('-rwxr-xr-x');
  });

  it('contains an installable app with a self-contained bundle', () => {
    const paths = listing.map((e) => e.path);
    for (const required of [
      'TA-sophos-central/app.manifest',
      'TA-sophos-central/default/app.conf',
      'TA-sophos-central/default/inputs.conf',
      'TA-sophos-central/README/inputs.conf.spec',
      'TA-sophos-central/metadata/default.meta',
      'TA-sophos-central/bin/sophos_central.cmd',
      'TA-sophos-central/bin/app/sophos_central.js',
    ]) {
      expect(paths).toContain(required);
    }
    const bundle = readFileSync(join(unpacked, 'TA-sophos-central/bin/app/sophos_central.js'), 'utf8');
    const requires = [...bundle.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((m) => m[1]!);
    const builtins = new Set(builtinModules);
    for (const r of requires) expect(builtins.has(r.replace(/^node:/, '')), `require(${r})`).toBe(true);
    // Executed directly, as splunkd runs it: the packaged file's mode and #! line must do.
    const scheme = execFileSync(join(unpacked, 'TA-sophos-central/bin/sophos_central.sh'), ['--scheme'], {
      encoding: 'utf8',
      cwd: tmpdir(),
    });
    expect(scheme).toContain('<streaming_mode>xml</streaming_mode>');
  });
});
