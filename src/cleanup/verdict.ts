// The clean-up decision for one device: pure, no I/O, so a table of cases tests every rule.
//
// Order of the rules (safety first): what the operator told us not to touch (ledger, open tickets)
// comes first, then the staleness facts, then anything that makes the AD correlation untrustworthy
// (ambiguity, no AD record), then AD's own answer (disabled OU), then the human exceptions (VIP),
// then the consistency check (OS build). Only a device that passes all of them is `delete`.
// Every rule that cannot prove the device is gone yields `manual` or `skip`, never `delete`.
import { centralIdentity, dnWithin, type HostIdentity } from './identity.js';

export type Verdict = 'delete' | 'manual' | 'skip';

/** Machine-readable reason codes (interfaces.md, "Stale-device clean-up"). */
export type ReasonCode =
  | 'already_deleted'
  | 'open_ticket'
  | 'invalid_last_seen'
  | 'below_threshold'
  | 'ambiguous_match'
  | 'not_in_ad'
  | 'not_in_disabled_ou'
  | 'vip'
  | 'os_build_mismatch'
  | 'recently_active'
  | 'disabled_in_ad';

export interface Decision {
  verdict: Verdict;
  code: ReasonCode;
  /** `code`, or `code: details`, as written to the plan and the audit. */
  reason: string;
  daysInactive?: number;
}

/** The fields of a Central endpoint the clean-up reads (sophos-central-api.md §4). */
export interface CentralDevice {
  id: string;
  hostname: string;
  tenantId: string;
  lastSeenAt?: string;
  osName?: string;
  osBuild?: string;
  type?: string;
  personName?: string;
  viaLogin?: string;
}

/** One row of the AD export. */
export interface AdRecord {
  hostname: string;
  domain: string;
  distinguishedName: string;
  os: string;
  osBuild: string;
  /** Optional `owner` (or `managed_by`) column: the person the machine belongs to. */
  owner?: string;
}

/** What the run knows beyond the device itself. */
export interface DecisionPolicy {
  now: number;
  inactiveDays: number;
  /** RDNs that mark a disabled computer, e.g. `OU=Disabled`. */
  disabledOu: string;
  /** Lower-cased VIP names and `DOMAIN\user` logins. */
  vip: ReadonlySet<string>;
  isTicketOpen(device: CentralDevice): string | undefined;
  /** When the ledger says the device was deleted: the time, else undefined. */
  deletedAt(endpointId: string): string | undefined;
}

export interface DeviceFacts {
  device: CentralDevice;
  /** AD records with the same host name and domain. */
  adMatches: readonly AdRecord[];
  /** Other Central devices with the same host name and domain. */
  centralPeers: number;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Days since `lastSeenAt` (`2019-09-23T12:02:01.700Z`), fractional; undefined when not an ISO time. */
export function daysInactive(lastSeenAt: string | undefined, now: number): number | undefined {
  if (!lastSeenAt || !ISO_TIME.test(lastSeenAt)) return undefined;
  const t = Date.parse(lastSeenAt);
  return Number.isNaN(t) ? undefined : (now - t) / 1000 / 86400;
}

function decision(verdict: Verdict, code: ReasonCode, details?: string, days?: number): Decision {
  return { verdict, code, reason: details ? `${code}: ${details}` : code, daysInactive: days };
}

const fmtDays = (d: number) => `${Math.floor(d)} days inactive`;

/** A build number for comparison: `10.0 (19045)` -> `19045`, ` 19045 ` -> `19045`. */
export function normaliseBuild(build: string | undefined): string {
  const text = (build ?? '').trim().toLowerCase();
  const inParens = /\((\d+(?:\.\d+)*)\)/.exec(text);
  return inParens ? inParens[1]! : text;
}

export function isVip(device: CentralDevice, ad: readonly AdRecord[], vip: ReadonlySet<string>): string | undefined {
  const people = [device.personName, device.viaLogin, ...ad.map((r) => r.owner)];
  return people.find((p) => p !== undefined && p.trim() !== '' && vip.has(p.trim().toLowerCase()));
}

export function decide(facts: DeviceFacts, policy: DecisionPolicy): Decision {
  const { device, adMatches } = facts;
  const deletedAt = policy.deletedAt(device.id);
  if (deletedAt) return decision('skip', 'already_deleted', `deleted ${deletedAt}`);
  const ticket = policy.isTicketOpen(device);
  if (ticket) return decision('skip', 'open_ticket', ticket);

  const days = daysInactive(device.lastSeenAt, policy.now);
  if (days === undefined) return decision('manual', 'invalid_last_seen', `lastSeenAt ${JSON.stringify(device.lastSeenAt ?? null)}`);
  if (days < policy.inactiveDays) return decision('skip', 'below_threshold', `${fmtDays(days)} < ${policy.inactiveDays}`, days);

  const identity = centralIdentity(device.hostname, device.viaLogin);
  if (!identity.domain) return decision('manual', 'not_in_ad', 'Central shows no domain (no FQDN, no DOMAIN\\user login)', days);
  if (facts.centralPeers > 0) {
    return decision('manual', 'ambiguous_match', `${facts.centralPeers + 1} Central devices are ${describe(identity)}`, days);
  }
  if (adMatches.length === 0) return decision('manual', 'not_in_ad', `no AD record for ${describe(identity)}`, days);
  if (adMatches.length > 1) return decision('manual', 'ambiguous_match', `${adMatches.length} AD records for ${describe(identity)}`, days);

  const ad = adMatches[0]!;
  if (!dnWithin(ad.distinguishedName, policy.disabledOu)) {
    return decision('skip', 'not_in_disabled_ou', `AD has ${ad.distinguishedName}`, days);
  }
  const vip = isVip(device, adMatches, policy.vip);
  if (vip) return decision('manual', 'vip', vip, days);
  const adBuild = normaliseBuild(ad.osBuild);
  const centralBuild = normaliseBuild(device.osBuild);
  if (adBuild !== centralBuild) {
    return decision('manual', 'os_build_mismatch', `AD ${adBuild || '(none)'} vs Central ${centralBuild || '(none)'}`, days);
  }
  return decision('delete', 'disabled_in_ad', `${fmtDays(days)}; ${ad.distinguishedName}`, days);
}

function describe(id: HostIdentity): string {
  return `${id.host} in ${id.domain}`;
}

/**
 * The live re-check just before a delete. `live` is the endpoint as the API shows it now
 * (undefined: gone). Returns the decision that replaces `delete`, or undefined to go ahead.
 */
export function recheck(
  planned: { lastSeenAt?: string },
  live: { lastSeenAt?: string } | undefined,
  now: number,
  inactiveDays: number,
): Decision | undefined {
  if (!live) return decision('skip', 'already_deleted', 'Central no longer has it');
  const days = daysInactive(live.lastSeenAt, now);
  if (days === undefined) return decision('manual', 'invalid_last_seen', `live lastSeenAt ${JSON.stringify(live.lastSeenAt ?? null)}`);
  if (days < inactiveDays) return decision('manual', 'recently_active', `seen ${live.lastSeenAt}, ${fmtDays(days)}`, days);
  const plannedAt = planned.lastSeenAt ? Date.parse(planned.lastSeenAt) : NaN;
  if (!Number.isNaN(plannedAt) && Date.parse(live.lastSeenAt!) > plannedAt) {
    return decision('manual', 'recently_active', `seen ${live.lastSeenAt} after the plan's ${planned.lastSeenAt}`, days);
  }
  return undefined;
}
