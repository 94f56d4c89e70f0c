// The emulator in its own process for benchmarks, so its CPU does not count against the collector's.
// argv[2] is the startEmulator options as JSON. Prints one JSON line with the URLs and credentials,
// answers {cpu: true} messages with its CPU time, and stops on SIGTERM.
import { startEmulator } from '../test/emulator/index.js';

async function main(): Promise<void> {
  const emulator = await startEmulator(JSON.parse(process.argv[2] ?? '{}'));
  process.on('message', () => process.send?.({ cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000 }));
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
