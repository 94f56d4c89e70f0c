// Emulator throughput: items per second served end to end over HTTP (client in the same process), and
// the CPU the whole process used per wall second. The collectors' benchmarks stand on these figures.
import { startEmulator, type Emulator } from '../test/emulator/index.js';

async function tokenOf(emu: Emulator): Promise<string> {
  const res = await fetch(`${emu.authUrl}/api/v2/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: 'token' }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function measure(label: string, body: () => Promise<number>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const items = await body();
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cores = (cpu.user + cpu.system) / 1e6 / secs;
  const mb = process.memoryUsage().rss / 1e6;
  process.stdout.write(`emulator ${label}: ${items} items in ${secs.toFixed(2)} s = ${Math.round(items / secs)} items/s; process CPU ${cores.toFixed(2)} cores; rss ${mb.toFixed(0)} MB\n`);
}

export default async function run(): Promise<void> {
  const emu = await startEmulator({ tenants: 1, eventsPerTenant: 1_000_000, alertsPerTenant: 1_000_000, endpointsPerTenant: 1_000_000 });
  try {
    const tok = await tokenOf(emu);
    const t = emu.tenants[0]!;
    const headers = { authorization: `Bearer ${tok}`, 'x-tenant-id': t.id };
    await measure('SIEM events (1,000,000, limit 1000)', async () => {
      let n = 0;
      let url = `${t.apiHost}/siem/v1/events?limit=1000`;
      for (;;) {
        const page = (await (await fetch(url, { headers })).json()) as { items: unknown[]; has_more: boolean; next_cursor: string };
        n += page.items.length;
        if (!page.has_more) return n;
        url = `${t.apiHost}/siem/v1/events?limit=1000&cursor=${encodeURIComponent(page.next_cursor)}`;
      }
    });
    await measure('Common alerts (1,000,000, pageSize 1000)', async () => {
      let n = 0;
      let key: string | undefined;
      do {
        const q = `pageSize=1000&sort=raisedAt:asc${key ? `&pageFromKey=${encodeURIComponent(key)}` : ''}`;
        const page = (await (await fetch(`${t.apiHost}/common/v1/alerts?${q}`, { headers })).json()) as { items: unknown[]; pages: { nextKey?: string } };
        n += page.items.length;
        key = page.pages.nextKey;
      } while (key);
      return n;
    });
    await measure('endpoints (200,000 of 1,000,000, pageSize 500)', async () => {
      let n = 0;
      let key: string | undefined;
      do {
        const q = `pageSize=500${key ? `&pageFromKey=${encodeURIComponent(key)}` : ''}`;
        const page = (await (await fetch(`${t.apiHost}/endpoint/v1/endpoints?${q}`, { headers })).json()) as { items: unknown[]; pages: { nextKey?: string } };
        n += page.items.length;
        key = page.pages.nextKey;
      } while (key && n < 200_000);
      return n;
    });
  } finally {
    await emu.stop();
  }
}
