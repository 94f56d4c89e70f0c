// One run of one input stanza: discover the selected tenants, collect them concurrently within a bound,
// write a `tenant_run` health record per tenant and one `run_summary` for the run.

import type { CentralClient, RequestStats, TenantFilter } from '../central/types.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import type { InputConfig } from '../config/input-config.js';
import { CheckpointError, describeError, errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { checkpointKey } from '../checkpoint/keys.js';
import type { DataType } from './collector.js';
import { HOST_FAILURES_TO_GIVE_UP, HostBreaker } from './host-breaker.js';
import { healthRecord } from './records.js';
import type { EventSink, OutRecord } from './sink.js';
import { collectTenants, type TenantsResult } from './tenants.js';
import { HEALTH_COUNTS, runTenant, statsSince, zeroCounts, type HealthCounts, type TenantRunHealth } from './tenant-run.js';

/** The part of InputConfig a run reads; an InputConfig fits as is. */
export type CollectConfig = Pick<
  InputConfig,
  'data' | 'tenants' | 'excludeTenants' | 'startDays' | 'overlapMinutes' | 'tenantConcurrency' | 'excludeTypes' | 'pageSize' | 'shard' | 'intervalSeconds'
>;

/**
 * How long one tenant's alerts or events are collected per run: the input's interval, at least a minute.
 * A backlog (a first run over 90 days, a day of SIEM events) then goes on over several runs instead of
 * holding back the end of the run, and with it the next collection of every other tenant.
 */
function tenantTimeBudgetMs(intervalSeconds: number | undefined): number | undefined {
  return intervalSeconds === undefined ? undefined : Math.max(intervalSeconds, 60) * 1000;
}

/**
 * Tenants collected at once. The client bounds requests itself (total and per tenant); this bound keeps
 * memory flat, since each tenant in flight holds at most two pages (the one being written and the next).
 */
export const DEFAULT_TENANT_CONCURRENCY = 4;

/** Tenant failures per run that get an ERROR line of their own. */
const TENANT_ERROR_LINES = 5;
/** Tenant warnings (data gaps, checkpoint restarts) per run that get a WARN line of their own. */
const TENANT_WARN_LINES = 5;

/**
 * A forwarder clock this far from Sophos's gets a WARN line and `clock_skew_s` in the run's summary: the
 * lag and checkpoint ages of the health records are off by as much, and the Date header that measures it
 * has whole seconds and a network round trip of noise.
 */
const CLOCK_SKEW_WARN_MS = 2 * 60_000;

export interface RunOptions {
  client: CentralClient;
  config: CollectConfig;
  /** The input stanza name; names checkpoints and health records. */
  stanza: string;
  sink: EventSink;
  store: CheckpointStore;
  logger: Logger;
  now?: () => number;
  signal?: AbortSignal;
  /** Tenants collected at once; default the config's tenantConcurrency, else DEFAULT_TENANT_CONCURRENCY. */
  concurrency?: number;
  /**
   * Tenant warnings (data gaps, checkpoint restarts) logged at WARN per run, the rest at DEBUG; default
   * TENANT_WARN_LINES. The CLI, whose own outputs drop the health records, logs every one.
   */
  tenantWarnLines?: number;
  /** The stanza's fields still holding a secret in clear in inputs.conf, for the summary (`secrets_in_clear`). */
  secretsInClear?: string[];
  /** Requests to Sophos Central before this run's client was made (the check of a newly typed secret): counted in the summary too. */
  priorRequests?: RequestStats;
}

/** The `run_summary` health record (field names documented in README "What gets collected"). */
export interface RunSummary extends HealthCounts {
  type: 'run_summary';
  stanza: string;
  /** The stanza's `data`: as given when the run failed at its validation (failedRunRecord). */
  data: DataType | (string & {});
  /**
   * ok: every tenant ok; partial: some failed, or the tenant list broke off after others were collected;
   * error: none collected (all failed, none could be listed), or checkpoint_dir stopped the run (runStatus);
   * aborted: SIGTERM; skipped: another run of the stanza was still collecting (skippedRunRecord).
   */
  status: 'ok' | 'partial' | 'error' | 'aborted' | 'skipped';
  tenants: number;
  tenants_ok: number;
  tenants_failed: number;
  tenants_aborted: number;
  /** Tenants that reached their time budget with possibly more to collect (tenantTimeBudgetMs). */
  tenants_paused: number;
  duration_ms: number;
  error_code?: string;
  error?: string;
  /** This host's clock minus Sophos's, in seconds, when CLOCK_SKEW_WARN_MS or more apart. */
  clock_skew_s?: number;
  /** Why a `skipped` run collected nothing. */
  reason?: string;
  /**
   * `tenants`: the `_time` (epoch seconds) of every tenant event this run wrote, a snapshot complete when
   * `status=ok`, like an endpoints tenant_run's snapshot_time.
   */
  snapshot_time?: number;
  /** Alerts: the tenants' duplicates_dropped, summed. */
  duplicates_dropped?: number;
  /** Entries of the `tenants` setting that named no tenant of the credential (TenantFilter.onUnmatched). */
  tenants_unmatched?: string[];
  /** Fields of the stanza that still hold a secret in clear in inputs.conf (RunOptions.secretsInClear). */
  secrets_in_clear?: string[];
  /** Per-tenant records of this run (not part of the health event). */
  results: TenantRunHealth[];
  /** The failure that ended the run early, whatever its status (not part of the health event). */
  failure?: unknown;
}

/**
 * Runs one stanza. Failures are reported, not thrown: a failing tenant in its `tenant_run` record, and one
 * that ends the run early (no tenant could be listed, the list broke off, checkpoint_dir failed) in its status,
 * logged once and returned in `failure` for a caller that maps errors to exit codes.
 */
export async function runCollection(opts: RunOptions): Promise<RunSummary> {
  const now = opts.now ?? Date.now;
  const started = now();
  const { config } = opts;
  const summary = newRunSummary(opts.stanza, config.data);
  if (opts.secretsInClear?.length) summary.secrets_in_clear = opts.secretsInClear;
  let ownTenantId: string | undefined;
  const filter: TenantFilter = {
    include: config.tenants,
    exclude: config.excludeTenants,
    shard: config.shard,
    onUnmatched: (entries, own) => {
      summary.tenants_unmatched = entries;
      ownTenantId = own;
    },
  };
  const timeBudgetMs = tenantTimeBudgetMs(config.intervalSeconds);
  // Token, whoami and tenant-list requests belong to no tenant: the summary counts them too.
  const globalBefore = { ...opts.client.stats };
  // A partner with hundreds of denied tenants would write hundreds of ERROR lines every run, and as many
  // data-gap WARN lines every run once their positions age past 24 hours: the first few get their own line,
  // a count says how many more there were, and every one has its health record.
  let tenantErrors = 0;
  let tenantWarnings = 0;
  const warnLines = opts.tenantWarnLines ?? TENANT_WARN_LINES;
  const tenantLogger: Logger = {
    ...opts.logger,
    error: (message) => {
      if (++tenantErrors <= TENANT_ERROR_LINES) opts.logger.error(message);
    },
    warn: (message) => {
      if (++tenantWarnings <= warnLines) opts.logger.warn(message);
      else opts.logger.debug(message);
    },
  };
  let failure: unknown;
  let undated: { first: unknown; tenants: number } | undefined;
  try {
    if (config.data === 'tenants') {
      const listed: TenantsResult = { events: 0, pages: 0 };
      try {
        await collectTenants(opts.client, { sink: opts.sink, filter, pageSize: config.pageSize, now, signal: opts.signal, progress: listed });
      } finally {
        summary.tenants = listed.events;
        summary.tenants_ok = listed.events;
        summary.events = listed.events;
        summary.pages = listed.pages;
        if (listed.snapshotTime !== undefined) summary.snapshot_time = listed.snapshotTime;
      }
    } else {
      const data = config.data;
      // Alerts and events resume from their checkpoints: a run whose pages cannot be saved would send them
      // again next run, so it stops here, before writing anything. A snapshot resumes from nothing.
      if (data !== 'endpoints' && opts.store.probe) {
        // The token and whoami every run starts with go out meanwhile: a few milliseconds of every run. Should the
        // directory fail, closing the client cuts them short, and nothing was written.
        const identity = opts.client.whoami();
        identity.catch(() => undefined);
        await opts.store.probe();
        // Its failure is the run's here, as it would be from the tenant list, which would otherwise ask again.
        await identity;
      }
      const hosts = new HostBreaker();
      await forEachConcurrent(readAhead(opts.client.tenants(filter)), opts.concurrency ?? config.tenantConcurrency ?? DEFAULT_TENANT_CONCURRENCY, async (tenant) => {
        if (opts.signal?.aborted) return;
        const { health, record, fatal, undated: unsaved, hostGivenUp } = await runTenant(opts.client, tenant, data, {
          sink: opts.sink,
          store: opts.store,
          key: checkpointKey(opts.stanza, data, tenant.id),
          stanza: opts.stanza,
          logger: tenantLogger,
          now,
          signal: opts.signal,
          pageSize: config.pageSize,
          startDays: config.startDays,
          ...(config.overlapMinutes === undefined ? {} : { overlapMs: config.overlapMinutes * 60_000 }),
          ...(timeBudgetMs === undefined ? {} : { timeBudgetMs }),
          excludeTypes: config.excludeTypes,
          hosts,
        });
        addTenant(summary, health);
        if (hostGivenUp) {
          opts.logger.warn(
            `giving up ${hostGivenUp} for the rest of this run: ${HOST_FAILURES_TO_GIVE_UP} tenants in a row failed there; ` +
              `its other tenants are not tried (TA_ERR_HOST_DOWN) and are collected next run`,
          );
        }
        if (unsaved) {
          undated ??= { first: unsaved, tenants: 0 };
          undated.tenants++;
        }
        await opts.sink.write([record]);
        if (fatal) throw fatal;
      });
    }
  } catch (err) {
    failure = err;
    summary.error_code = errorCode(err);
    summary.error = describeError(err);
  }
  addRequests(summary, opts.client.stats, globalBefore);
  if (opts.priorRequests) addRequests(summary, opts.priorRequests);
  summary.status = runStatus(summary, failure, opts.signal?.aborted === true);
  if (summary.tenants_unmatched) {
    const hint = ownTenantId
      ? `: this tenant credential's one tenant has no name in the API, so name it by its ID, ${ownTenantId}`
      : ': check their spelling against the tenant names and IDs of the sophos:central:tenants events';
    const entries = summary.tenants_unmatched.map((e) => JSON.stringify(e)).join(', ');
    opts.logger.warn(`stanza ${opts.stanza}: tenants lists ${entries}, but no tenant of this credential has that name or ID${hint}`);
  } else if (summary.tenants === 0 && failure === undefined && !opts.signal?.aborted) {
    opts.logger.warn(`stanza ${opts.stanza}: no tenant matched the tenants, exclude_tenants and shard settings`);
  }
  if (undated) {
    opts.logger.warn(
      `stanza ${opts.stanza}: checkpoint_dir could not date the endpoint snapshots of ${undated.tenants} tenants (${describeError(undated.first)}); ` +
        'the snapshots are sent regardless, but their checkpoint_age_seconds stays null until that is fixed',
    );
  }
  const skew = opts.client.clockSkewMs;
  if (skew !== undefined && Math.abs(skew) >= CLOCK_SKEW_WARN_MS) {
    summary.clock_skew_s = Math.round(skew / 1000);
    opts.logger.warn(
      `stanza ${opts.stanza}: this host's clock is ${Math.round(Math.abs(skew) / 60_000)} minutes ${skew > 0 ? 'ahead of' : 'behind'} Sophos Central's ` +
        `(the Date of its answers); collection allows for it, but the lag and checkpoint ages in the health records are off by as much: synchronise the clock (NTP)`,
    );
  }
  if (tenantWarnings > warnLines) {
    opts.logger.warn(
      `stanza ${opts.stanza}: ${tenantWarnings - warnLines} more tenant warnings (data gaps, checkpoint restarts) this run, logged at DEBUG only; ` +
        'for alerts and events each has its data_gap or checkpoint_reset health record',
    );
  }
  const ended = now();
  summary.duration_ms = ended - started;
  let line = `stanza ${opts.stanza} ${config.data}: ${summary.status}, ${summary.tenants_ok}/${summary.tenants} tenants ok, ${summary.events} events`;
  if (summary.tenants_paused > 0) {
    line += `; ${summary.tenants_paused} tenants paused at their time budget (the interval, ${Math.round(timeBudgetMs! / 1000)} s) and go on next run`;
  }
  if (tenantErrors > TENANT_ERROR_LINES) {
    line += `; ${tenantErrors - TENANT_ERROR_LINES} more tenant failures not logged one by one (all failures: ${failureCodes(summary.results)}; see the tenant_run health records)`;
  }
  // A stop (SIGTERM) that cut a request short is no error.
  if (failure !== undefined && summary.status !== 'aborted') opts.logger.error(`${line}: ${summary.error}`);
  else opts.logger.info(failure === undefined ? line : `${line}: ${summary.error}`);
  await opts.sink.write([runSummaryRecord(summary, ended)]);
  if (failure !== undefined) summary.failure = failure;
  return summary;
}

function newRunSummary(stanza: string, data: RunSummary['data']): RunSummary {
  return {
    type: 'run_summary',
    stanza,
    data,
    status: 'ok',
    tenants: 0,
    tenants_ok: 0,
    tenants_failed: 0,
    tenants_aborted: 0,
    tenants_paused: 0,
    ...zeroCounts(),
    ...(data === 'alerts' ? { duplicates_dropped: 0 } : {}),
    duration_ms: 0,
    results: [],
  };
}

/** The health event of a summary, at `at` (epoch ms). */
function runSummaryRecord(summary: RunSummary, at: number): OutRecord {
  const record: Record<string, unknown> = { ...summary };
  delete record.results;
  delete record.failure;
  return healthRecord(record, at);
}

/**
 * The `run_summary` of a run that failed before it could collect anything (a stanza that fails validation,
 * the secret could not be read, splunkd's REST API refused or failed): dashboards and alerts on the health
 * records see the failure, not a silence.
 */
export function failedRunRecord(stanza: string, data: RunSummary['data'], err: unknown, durationMs: number, at: number, priorRequests?: RequestStats): OutRecord {
  const summary: RunSummary = { ...newRunSummary(stanza, data), status: 'error', error_code: errorCode(err), error: describeError(err), duration_ms: durationMs };
  if (priorRequests) addRequests(summary, priorRequests);
  return runSummaryRecord(summary, at);
}

/** The `run_summary` of a run that left collecting to another run of its stanza still at it (run-lock.ts). */
export function skippedRunRecord(
  stanza: string,
  data: RunSummary['data'],
  reason: string,
  durationMs: number,
  at: number,
  { secretsInClear, priorRequests }: Pick<RunOptions, 'secretsInClear' | 'priorRequests'> = {},
): OutRecord {
  const summary: RunSummary = { ...newRunSummary(stanza, data), status: 'skipped', reason, duration_ms: durationMs };
  if (secretsInClear) summary.secrets_in_clear = secretsInClear;
  if (priorRequests) addRequests(summary, priorRequests);
  return runSummaryRecord(summary, at);
}

const NO_REQUESTS: RequestStats = Object.freeze({ requests: 0, retries: 0, rateLimited: 0, errors: 0 });

/** Counts in the summary the requests that belong to no tenant, made since `before`. */
function addRequests(summary: RunSummary, stats: RequestStats, before: RequestStats = NO_REQUESTS): void {
  const counts = statsSince(before, stats);
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) summary[k] += counts[k];
}

