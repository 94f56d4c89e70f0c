// The emulator in its own process for benchmarks, so its CPU does not count against the collector's.
// argv[2] is the startEmulator options as JSON. Prints one JSON line with the URLs and credentials,
// answers any message with its CPU time and the number of data requests served, and stops on SIGTERM.
import { startEmulator, type Emulator } from '../test/emulator/index.js';
import { emulatorClient } from '../test/helpers/central.js';

/** Pages each list route serves before the bench starts, so the input does not pay for the emulator's JIT. */
const WARM_UP_PAGES = 30;

/**
 * Reads the first pages of alerts and SIEM events once. A fresh emulator serves its first pages several
 * times slower than later ones while V8 compiles its generators; Sophos Central has no such cold start.
 */
async function warmUp(emulator: Emulator): Promise<void> {
  const client = emulatorClient(emulator);
  try {
    for await (const tenant of client.tenants()) {
      const api = client.forTenant(tenant);
      for (const pages of [api.alertPages({ pageSize: 1000 }), api.siemEventPages({ limit: 1000 })]) {
        let n = 0;
        for await (const _page of pages) if (++n >= WARM_UP_PAGES) break;
      }
    }
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  const emulator = await startEmulator(JSON.parse(process.argv[2] ?? '{}'));
  await warmUp(emulator);
  const DATA_ROUTES = new Set(['alerts', 'siem-events', 'siem-alerts', 'endpoints']);
  process.on('message', () => {
    const cpu = process.cpuUsage();
    const requests = emulator.requests.filter((r) => DATA_ROUTES.has(r.route)).length;
    process.send?.({ cpuMs: (cpu.user + cpu.system) / 1000, requests });
  });
  process.on('SIGTERM', () => void emulator.stop().then(() => process.exit(0)));
  process.stdout.write(
    `${JSON.stringify({
      authUrl: emulator.authUrl,
      apiUrl: emulator.apiUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tenants: emulator.tenants.map((t) => t.id),
    })}\n`,
  );
}

void main();
