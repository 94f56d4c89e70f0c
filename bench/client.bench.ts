// Central client throughput and memory: iterates 1,000,000 SIEM events and 1,000,000 Common alerts from
// the emulator, which runs in a child process so that the RSS sampled here is the client's own.
// Prints items/s, requests made against the fewest possible, and peak RSS against RSS early in the run.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createCentralClient } from '../src/central/client.js';
import type { CentralClient, Tenant, TenantApi } from '../src/central/types.js';

const TENANTS = 10;
const PER_TENANT = 100_000;
const SIEM_LIMIT = 1000;
const ALERTS_PAGE = 1000;

interface Started {
  child: ChildProcess;
  authUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

async function startEmulatorChild(): Promise<Started> {
  const root = join(__dirname, '..');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test', 'emulator', 'cli.ts'), '--tenants', String(TENANTS), '--events', String(PER_TENANT), '--alerts', String(PER_TENANT), '--endpoints', '10', '--seed', 'bench'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return { child, ...(JSON.parse(line) as Omit<Started, 'child'>) };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Samples RSS every 20 ms for the peak, and once at each fifth of the items to show the trend. */
function rssSampler(total: number) {
  let peak = process.memoryUsage.rss();
  const fifths: number[] = [];
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    progress: (items: number) => {
      while (fifths.length < 5 && items >= ((fifths.length + 1) * total) / 5 - 1000) fifths.push(process.memoryUsage.rss());
    },
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      return { peak, fifths };
    },
  };
}

async function measure(
  label: string,
  client: CentralClient,
  tenants: Tenant[],
  pages: (api: TenantApi) => AsyncIterable<{ items: unknown[] }>,
  pageSize: number,
): Promise<void> {
  global.gc?.();
  const before = process.memoryUsage.rss();
  const sampler = rssSampler(TENANTS * PER_TENANT);
  const apis = tenants.map((t) => client.forTenant(t));
  const requestsBefore = apis.reduce((n, a) => n + a.stats.requests, 0);
  const perTenant: number[] = [];
  let items = 0;
  const started = process.hrtime.bigint();
  // Every tenant at once: the client's concurrency caps decide how many requests are in flight.
  await Promise.all(
    apis.map(async (api, i) => {
      let n = 0;
      for await (const page of pages(api)) {
        n += page.items.length;
        items += page.items.length;
        sampler.progress(items);
      }
      perTenant[i] = n;
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { peak, fifths } = sampler.stop();
  const requests = apis.reduce((n, a) => n + a.stats.requests, 0) - requestsBefore;
  const minimum = perTenant.reduce((n, c) => n + Math.max(1, Math.ceil(c / pageSize)), 0);
  const retries = apis.reduce((n, a) => n + a.stats.retries, 0);
  console.log(
    `client ${label}: ${items.toLocaleString('en-US')} items in ${seconds.toFixed(2)} s = ${Math.round(items / seconds).toLocaleString('en-US')} items/s; ` +
      `requests ${requests} (minimum ${minimum}, retries ${retries}); RSS before ${mb(before)}, at 20/40/60/80/100% ${fifths.map(mb).join(' / ')}, peak ${mb(peak)}`,
  );
}

export default async function run(): Promise<void> {
  const emu = await startEmulatorChild();
  const client = createCentralClient({
    clientId: emu.clientId,
    clientSecret: emu.clientSecret,
    authUrl: emu.authUrl,
    apiUrl: emu.apiUrl,
    env: {},
    concurrency: { total: 8, perTenant: 2 },
  });
  try {
    const tenants: Tenant[] = [];
    for await (const t of client.tenants()) tenants.push(t);
    // from_date: the SIEM window less a minute, as the collector asks; the emulator refuses one older than 24 hours.
    const fromDate = Math.floor(Date.now() / 1000) - 24 * 3600 + 60;
    await measure('SIEM events', client, tenants, (api) => api.siemEventPages({ fromDate, limit: SIEM_LIMIT }), SIEM_LIMIT);
    const from = new Date(Date.now() - 90 * 24 * 3600_000).toISOString();
    await measure('Common alerts', client, tenants, (api) => api.alertPages({ from }), ALERTS_PAGE);
  } finally {
    await client.close();
    emu.child.kill('SIGTERM');
    await once(emu.child, 'exit');
  }
}
