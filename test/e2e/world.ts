// The emulator and the splunkd stand-in wired together as splunkd on a heavy forwarder would be: the modular
// input runs through bin/sophos_central.sh and reaches the emulator through SOPHOS_CENTRAL_AUTH_URL/API_URL.
// Shared by the end-to-end tests and `npm run demo`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointFileName } from '../../src/checkpoint/file-store.js';
import { checkpointKey, type CheckpointData } from '../../src/checkpoint/keys.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startSplunkd, type RunOptions, type RunResult, type SplunkdStandIn, type StreamEvent } from '../splunkd/index.js';
import { hasOpenssl } from '../splunkd/certs.js';

export type DataType = 'alerts' | 'events' | 'endpoints' | 'tenants';

export const SOURCETYPE: Record<DataType, string> = {
  alerts: 'sophos:central:alerts',
  events: 'sophos:central:events',
  endpoints: 'sophos:central:endpoints',
  tenants: 'sophos:central:tenants',
};
export const HEALTH = 'sophos:central:health';

export interface Collected {
  sourcetype: string;
  event: Record<string, unknown>;
}

export interface World {
  emu: Emulator;
  splunkd: SplunkdStandIn;
  /** Stanza parameters for `data`, with the emulator's credential (the secret in clear, as an admin types it). */
  params(data: DataType, extra?: Record<string, string>): Record<string, string>;
  run(name: string, params?: Record<string, string>, opts?: RunOptions): Promise<RunResult & { records: Collected[] }>;
  stop(): Promise<void>;
}

export async function startWorld(
  emuOpts: Parameters<typeof startEmulator>[0] = {},
  env: NodeJS.ProcessEnv = {},
  splunkdOpts: Parameters<typeof startSplunkd>[0] = {},
): Promise<World> {
  const emu = await startEmulator({ regions: ['eu01', 'us01'], siemStaleFromDate: 'reject', ...emuOpts });
  // HTTPS with a Splunk-like default certificate, as splunkd serves its REST API by default (enableSplunkdSSL).
  const splunkd = await startSplunkd({
    https: hasOpenssl(),
    ...splunkdOpts,
    env: { SOPHOS_CENTRAL_AUTH_URL: emu.authUrl, SOPHOS_CENTRAL_API_URL: emu.apiUrl, ...env },
  });
  return {
    emu,
    splunkd,
    params: (data, extra = {}) => ({ client_id: emu.clientId, client_secret: emu.clientSecret, data, ...extra }),
    async run(name, params, opts) {
      const r = await splunkd.runInput(name, params, opts);
      return { ...r, records: records(r.events) };
    },
    async stop() {
      await splunkd.stop();
      await emu.stop();
    },
  };
}

export function records(events: StreamEvent[]): Collected[] {
  return events.map((e) => ({ sourcetype: e.sourcetype ?? '', event: JSON.parse(e.data) as Record<string, unknown> }));
}

/** The item IDs of one sourcetype, in stream order (repeats kept). */
export function ids(recs: Collected[], sourcetype: string): string[] {
  return recs.filter((r) => r.sourcetype === sourcetype).map((r) => String(r.event.id));
}

export function health(recs: Collected[], type?: string): Array<Record<string, unknown>> {
  return recs.filter((r) => r.sourcetype === HEALTH && (type === undefined || r.event.type === type)).map((r) => r.event);
}

/** The checkpoint input `name` keeps for one tenant's `data`, as its file holds it; undefined while it has none. */
export function checkpointText(w: World, name: string, data: CheckpointData, tenantId: string): string | undefined {
  const file = join(w.splunkd.checkpointDir, checkpointFileName(checkpointKey(`sophos_central://${name}`, data, tenantId)));
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** How many of `later` were already in `earlier`, plus repeats within `later`. */
export function duplicates(earlier: string[], later: string[]): number {
  const seen = new Set(earlier);
  let n = 0;
  for (const id of later) {
    if (seen.has(id)) n++;
    seen.add(id);
  }
  return n;
}

// Small pages, so that every run has several (SIEM pages are 200 at least).
export const PAGE = 50;
export const EVENT_PAGE = 200;
export const REGIONS = ['eu01', 'us01', 'de01'];
export const EMU = { seed: 'e2e', tenants: 4, regions: REGIONS, alertsPerTenant: 150, eventsPerTenant: 500, endpointsPerTenant: 10, clockMode: 'wall' as const };

export const tenantOf = (c: Collected) => (c.event.tenant as { id: string }).id;
