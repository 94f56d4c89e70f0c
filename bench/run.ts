// Runs every bench/*.bench.ts in turn. A bench module exports `run(): Promise<void>` and prints its figures.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts')).sort()) {
    const mod = (await import(join(__dirname, file))) as { run?: () => Promise<void> };
    if (mod.run) await mod.run();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
