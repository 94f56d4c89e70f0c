// Collectors end to end: alerts and SIEM events at 100,000 and 1,000,000 items, from the emulator in a
// child process, through the real client, serialised to Splunk's XML stream into /dev/null.
// Prints events/s, peak RSS of the collecting process, requests against the minimum, and the
// emulator's CPU share (it must not be the bottleneck).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dir = dirname(fileURLToPath(import.meta.url));
const sizes = (process.env.BENCH_COLLECT_SIZES ?? '100000,1000000').split(',').map(Number);
const PAGE = { alerts: 1000, events: 1000 } as const;

function emulatorChild(options: object): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(dir, 'emulator-child.ts'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
}

/** The collector bundled like the add-on (one CommonJS file, plain node), so tsx's loader costs nothing. */
async function bundleCollector(): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'ta-bench-')), 'collect-child.js');
  await build({ entryPoints: [join(dir, 'collect-child.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile, logLevel: 'error' });
  return outfile;
}

async function firstLine(child: ChildProcess): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) return line;
  throw new Error('child exited without output');
}

async function cpuMs(child: ChildProcess): Promise<number> {
  child.send({ cpu: true });
  const [reply] = (await once(child, 'message')) as [{ cpuMs: number }];
  return reply.cpuMs;
}

export default async function run(): Promise<void> {
  console.log('\n## collect.bench.ts: collectors end to end (emulator in a child process)');
  const collectorJs = await bundleCollector();
  let sink = '';
  for (const data of ['alerts', 'events'] as const) {
    for (const n of sizes) {
      const options = { tenants: 1, regions: ['eu01'], endpointsPerTenant: 1, alertsPerTenant: data === 'alerts' ? n : 0, eventsPerTenant: data === 'events' ? n : 0 };
      const emulator = emulatorChild(options);
      const urls = JSON.parse(await firstLine(emulator)) as Record<string, unknown>;
      const cpuBefore = await cpuMs(emulator);
      const wallStart = performance.now();
      const collector = spawn(process.execPath, [collectorJs, JSON.stringify({ emulator: urls, data })], { stdio: ['ignore', 'pipe', 'inherit'] });
      const result = JSON.parse(await firstLine(collector)) as { events: number; pages: number; requests: number; status: string; ms: number; peakRssMb: number; sink: string };
      await once(collector, 'exit');
      sink = result.sink;
      const wall = performance.now() - wallStart;
      const emulatorShare = (await cpuMs(emulator)) - cpuBefore;
      emulator.kill('SIGTERM');
      await once(emulator, 'exit');
      const minimum = Math.max(1, Math.ceil(n / PAGE[data]));
      console.log(
        `${data.padEnd(6)} ${String(n).padStart(9)} items: ${result.events} events (${result.status}) in ${(result.ms / 1000).toFixed(2)} s = ` +
          `${Math.round(result.events / (result.ms / 1000)).toLocaleString('en')} events/s, peak RSS ${result.peakRssMb.toFixed(0)} MB, ` +
          `${result.requests} data requests (minimum ${minimum} pages), emulator CPU ${((emulatorShare / wall) * 100).toFixed(0)}% of one core`,
      );
    }
  }
  console.log(`sink: ${sink}`);
}
