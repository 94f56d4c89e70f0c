// What every per-tenant collector takes and returns. The modular input and the CLI both call them:
// the CLI with its own sinks, and with a MemoryCheckpointStore for one-shot runs without state.

import type { CheckpointStore } from '../checkpoint/types.js';
import type { DataType } from '../config/input-config.js';
import { type CheckpointError, CorruptCheckpointError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PageLoopEnd } from './paging.js';
import { healthRecord, iso, type TenantRef } from './records.js';
import type { EventSink } from './sink.js';

export type { DataType };
/** The data types collected tenant by tenant, with a checkpoint each. */
export type TenantDataType = Exclude<DataType, 'tenants'>;

export interface CollectOptions {
  sink: EventSink;
  store: CheckpointStore;
  /** The checkpoint key of this stanza, data type and tenant (see checkpointKey). */
  key: string;
  /** Names the input in health records (the stanza name, or e.g. `cli` for the CLI). */
  stanza: string;
  logger: Logger;
  /** Clock in epoch ms; tests pass the emulator's clock. Default Date.now. */
  now?: () => number;
  /** Stops the collector at the next page boundary (SIGTERM). */
  signal?: AbortSignal;
  /**
   * The time (epoch ms, by `now`) after which no further page is asked for: the tenant's share of the run
   * (for alerts, counted from the run's first new alert instead: see collectAlerts). The page in hand is
   * written and saved, and the next run goes on from there. Alerts and events only.
   */
  stopAt?: number;
  /**
   * How far this host's clock is ahead of Sophos's (ms; CentralClient.clockSkewMs): times the collectors
   * plan with and save (the alerts window, SIEM positions) are Sophos's, and this host's are moved there
   * by it. Read through clockSkew.
   */
  clockSkewMs?: () => number | undefined;
  /** Sophos's clock now (CentralClient.sophosNow), where a collector must not trust a skew measured earlier. */
  sophosNow?: () => number | undefined;
  pageSize?: number;
  /**
   * Where the collector counts its progress; pass one to read the counts of a run that failed half-way
   * (what was written before the failure stays written). Default: a fresh one, returned.
   */
  progress?: CollectResult;
}

/** The resolution of an HTTP Date header, which the clock skew and a page's serverTime are read from. */
export const DATE_RESOLUTION_MS = 1000;

/** This host's clock minus Sophos's for a collector: 0 until a Date header has measured it. */
export function clockSkew(opts: CollectOptions): number {
  return opts.clockSkewMs?.() ?? 0;
}

export interface AlertCollectOptions extends CollectOptions {
  /** How far back a first run goes, 1 to 90 days. */
  startDays: number;
  /** How far before the high-water mark each run looks again (ms); default ALERT_OVERLAP_MS. */
  overlapMs?: number;
}

export interface EventCollectOptions extends CollectOptions {
  excludeTypes?: string[];
}

export interface DataGap {
  /** Epoch ms: events from here... */
  start: number;
  /** ...to here can no longer be collected. */
  end: number;
}

export interface CollectResult {
  /**
   * 'complete': every page up to now was written; 'aborted': stopped at a page boundary (SIGTERM);
   * 'paused': stopped at `stopAt`, possibly with more to collect.
   */
  end: PageLoopEnd;
  events: number;
  pages: number;
  /** Newest item time written in this run (epoch ms), for the lag in health records. */
  newestItem?: number;
  /** Age of the checkpoint this run started from (ms); undefined on a first run. */
  checkpointAge?: number;
  /** Endpoints: the collection time every event of the snapshot carries (epoch ms). */
  snapshotAt?: number;
  /** Alerts: those the API sent again (the overlap read again) that dedup by ID kept out, as already sent. */
  repeats?: number;
  gaps: DataGap[];
  /**
   * checkpoint_dir failing a collector that reads and saves a checkpoint only to date its work (endpoints):
   * only that date is lost, so it is reported (once per run), not a failure of the tenant or the run; whether
   * the work itself is complete is the tenant's status.
   */
  undated?: CheckpointError;
}

