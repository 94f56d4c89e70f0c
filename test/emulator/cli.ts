// `npm run emulator -- [--port N] [--tenants N] [--seed S] [--id-type partner|organization|tenant]
//   [--endpoints N] [--alerts N] [--events N] [--regions eu01,us01] [--token-ttl S] [--latency-ms N] [--malicious-api-host]`
// Prints one JSON line {"authUrl","apiUrl","clientId","clientSecret","idType"} and serves until SIGTERM.
import { startEmulator, type EmulatorOptions, type IdType } from './index.js';

const USAGE = 'usage: npm run emulator -- [--port N] [--tenants N] [--seed S] [--id-type partner|organization|tenant] '
  + '[--endpoints N] [--alerts N] [--events N] [--regions eu01,us01] [--token-ttl SECONDS] [--latency-ms N] [--malicious-api-host]';

function fail(message: string): never {
  process.stderr.write(`emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

export function parseArgs(argv: string[]): EmulatorOptions {
  const opts: EmulatorOptions = { clockMode: 'wall' };
  const int = (flag: string, v: string | undefined, min: number): number => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) fail(`${flag} needs an integer >= ${min}, got ${JSON.stringify(v ?? '')}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--port': opts.port = int(flag, value(), 1); break;
      case '--tenants': opts.tenants = int(flag, value(), 0); break;
      case '--seed': { const v = value(); if (v === undefined) fail('--seed needs a value'); opts.seed = v; break; }
      case '--id-type': {
        const v = value();
        if (v !== 'partner' && v !== 'organization' && v !== 'tenant') fail(`--id-type must be partner, organization or tenant, got ${JSON.stringify(v ?? '')}`);
        opts.idType = v as IdType;
        break;
      }
      case '--endpoints': opts.endpointsPerTenant = int(flag, value(), 0); break;
      case '--alerts': opts.alertsPerTenant = int(flag, value(), 0); break;
      case '--events': opts.eventsPerTenant = int(flag, value(), 0); break;
      case '--token-ttl': opts.tokenTtlSeconds = int(flag, value(), 1); break;
      case '--latency-ms': opts.latencyMs = int(flag, value(), 0); break;
      case '--regions': {
        const v = value();
        if (!v || !/^[a-z]{2}\d{2}(,[a-z]{2}\d{2})*$/.test(v)) fail('--regions needs a comma-separated list such as eu01,us01');
        opts.regions = v.split(',');
        break;
      }
      case '--malicious-api-host': opts.maliciousApiHost = true; break;
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: fail(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const emu = await startEmulator(parseArgs(process.argv.slice(2)));
  const { authUrl, apiUrl, clientId, clientSecret, idType } = emu;
  process.stdout.write(`${JSON.stringify({ authUrl, apiUrl, clientId, clientSecret, idType })}\n`);
  const shutdown = (): void => {
    emu.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
