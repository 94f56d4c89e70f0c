// The emulator in its own process for benchmarks, so its CPU does not count against the collector's.
// argv[2] is the startEmulator options as JSON. Prints one JSON line with the URLs and credentials,
// answers any message with its CPU time and the number of data requests served, and stops on SIGTERM.
import { startEmulator } from '../test/emulator/index.js';

async function main(): Promise<void> {
  const emulator = await startEmulator(JSON.parse(process.argv[2] ?? '{}'));
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
