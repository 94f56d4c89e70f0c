// `cleanup apply`: act on a plan. Every `delete` is re-checked live just before it happens, the run
// stops deleting at the cap, deletes are paced, nothing is deleted without `execute`, and a failed
// delete is recorded, raised as a ledger ticket and never retried. Every device gets an audit line.
import type { CentralClient, Endpoint, TenantApi } from '../central/types.js';
import { describeError } from '../errors.js';
import type { Actor, AuditAction, AuditRecord, AuditSink } from './audit.js';
import type { Ledger } from './ledger.js';
import type { PlanDevice } from './plan.js';
import { recheck, type Verdict } from './verdict.js';

export const DEFAULT_MAX_DELETES = 10;
export const DEFAULT_DELAY_MS = 2000;

export interface ApplyOptions {
  /** The client, or a factory called on the first API call (a run with nothing to delete needs none). */
  client: CentralClient | (() => Promise<CentralClient>);
  devices: readonly PlanDevice[];
  inactiveDays: number;
  execute: boolean;
  maxDeletes: number;
  /** Pause between two delete requests. */
  delayMs: number;
  ledger: Ledger;
  audit: AuditSink;
  actor: Actor;
  runId: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ApplySummary {
  deleted: number;
  wouldDelete: number;
  failed: number;
  /** `delete` devices left alone because the cap was reached. */
  capped: number;
  manual: number;
  skipped: number;
  /** `delete` devices whose live re-check failed (not deleted). */
  recheckFailed: number;
  /** One line per failed delete or failed re-check, for the operator. */
  failures: string[];
}

/** The counts of a run as one line, for the CLI and the alert action alike. */
export function describeApplySummary(s: ApplySummary): string {
  return `deleted ${s.deleted}, would delete ${s.wouldDelete}, failed ${s.failed}, re-check failed ${s.recheckFailed}, over the cap ${s.capped}, manual ${s.manual}, skipped ${s.skipped}`;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function applyPlan(opts: ApplyOptions): Promise<ApplySummary> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? defaultSleep;
  const summary: ApplySummary = { deleted: 0, wouldDelete: 0, failed: 0, capped: 0, recheckFailed: 0, manual: 0, skipped: 0, failures: [] };
  const apis = new TenantApis(opts.client);
  let attempts = 0;
  let lastDeleteRequest = false;

  const record = async (d: PlanDevice, verdict: Verdict, reason: string, action: AuditAction, result: string, device?: Endpoint) => {
    if (verdict === 'manual') summary.manual++;
    if (verdict === 'skip') summary.skipped++;
    const line: AuditRecord = {
      time: new Date(now()).toISOString(),
      runId: opts.runId,
      endpointId: d.id,
      hostname: d.hostname,
      tenantId: d.tenantId,
      verdict,
      reason,
      action,
      dryRun: !opts.execute,
      result,
      lastSeenAt: d.lastSeenAt,
      device,
      actor: opts.actor,
    };
    await opts.audit.write(line);
  };

  for (const d of opts.devices) {
    if (d.verdict !== 'delete') {
      await record(d, d.verdict, d.reason, 'none', `no action: ${d.verdict} in the plan`);
      continue;
    }
    // The ledger may have changed since the plan (another run, a failure raised by hand).
    const deletedAt = opts.ledger.deletedAt(d.id);
    if (deletedAt) {
      await record(d, 'skip', `already_deleted: deleted ${deletedAt}`, 'none', 'no action: the ledger shows it deleted');
      continue;
    }
    const ticket = opts.ledger.openTicket(d.id);
    if (ticket) {
      await record(d, 'skip', `open_ticket: ${ticket}`, 'none', 'no action: an open ticket in the ledger');
      continue;
    }
    if (attempts >= opts.maxDeletes) {
      summary.capped++;
      await record(d, 'delete', d.reason, 'none', `not attempted: the per-run cap of ${opts.maxDeletes} deletes is reached`);
      continue;
    }

    let live: Endpoint | undefined;
    try {
      const api = await apis.get(d.tenantId);
      live = await api.getEndpoint(d.id, 'full');
    } catch (err) {
      const why = describeError(err);
      summary.recheckFailed++;
      summary.failures.push(`${d.hostname} (${d.id}, tenant ${d.tenantId}): live re-check failed, not deleted: ${why}`);
      await record(d, 'manual', `recheck_failed: ${why}`, 'none', 'not attempted: the live re-check failed');
      continue;
    }
    const changed = recheck(d, live, now(), opts.inactiveDays);
    if (changed) {
      if (changed.code === 'already_deleted') await opts.ledger.append(ledgerEntry(now, 'deleted', d, 'gone before apply'));
      await record(d, changed.verdict, changed.reason, 'none', 'not attempted: the live re-check changed the verdict', live);
      continue;
    }

    attempts++;
    if (!opts.execute) {
      summary.wouldDelete++;
      await record(d, 'delete', d.reason, 'would_delete', 'dry run: not deleted (add --execute to delete)', live);
      continue;
    }
    if (lastDeleteRequest && opts.delayMs > 0) await sleep(opts.delayMs);
    lastDeleteRequest = true;
    try {
      const api = await apis.get(d.tenantId);
      const answer = await api.deleteEndpoint(d.id);
      if (!answer.deleted) {
        // 404 to the DELETE: gone between the re-check and now, removed by someone else.
        await opts.ledger.append(ledgerEntry(now, 'deleted', d, 'gone before the delete'));
        await record(d, 'skip', 'already_deleted: Central answered 404 to the DELETE', 'none', `not deleted by this run: ${JSON.stringify(answer)}`, live);
        continue;
      }
      summary.deleted++;
      await opts.ledger.append(ledgerEntry(now, 'deleted', d));
      await record(d, 'delete', d.reason, 'deleted', `deleted: ${JSON.stringify(answer)}`, live);
    } catch (err) {
      // Not retried: a DELETE whose answer was lost may have worked; a person checks first.
      const why = describeError(err);
      summary.failed++;
      summary.failures.push(`${d.hostname} (${d.id}, tenant ${d.tenantId}): delete failed, raised for manual action (not retried): ${why}`);
      await opts.ledger.append(ledgerEntry(now, 'ticket_opened', d, `delete_failed: ${why}`));
      await record(d, 'manual', `delete_failed: ${why}`, 'delete_failed', `failed, raised for manual action: ${why}`, live);
    }
  }
  return summary;
}

function ledgerEntry(now: () => number, kind: 'deleted' | 'ticket_opened', d: PlanDevice, reason?: string) {
  return { time: new Date(now()).toISOString(), kind, endpointId: d.id, hostname: d.hostname, tenantId: d.tenantId, reason };
}

/** The credential's tenants by ID, listed once, lazily. */
class TenantApis {
  private tenants?: Promise<Map<string, TenantApi>>;

  constructor(private readonly source: ApplyOptions['client']) {}

  async get(tenantId: string): Promise<TenantApi> {
    this.tenants ??= (async () => {
      const client = typeof this.source === 'function' ? await this.source() : this.source;
      const map = new Map<string, TenantApi>();
      for await (const t of client.tenants()) map.set(t.id, client.forTenant(t));
      return map;
    })();
    const api = (await this.tenants).get(tenantId);
    if (!api) throw new Error(`tenant ${tenantId} is not reachable with this credential`);
    return api;
  }
}