/** `TA_ERR_FORBIDDEN: 180, TA_ERR_SERVER: 2`: the failed tenants' error codes, most frequent first. */
function failureCodes(results: readonly TenantRunHealth[]): string {
  const counts = new Map<string, number>();
  for (const r of results) if (r.status === 'error') counts.set(r.error_code!, (counts.get(r.error_code!) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code}: ${n}`).join(', ');
}

function addTenant(summary: RunSummary, health: TenantRunHealth): void {
  summary.results.push(health);
  summary.tenants++;
  if (health.status === 'ok') summary.tenants_ok++;
  else if (health.status === 'error') summary.tenants_failed++;
  else summary.tenants_aborted++;
  if (health.paused) summary.tenants_paused++;
  for (const k of HEALTH_COUNTS) summary[k] += health[k];
  if (health.duplicates_dropped !== undefined) summary.duplicates_dropped = (summary.duplicates_dropped ?? 0) + health.duplicates_dropped;
}

/**
 * A run whose tenant list broke off is `partial` when tenants were collected before, like one with failed
 * tenants: what it did collect is not an error. One that checkpoint_dir stopped is `error` whatever it
 * collected before: every later run stops the same way until an admin fixes the directory.
 */
function runStatus(summary: RunSummary, failure: unknown, aborted: boolean): RunSummary['status'] {
  if (aborted) return 'aborted';
  if (failure instanceof CheckpointError) return 'error';
  if (failure === undefined && summary.tenants_failed === 0) return 'ok';
  return summary.tenants_ok === 0 ? 'error' : 'partial';
}

/**
 * Reads `source` to its end as fast as it yields, holding what the consumer has not taken yet.
 *
 * The tenant list is paged by number, a position that moves when the partner adds or removes a tenant.
 * Read only as collection slots free up, it spans the whole run, and a removal at minute ten shifts a
 * tenant onto a page already read: skipped for that run. Read ahead, that window is the seconds the list
 * takes. A tenant held is about a kilobyte, so even thousands cost a few MB. A failure of the source
 * is rethrown once every item read before it has been taken.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const queue: (T | undefined)[] = [];
  let taken = 0;
  let ended = false;
  let stopped = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const item of source) {
        if (stopped) break;
        queue.push(item);
        wake?.();
      }
    } catch (err) {
      failure = { err };
    } finally {
      ended = true;
      wake?.();
    }
  })();
  try {
    for (;;) {
      if (taken < queue.length) {
        const item = queue[taken] as T;
        queue[taken++] = undefined;
        yield item;
      } else if (ended) {
        break;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    if (failure) throw failure.err;
  } finally {
    // A consumer that stops early (a fatal tenant failure) ends the read at the next tenant, without waiting
    // for a list page still on its way: the pump's failures are its own, caught above.
    stopped = true;
  }
}

/**
 * Runs `fn` for each item of a (possibly paged) source with at most `limit` at once, starting each as
 * soon as it is listed. When `fn` throws, no further item starts; the running ones end, then the first
 * failure (of `fn` or of the source) is rethrown.
 */
async function forEachConcurrent<T>(
  source: AsyncIterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const running = new Set<Promise<void>>();
  // Caught as it happens: a task that fails while nothing awaits it must not be an unhandled rejection.
  let failed: { err: unknown } | undefined;
  try {
    for await (const item of source) {
      if (failed) break;
      const task: Promise<void> = fn(item)
        .catch((err: unknown) => {
          failed ??= { err };
        })
        .finally(() => running.delete(task));
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
    }
  } finally {
    await Promise.all(running);
  }
  if (failed) throw failed.err;
}
