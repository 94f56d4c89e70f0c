// `cleanup plan`: gather stale endpoints from every tenant, correlate them with AD, decide, and
// write the plan file (interfaces.md). The API is read only here; nothing is changed.
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CentralClient, Endpoint, Tenant } from '../central/types.js';
import { CleanupError } from '../errors.js';
import { AdIndex, PeerIndex } from './correlate.js';
import type { OpenTickets } from './inputs.js';
import type { Ledger } from './ledger.js';
import { decide, type AdRecord, type CentralDevice, type DecisionPolicy, type Verdict } from './verdict.js';

/** The OU that marks a disabled computer in AD when none is given (--disabled-ou, param.disabled_ou). */
export const DEFAULT_DISABLED_OU = 'OU=Disabled';

/** The endpoint fields the clean-up asks for (partial response keeps pages small). */
export const ENDPOINT_FIELDS = ['hostname', 'id', 'lastSeenAt', 'os', 'type', 'associatedPerson', 'tenant'];

export interface PlanDevice {
  id: string;
  hostname: string;
  tenantId: string;
  lastSeenAt?: string;
  verdict: Verdict;
  reason: string;
  tenantName?: string;
  osName?: string;
  osBuild?: string;
  person?: string;
}

export interface Plan {
  createdAt: string;
  inactiveDays: number;
  disabledOu?: string;
  devices: PlanDevice[];
}

/** The ISO-8601 duration Central takes for "N days ago" (`-P90D`). */
export function lastSeenDuration(days: number): string {
  return `-P${days}D`;
}

/** The clean-up's view of an API endpoint item. */
export function deviceFromEndpoint(e: Endpoint, tenantId: string): CentralDevice {
  const os = (e.os ?? {}) as { name?: unknown; build?: unknown };
  const person = (e.associatedPerson ?? {}) as { name?: unknown; viaLogin?: unknown };
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  return {
    id: e.id,
    hostname: e.hostname ?? '',
    tenantId: e.tenant?.id ?? tenantId,
    lastSeenAt: e.lastSeenAt,
    osName: str(os.name),
    osBuild: str(os.build),
    type: str(e.type),
    personName: str(person.name),
    viaLogin: str(person.viaLogin),
  };
}

export interface PlanInputs {
  client: CentralClient;
  inactiveDays: number;
  ad: readonly AdRecord[];
  disabledOu: string;
  vip: ReadonlySet<string>;
  tickets: OpenTickets;
  ledger: Ledger;
  now: number;
}

export async function buildPlan(inp: PlanInputs): Promise<Plan> {
  const stale: Array<{ device: CentralDevice; tenant: Tenant }> = [];
  const peers = new PeerIndex();
  for await (const tenant of inp.client.tenants()) {
    const api = inp.client.forTenant(tenant);
    for await (const page of api.endpointPages({ lastSeenBefore: lastSeenDuration(inp.inactiveDays), fields: ENDPOINT_FIELDS })) {
      for (const e of page.items) {
        const device = deviceFromEndpoint(e, tenant.id);
        stale.push({ device, tenant });
        peers.add(device);
      }
    }
    // The complement (seen within N days), host name and login only: a live device with the same
    // name and domain makes a stale one ambiguous (a reinstall, or two machines with one name).
    for await (const page of api.endpointPages({ lastSeenAfter: lastSeenDuration(inp.inactiveDays), fields: ['hostname', 'id', 'associatedPerson'] })) {
      for (const e of page.items) peers.add(deviceFromEndpoint(e, tenant.id));
    }
  }
  return decidePlan(stale, peers, inp);
}

/** Decides every gathered device; split out so the alert action and tests share it. */
export function decidePlan(
  stale: ReadonlyArray<{ device: CentralDevice; tenant?: Pick<Tenant, 'name'> }>,
  peers: PeerIndex,
  inp: Pick<PlanInputs, 'inactiveDays' | 'ad' | 'disabledOu' | 'vip' | 'tickets' | 'ledger' | 'now'>,
): Plan {
  const adIndex = new AdIndex(inp.ad);
  const policy = planPolicy(inp);
  const devices = stale.map(({ device, tenant }) => {
    const d = decide({ device, adMatches: adIndex.matches(device), centralPeers: peers.peers(device) }, policy);
    return planDevice(device, d.verdict, d.reason, tenant?.name);
  });
  return { createdAt: new Date(inp.now).toISOString(), inactiveDays: inp.inactiveDays, disabledOu: inp.disabledOu, devices };
}

export function planPolicy(inp: Pick<PlanInputs, 'inactiveDays' | 'disabledOu' | 'vip' | 'tickets' | 'ledger' | 'now'>): DecisionPolicy {
  return {
    now: inp.now,
    inactiveDays: inp.inactiveDays,
    disabledOu: inp.disabledOu,
    vip: inp.vip,
    isTicketOpen: (d) => inp.ledger.openTicket(d.id) ?? inp.tickets.find(d),
    deletedAt: (id) => inp.ledger.deletedAt(id),
  };
}

export function planDevice(device: CentralDevice, verdict: Verdict, reason: string, tenantName?: string): PlanDevice {
  return {
    id: device.id,
    hostname: device.hostname,
    tenantId: device.tenantId,
    lastSeenAt: device.lastSeenAt,
    verdict,
    reason,
    tenantName,
    osName: device.osName,
    osBuild: device.osBuild,
    person: device.personName ?? device.viaLogin,
  };
}

/** Writes the plan atomically (temp file + rename), so a crash never leaves half a plan. */
export async function writePlan(path: string, plan: Plan): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(plan, null, 2)}\n`, 'utf8');
  await rename(tmp, path);
}

const VERDICTS: readonly string[] = ['delete', 'manual', 'skip'];

/** Reads and checks a plan; refuses one older than `maxAgeMs` or dated in the future. */
export async function readPlan(path: string, now: number, maxAgeMs: number): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CleanupError(`cannot read the plan ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let plan: Plan;
  try {
    plan = JSON.parse(text) as Plan;
  } catch {
    throw new CleanupError(`the plan ${path} is not JSON; run "sophos-central cleanup plan" again`);
  }
  const created = typeof plan?.createdAt === 'string' ? Date.parse(plan.createdAt) : NaN;
  if (Number.isNaN(created) || typeof plan.inactiveDays !== 'number' || !Array.isArray(plan.devices)) {
    throw new CleanupError(`the plan ${path} lacks "createdAt", "inactiveDays" or "devices"; run "sophos-central cleanup plan" again`);
  }
  plan.devices.forEach((d, i) => {
    if (typeof d?.id !== 'string' || typeof d.tenantId !== 'string' || !VERDICTS.includes(d.verdict)) {
      throw new CleanupError(`the plan ${path}: device ${i + 1} lacks "id", "tenantId" or a valid "verdict"`);
    }
  });
  const ageMs = now - created;
  if (ageMs > maxAgeMs) {
    throw new CleanupError(
      `the plan ${path} is stale: created ${plan.createdAt}, ${(ageMs / 3_600_000).toFixed(1)} h ago, over the ${maxAgeMs / 3_600_000} h limit; run "sophos-central cleanup plan" again`,
    );
  }
  if (ageMs < -5 * 60_000) throw new CleanupError(`the plan ${path} is dated in the future (${plan.createdAt}); check this machine's clock`);
  return plan;
}
