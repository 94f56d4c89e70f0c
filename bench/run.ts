// Runs every bench/*.bench.ts in turn. Each file exports a default async function that prints its own figures
// (the package is CommonJS under tsx, so bench files cannot use top-level await).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

async function main(): Promise<void> {
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts')).sort()) {
    const mod = (await import(pathToFileURL(join(__dirname, file)).href)) as { default?: unknown };
    if (typeof mod.default === 'function') await (mod.default as () => Promise<void>)();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