export function newCollectResult(): CollectResult {
  return { end: 'complete', events: 0, pages: 0, gaps: [] };
}

/** The later of two times, either of which may be unknown. */
export function later(a: number | undefined, b: number | undefined): number | undefined {
  return b === undefined || (a !== undefined && a >= b) ? a : b;
}

export interface LoadedCheckpoint<T> {
  value?: T;
  /** Why a saved checkpoint was not used (unreadable and set aside, or of an unknown shape). */
  discarded?: string;
}

/** Reads a checkpoint; one that is unreadable or of the wrong shape counts as none, and says why. */
export async function loadCheckpoint<T>(
  opts: CollectOptions,
  valid: (value: unknown) => value is T,
): Promise<LoadedCheckpoint<T>> {
  let value: unknown;
  try {
    value = await opts.store.load<unknown>(opts.key);
  } catch (err) {
    if (err instanceof CorruptCheckpointError) return { discarded: err.message };
    throw err;
  }
  if (value === undefined) return {};
  if (valid(value)) return { value };
  const aside = await opts.store.setAside(opts.key);
  return { discarded: `checkpoint ${opts.key} has an unknown shape${aside === undefined ? '' : ` and was set aside as ${aside}`}` };
}

/**
 * The savedAt of a save that records a restart (so that its gap or reset is reported once) rather than progress:
 * the previous checkpoint's, so that the age goes on counting from the last page written while the tenant keeps
 * failing; never later than now, since one saved while this host's clock ran ahead is dated in the future.
 */
export function restartSavedAt(previous: { savedAt: number } | undefined, now: number): number {
  return Math.min(previous?.savedAt ?? now, now);
}

/** One health record about a tenant's collection (its `type` and own fields after the common ones), written now. */
async function writeTenantHealth(
  opts: CollectOptions,
  type: string,
  data: TenantDataType,
  tenant: TenantRef,
  fields: Record<string, unknown>,
): Promise<void> {
  const body = { type, stanza: opts.stanza, data, tenant: { id: tenant.id, name: tenant.name }, ...fields };
  await opts.sink.write([healthRecord(body, (opts.now ?? Date.now)(), tenant)]);
}

/**
 * A data gap is written to the sink before anything else moves, so it reaches Splunk (and a CLI user)
 * rather than only a log file: a gap nothing can recover must never pass silently.
 */
export async function reportGap(
  opts: CollectOptions,
  data: TenantDataType,
  tenant: TenantRef,
  gap: DataGap,
  reason: string,
): Promise<void> {
  opts.logger.warn(
    `data gap for ${data} of tenant ${tenant.id}: ${iso(gap.start)} to ${iso(gap.end)} can no longer be collected (${reason})`,
  );
  await writeTenantHealth(opts, 'data_gap', data, tenant, {
    gap_start: iso(gap.start),
    gap_end: iso(gap.end),
    gap_seconds: Math.round((gap.end - gap.start) / 1000),
    reason,
  });
}

/**
 * A checkpoint that could not be used as it stands (unreadable, or its mark in the future) restarts from an
 * earlier point, and the sink is told: the restart may repeat items, and the cause is worth a look on the
 * forwarder. `mark` is the saved mark when there was a readable one.
 */
export async function reportReset(
  opts: CollectOptions,
  data: TenantDataType,
  tenant: TenantRef,
  reset: { mark?: number; restartFrom: number },
  reason: string,
): Promise<void> {
  opts.logger.warn(`${data} of tenant ${tenant.id} restart at ${iso(reset.restartFrom)} and may repeat items: ${reason}`);
  await writeTenantHealth(opts, 'checkpoint_reset', data, tenant, {
    ...(reset.mark === undefined ? {} : { checkpoint_mark: iso(reset.mark) }),
    restart_from: iso(reset.restartFrom),
    reason,
  });
}
