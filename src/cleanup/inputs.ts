// The operator's files: the AD export, the VIP list and the open-ticket list (interfaces.md,
// "Stale-device clean-up"). Parsing is pure; `readInputFile` is the one place that touches disk.
import { readFile } from 'node:fs/promises';
import { CleanupError } from '../errors.js';
import { parseCsvTable } from './csv.js';
import { splitHostname } from './identity.js';
import type { AdRecord, CentralDevice } from './verdict.js';

export const AD_COLUMNS = ['hostname', 'domain', 'distinguished_name', 'os', 'os_build'] as const;

/** Reads a whole input file, turning fs errors into one actionable line. */
export async function readInputFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new CleanupError(`cannot read the ${what} ${path}: ${why}`, { cause: err });
  }
}

/** AD CSV: a header with at least hostname,domain,distinguished_name,os,os_build, any order. */
export function parseAdCsv(text: string, source: string): AdRecord[] {
  const { records } = parseCsvTable(text, source, AD_COLUMNS);
  return records
    .filter((r) => (r.hostname ?? '').trim() !== '')
    .map((r) => ({
      hostname: r.hostname!.trim(),
      domain: (r.domain ?? '').trim(),
      distinguishedName: (r.distinguished_name ?? '').trim(),
      os: (r.os ?? '').trim(),
      osBuild: (r.os_build ?? '').trim(),
      owner: (r.owner ?? r.managed_by ?? '').trim() || undefined,
    }));
}

/** One person per line, a name or `DOMAIN\user`; blank lines and `#` comments are ignored. */
export function parseVipList(text: string): Set<string> {
  const vip = new Set<string>();
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const entry = line.trim();
    if (entry && !entry.startsWith('#')) vip.add(entry.toLowerCase());
  }
  return vip;
}

/** Open tickets, matched by endpoint ID or by short host name (so an FQDN ticket still matches). */
export class OpenTickets {
  constructor(
    private readonly hostnames: ReadonlySet<string> = new Set(),
    private readonly endpointIds: ReadonlySet<string> = new Set(),
  ) {}

  find(device: Pick<CentralDevice, 'id' | 'hostname'>): string | undefined {
    if (this.endpointIds.has(device.id.toLowerCase())) return `ticket for endpoint ${device.id}`;
    const host = splitHostname(device.hostname).host;
    if (host && this.hostnames.has(host)) return `ticket for host ${host}`;
    return undefined;
  }
}

/** Tickets CSV: a header with a `hostname` or an `endpoint_id` column (or both); each row is open. */
export function parseTickets(text: string, source: string): OpenTickets {
  const { header, records } = parseCsvTable(text, source);
  const keys = header.map((h) => h.toLowerCase());
  if (!keys.includes('hostname') && !keys.includes('endpoint_id')) {
    throw new CleanupError(`${source}: missing column "hostname" or "endpoint_id"; the header row has ${header.join(',')}`);
  }
  const hostnames = new Set<string>();
  const ids = new Set<string>();
  for (const r of records) {
    const host = splitHostname(r.hostname ?? '').host;
    if (host) hostnames.add(host);
    const id = (r.endpoint_id ?? '').trim().toLowerCase();
    if (id) ids.add(id);
  }
  return new OpenTickets(hostnames, ids);
}
