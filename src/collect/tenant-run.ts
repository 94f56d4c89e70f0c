// One data type for one tenant, with its `tenant_run` health record: the collector's counts, the
// client's request counters for this run, and the error that stopped it, if any. A failure is caught
// here so that one tenant never stops the others (only an unusable checkpoint_dir, which every tenant
// would meet, stops the run); the checkpoint stays at the last page written.

import type { CentralClient, RequestStats, Tenant, TenantApi } from '../central/types.js';
import { CheckpointError, describeError, errorCode } from '../errors.js';
import { collectAlerts } from './alerts.js';
import { newCollectResult, type CollectOptions, type CollectResult, type TenantDataType } from './collector.js';
import { collectEndpoints } from './endpoints.js';
import { collectEvents } from './events.js';
import type { HostBreaker } from './host-breaker.js';
import { healthRecord } from './records.js';
import type { OutRecord } from './sink.js';

export interface TenantRunOptions extends CollectOptions {
  startDays: number;
  overlapMs?: number;
  excludeTypes?: string[];
  /**
   * How long alerts or events of one tenant are collected per run before the tenant pauses until the next
   * run (ms). Endpoint snapshots are never cut short: a partial snapshot would start over every run.
   */
  timeBudgetMs?: number;
  /** The run's record of region hosts that failed tenant after tenant: a tenant on one given up is not tried. */
  hosts?: HostBreaker;
}

/** The counters a `tenant_run` record holds for its tenant and a `run_summary` adds up over tenants. */
export interface HealthCounts {
  events: number;
  pages: number;
  requests: number;
  retries: number;
  rate_limited: number;
  errors: number;
  data_gaps: number;
}

export const HEALTH_COUNTS: readonly (keyof HealthCounts)[] = ['events', 'pages', 'requests', 'retries', 'rate_limited', 'errors', 'data_gaps'];

export function zeroCounts(): HealthCounts {
  return { events: 0, pages: 0, requests: 0, retries: 0, rate_limited: 0, errors: 0, data_gaps: 0 };
}

/** The `tenant_run` health record (field names documented in README "What gets collected"). */
export interface TenantRunHealth extends HealthCounts {
  type: 'tenant_run';
  stanza: string;
  data: TenantDataType;
  tenant: { id: string; name: string };
  status: 'ok' | 'error' | 'aborted';
  /** True when the tenant reached its time budget: the next run goes on from its checkpoint. */
  paused?: boolean;
  error_code?: string;
  error?: string;
  duration_ms: number;
  lag_seconds: number | null;
  checkpoint_age_seconds: number | null;
  /**
   * Endpoints: the `<time>` (epoch seconds) every event of this run's snapshot carries. With `status=ok` the
   * snapshot is complete; a search takes the events of a tenant's latest complete snapshot by it, where a
   * snapshot cut short (an error, SIGTERM) carries one time just the same.
   */
  snapshot_time?: number;
  /** Alerts: those the API sent again (the overlap read again) that dedup by ID kept out, as already sent. */
  duplicates_dropped?: number;
}

export async function collectTenantData(
  api: TenantApi,
  data: TenantDataType,
  opts: TenantRunOptions,
): Promise<CollectResult> {
  switch (data) {
    case 'alerts':
      return collectAlerts(api, opts);
    case 'events':
      return collectEvents(api, opts);
    case 'endpoints':
      return collectEndpoints(api, opts);
  }
}

/** One tenant's outcome: its health record, and the failure that should stop the whole run, if any. */
export interface TenantOutcome {
  health: TenantRunHealth;
  /**
   * `health` as the event to write. The caller counts the tenant first and writes this after: a sink that
   * fails here (a stop while splunkd reads nothing) must not take the tenant out of the run's summary.
   */
  record: OutRecord;
  /** checkpoint_dir itself is unusable (full, read-only, not writable): every other tenant would fail too. */
  fatal?: CheckpointError;
  /** The checkpoint failure of a collector that only dates its work with it (CollectResult.undated). */
  undated?: CheckpointError;
  /** The region host this tenant's failure made the run give up (HostBreaker): the run says so once. */
  hostGivenUp?: string;
}

/**
 * Collects one tenant and makes its health record. A tenant failure (403, repeated 5xx, a refused API
 * host, its own checkpoint file unusable) is reported, never thrown.
 */
