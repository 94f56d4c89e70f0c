// `events`: the SIEM events stream of one tenant, resumed from the saved cursor; each page written,
// then its `next_cursor` saved. A position older than the API's 24 hours is reported as a data gap.

import type { TenantApi } from '../central/types.js';
import { loadCheckpoint, newCollectResult, type CollectResult, reportGap, reportReset, type EventCollectOptions } from './collector.js';
import { eachCommittedPage, PageCommits } from './paging.js';
import { ItemSerializer, parseTime, SOURCETYPE } from './records.js';
import type { OutRecord } from './sink.js';
import { isSiemCheckpoint, planSiemStart, siemCheckpointAfterPage, type SiemCheckpoint } from './siem-position.js';

export async function collectEvents(api: TenantApi, opts: EventCollectOptions): Promise<CollectResult> {
  const now = opts.now ?? Date.now;
  const tenant = { id: api.tenant.id, name: api.tenant.name };
  const runStart = now();
  const loaded = await loadCheckpoint(opts, isSiemCheckpoint);
  const checkpoint = loaded.value;
  const start = planSiemStart(checkpoint, runStart);
  const result = opts.progress ?? newCollectResult();
  result.checkpointAge = checkpoint && runStart - checkpoint.savedAt;
  let position = checkpoint?.position ?? start.fromDate!;
  if (start.gap) {
    await reportGap(opts, 'events', tenant, start.gap, 'older than the 24 hours the SIEM API serves');
    result.gaps.push(start.gap);
    position = start.gap.end;
  }
  if (loaded.discarded) await reportReset(opts, 'events', tenant, { restartFrom: position }, loaded.discarded);
  if (start.gap || loaded.discarded) {
    const restart: SiemCheckpoint = { v: 1, position, savedAt: now() };
    await opts.store.save(opts.key, restart);
  }

  const serializer = new ItemSerializer(tenant);
  const pages = api.siemEventPages({
    cursor: start.cursor,
    // Whole seconds, rounded down: SIEM_FROM_DATE_WINDOW_MS leaves room for that second and for retries.
    fromDate: start.fromDate === undefined ? undefined : Math.floor(start.fromDate / 1000),
    limit: opts.pageSize,
    excludeTypes: opts.excludeTypes && opts.excludeTypes.length > 0 ? opts.excludeTypes : undefined,
  });
  const commits = new PageCommits(opts.store, opts.key);
  result.end = await eachCommittedPage(commits, pages, now, opts.signal, async (page, requestedAt) => {
    // Heads when the client scanned the page (only the members read here), else the parsed items.
    const heads = page.heads;
    const items: readonly Record<string, unknown>[] = heads ?? page.items;
    const records: OutRecord[] = new Array(items.length);
    let newestCreated: number | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const when = parseTime(item.when);
      const created = parseTime(item.created_at) ?? when;
      if (created !== undefined && !(created <= (newestCreated ?? -Infinity))) newestCreated = created;
      if (when !== undefined && !(when <= (result.newestItem ?? -Infinity))) result.newestItem = when;
      records[i] = {
        time: (when ?? requestedAt) / 1000,
        sourcetype: SOURCETYPE.events,
        data: serializer.serialize(item, page.texts?.[i], heads !== undefined),
        tenantId: tenant.id,
        tenantName: tenant.name,
      };
    }
    if (records.length > 0) await commits.write(opts.sink, records);
    const saved = siemCheckpointAfterPage(
      position,
      { cursor: page.cursor, hasMore: page.hasMore, newestCreated, requestedAt },
      now(),
    );
    commits.save(saved);
    position = saved.position;
    result.pages++;
    result.events += records.length;
  });
  return result;
}
