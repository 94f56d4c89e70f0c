// `endpoints`: a full inventory snapshot of one tenant every run (view=full). Every event of one
// snapshot carries the same collection time, which the tenant's `tenant_run` record names (snapshot_time)
// with whether the snapshot is complete, so a search can pick out the latest complete snapshot whole.

import type { TenantApi } from '../central/types.js';
import { CheckpointError } from '../errors.js';
import { later, loadCheckpoint, newCollectResult, type CollectResult, type CollectOptions } from './collector.js';
import { eachPage } from './paging.js';
import { ItemSerializer, parseTime, SOURCETYPE } from './records.js';
import type { OutRecord } from './sink.js';

/** A snapshot has no position to resume from; the checkpoint only dates the last complete one. */
export interface EndpointCheckpoint {
  v: 1;
  savedAt: number;
}

function isEndpointCheckpoint(value: unknown): value is EndpointCheckpoint {
  return !!value && typeof value === 'object' && typeof (value as EndpointCheckpoint).savedAt === 'number';
}

export async function collectEndpoints(api: TenantApi, opts: CollectOptions): Promise<CollectResult> {
  const now = opts.now ?? Date.now;
  const tenant = { id: api.tenant.id, name: api.tenant.name };
  const snapshotAt = now();
  const result = opts.progress ?? newCollectResult();
  result.snapshotAt = snapshotAt;
  // A snapshot repeats nothing and resumes from nothing: a checkpoint that cannot be read, or saved below,
  // only loses its date (checkpoint_age_seconds), so neither stops this tenant or the others.
  const loaded = await undatedOn(result, () => loadCheckpoint(opts, isEndpointCheckpoint));
  const checkpoint = loaded?.value;
  if (loaded?.discarded) opts.logger.warn(loaded.discarded);
  result.checkpointAge = checkpoint && snapshotAt - checkpoint.savedAt;
  const serializer = new ItemSerializer(tenant);
  // The list is live and its page keys are opaque (sophos-central-api.md §4): should a device come on two
  // pages of one snapshot, a second copy would count it twice in the snapshot. Its ID only, not the item.
  const written = new Set<string>();
  const pages = (signal: AbortSignal) => api.endpointPages({ view: 'full', pageSize: opts.pageSize, signal });
  result.end = await eachPage(pages, now, opts.signal, async (page) => {
    const records: OutRecord[] = [];
    let newest: number | undefined;
    for (let i = 0; i < page.items.length; i++) {
      const item = page.items[i]!;
      if (typeof item.id === 'string') {
        if (written.has(item.id)) continue;
        written.add(item.id);
      }
      // Lag for an inventory: how long ago the most recently seen device checked in.
      const seen = parseTime(item.lastSeenAt);
      newest = later(newest, seen);
      records.push({
        time: snapshotAt / 1000,
        sourcetype: SOURCETYPE.endpoints,
        data: serializer.serialize(item, page.texts?.[i]),
        tenantId: tenant.id,
        tenantName: tenant.name,
      });
    }
    if (records.length > 0) await opts.sink.write(records);
    // Only once written: lag_seconds is about what reached Splunk.
    result.newestItem = later(result.newestItem, newest);
    result.pages++;
    result.events += records.length;
  });
  if (result.end === 'complete') {
    const done: EndpointCheckpoint = { v: 1, savedAt: now() };
    await undatedOn(result, () => opts.store.save(opts.key, done));
  }
  return result;
}

/** `step`'s value, or undefined with its CheckpointError kept in `result.undated`; any other failure is thrown. */
async function undatedOn<T>(result: CollectResult, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof CheckpointError)) throw err;
    result.undated ??= err;
    return undefined;
  }
}
