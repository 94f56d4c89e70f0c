// `alerts`: the Common alerts API of one tenant, oldest first, from the high-water mark minus the
// overlap to a minute before the run started; each page written, then its checkpoint saved.

import type { TenantApi } from '../central/types.js';
import {
  acceptAlertPage,
  alertCheckpoint,
  alertStateFrom,
  completeAlertWindow,
  isAlertCheckpoint,
  planAlertWindow,
  type PageAlert,
} from './alert-window.js';
import { clockSkew, DATE_RESOLUTION_MS, later, loadCheckpoint, newCollectResult, type CollectResult, reportGap, reportReset, restartSavedAt, type AlertCollectOptions } from './collector.js';
import { eachCommittedPage, PageCommits } from './paging.js';
import { iso, ItemSerializer, parseTime, SOURCETYPE } from './records.js';
import type { OutRecord } from './sink.js';

export async function collectAlerts(api: TenantApi, opts: AlertCollectOptions): Promise<CollectResult> {
  const now = opts.now ?? Date.now;
  const tenant = { id: api.tenant.id, name: api.tenant.name };
  const runStart = now();
  const loaded = await loadCheckpoint(opts, isAlertCheckpoint);
  const checkpoint = loaded.value;
  // The window is on Sophos's clock, as raisedAt and the mark are: this host's time is moved there by the skew
  // measured from the Date of the API's answers, so a forwarder clock behind does not hold back the newest
  // alerts, nor one ahead ask for alerts not raised yet. That skew is an upper bound (the Date is rounded down
  // to the second, and the answer took time to arrive), which errs early: right for where the window starts,
  // but it put `to` up to a second early, and an alert raised just over a minute before the run came a run
  // late. `to` a second later errs the other way, where dedup by ID keeps a repeat out and the mark stays
  // capped by the last page's Date (completeAlertWindow).
  const planned = planAlertWindow(checkpoint, runStart - clockSkew(opts), opts.startDays, opts.overlapMs);
  const window = { ...planned, to: planned.to + DATE_RESOLUTION_MS };
  const state = alertStateFrom(checkpoint, window);
  const result = opts.progress ?? newCollectResult();
  result.repeats ??= 0;
  result.checkpointAge = checkpoint && runStart - checkpoint.savedAt;
  if (window.gap) {
    await reportGap(opts, 'alerts', tenant, window.gap, 'older than the 90 days Sophos Central keeps alerts');
    result.gaps.push(window.gap);
  }
  if (loaded.discarded) await reportReset(opts, 'alerts', tenant, { restartFrom: window.from }, loaded.discarded);
  if (window.reset) {
    const reason = "the saved mark lies after this run's window: saved while this host's clock ran ahead (by an earlier release)";
    await reportReset(opts, 'alerts', tenant, { mark: window.reset.mark, restartFrom: window.from }, reason);
  }
  if (window.gap || window.reset || loaded.discarded) await opts.store.save(opts.key, alertCheckpoint(state, restartSavedAt(checkpoint, now())));

  const serializer = new ItemSerializer(tenant);
  const pages = (signal: AbortSignal) => api.alertPages({ from: iso(window.from), to: iso(window.to), pageSize: opts.pageSize, signal });
  const commits = new PageCommits(opts.store, opts.key);
  /** When this run first sent a new alert (by `now`). */
  let progressSince: number | undefined;
  let budgetRestarted = false;
  result.end = await eachCommittedPage(commits, pages, now, opts.signal, async (page) => {
    // Heads when the client scanned the page (only the members read here), else the parsed items.
    const heads = page.heads;
    const items: readonly Record<string, unknown>[] = heads ?? page.items;
    const refs: PageAlert[] = items.map((a) => ({ id: typeof a.id === 'string' && a.id !== '' ? a.id : undefined, raisedAt: parseTime(a.raisedAt) }));
    const { hwm, unordered } = state;
    const emit = acceptAlertPage(state, refs, window);
    if (state.unordered && !unordered) {
      opts.logger.warn(
        `alerts of tenant ${tenant.id} came newest first or out of order, not oldest first as asked (sort=raisedAt:asc): ` +
          "the checkpoint keeps this run's starting mark and every alert ID read until the window is read to its end, so a run stopped before then reads it again and loses nothing",
      );
    }
    const records: OutRecord[] = new Array(emit.length);
    let newest: number | undefined;
    for (let n = 0; n < emit.length; n++) {
      const i = emit[n]!;
      const raisedAt = refs[i]!.raisedAt;
      newest = later(newest, raisedAt);
      records[n] = {
        time: (raisedAt ?? runStart) / 1000,
        sourcetype: SOURCETYPE.alerts,
        data: serializer.serialize(items[i]!, page.texts?.[i], heads !== undefined),
        tenantId: tenant.id,
        tenantName: tenant.name,
      };
    }
    if (records.length > 0) {
      progressSince ??= now();
      await commits.write(opts.sink, records);
      // Only once written: lag_seconds is about what reached Splunk.
      result.newestItem = later(result.newestItem, newest);
    } else if (state.unordered && !budgetRestarted && progressSince !== undefined) {
      // Out of order, pages already sent may follow new ones (newest first: the alerts raised since the last
      // run come first): the budget counts again from the next new alert, or the re-read would spend it. Once
      // only, so that the budget still bounds a run whose sent and new pages alternate.
      progressSince = undefined;
      budgetRestarted = true;
    }
    // The last page completes the window in the same save: an idle tenant costs one save per run, not two.
    if (page.nextKey === undefined) completeAlertWindow(state, window, page.serverTime);
    // A page that sent nothing and left the mark where it was (the overlap read again) would save the same
    // checkpoint: with a storm of alerts inside the overlap, every ID of it once per page, run after run.
    if (emit.length > 0 || state.hwm !== hwm) commits.save(alertCheckpoint(state, now()));
    result.pages++;
    result.events += records.length;
    result.repeats! += items.length - emit.length;
  }, opts.stopAt === undefined ? undefined : {
    at: opts.stopAt,
    isLast: (page) => page.nextKey === undefined,
    // A resumed run first re-reads its overlap, and the mark only moves with a new alert: pausing before one
    // would leave the next run to re-read the same pages, and a backlog of more of them than fit in the
    // budget (a storm of alerts inside the overlap, a day-long overlap_minutes) would never move again. So the
    // budget counts from the first new alert: such a run lasts the re-read plus a budget, and moves on a
    // budget's worth each time. The re-read itself is bounded: the window is, and a page key never repeats.
    allowed: () => progressSince !== undefined && now() - progressSince >= opts.stopAt! - runStart,
  });
  return result;
}