export async function runTenant(
  client: CentralClient,
  target: Tenant,
  data: TenantDataType,
  opts: TenantRunOptions,
): Promise<TenantOutcome> {
  const now = opts.now ?? Date.now;
  const started = now();
  const tenant = { id: target.id, name: target.name };
  let api: TenantApi | undefined;
  let before: RequestStats | undefined;
  const health: TenantRunHealth = {
    type: 'tenant_run',
    stanza: opts.stanza,
    data,
    tenant,
    status: 'ok',
    ...zeroCounts(),
    duration_ms: 0,
    lag_seconds: null,
    checkpoint_age_seconds: null,
  };
  const result = newCollectResult();
  let fatal: CheckpointError | undefined;
  let hostGivenUp: string | undefined;
  try {
    const down = opts.hosts?.check(target.apiHost);
    // forTenant refuses an API host outside the host rule: a failure of this tenant only.
    api = down ? notAsked(target, down) : client.forTenant(target);
    before = { ...api.stats };
    const stopAt = opts.timeBudgetMs === undefined || data === 'endpoints' ? undefined : started + opts.timeBudgetMs;
    await collectTenantData(api, data, { ...opts, progress: result, clockSkewMs: () => client.clockSkewMs, sophosNow: () => client.sophosNow(), ...(stopAt === undefined ? {} : { stopAt }) });
    if (result.end === 'aborted') health.status = 'aborted';
    if (result.end === 'paused') health.paused = true;
    opts.hosts?.record(target.apiHost);
  } catch (err) {
    if (opts.signal?.aborted) {
      health.status = 'aborted';
    } else {
      if (opts.hosts?.record(target.apiHost, err)) hostGivenUp = target.apiHost;
      health.status = 'error';
      health.error_code = errorCode(err);
      health.error = describeError(err);
      // The run's own ERROR line names a failing checkpoint directory, once rather than per tenant.
      if (err instanceof CheckpointError && err.scope === 'directory') fatal = err;
      else opts.logger.error(`${data} of tenant ${tenant.id} (${tenant.name}) failed: ${health.error}`);
    }
  }
  const ended = now();
  if (api && before) Object.assign(health, statsSince(before, api.stats));
  health.duration_ms = ended - started;
  health.events = result.events;
  health.pages = result.pages;
  health.data_gaps = result.gaps.length;
  if (result.newestItem !== undefined) health.lag_seconds = Math.max(0, Math.round((ended - result.newestItem) / 1000));
  // A checkpoint dated after now (saved while this host's clock ran ahead, or the clock stepped back since) is
  // as fresh as can be: 0, as lag_seconds, rather than a negative age on the health dashboard.
  if (result.checkpointAge !== undefined) health.checkpoint_age_seconds = Math.max(0, Math.round(result.checkpointAge / 1000));
  if (result.snapshotAt !== undefined) health.snapshot_time = result.snapshotAt / 1000;
  if (result.repeats !== undefined) health.duplicates_dropped = result.repeats;
  // Per-tenant success goes to the log file only (DEBUG): a partner with a thousand tenants would otherwise
  // add a thousand lines to splunkd.log every interval, and the tenant_run health record carries the same.
  if (health.status !== 'error') {
    opts.logger.debug(
      `${data} of tenant ${tenant.id} (${tenant.name}): ${health.status}${health.paused ? ' (paused at its time budget)' : ''}, ${health.events} events in ${health.pages} pages`,
    );
  }
  return {
    health,
    record: healthRecord({ ...health }, ended, tenant),
    ...(fatal ? { fatal } : {}),
    ...(result.undated ? { undated: result.undated } : {}),
    ...(hostGivenUp ? { hostGivenUp } : {}),
  };
}

/**
 * The API of a tenant whose region host the run has given up on: nothing is sent, every request fails with
 * `reason`. Its collector still reads the checkpoint first, so the tenant's record shows how far behind it
 * falls while its region is down (checkpoint_age_seconds), and a gap that has opened is reported.
 */
function notAsked(tenant: Tenant, reason: Error): TenantApi {
  const fail = () => Promise.reject(reason);
  const pages = () => ({ [Symbol.asyncIterator]: () => ({ next: fail }) });
  return {
    tenant,
    stats: { requests: 0, retries: 0, rateLimited: 0, errors: 0 },
    endpointPages: pages,
    alertPages: pages,
    siemEventPages: pages,
    getEndpoint: fail,
    deleteEndpoint: fail,
  };
}

/** The request counters `after` gained since `before`, named as in the health records. */
export function statsSince(before: RequestStats, after: RequestStats): Pick<TenantRunHealth, 'requests' | 'retries' | 'rate_limited' | 'errors'> {
  return {
    requests: after.requests - before.requests,
    retries: after.retries - before.retries,
    rate_limited: after.rateLimited - before.rateLimited,
    errors: after.errors - before.errors,
  };
}
