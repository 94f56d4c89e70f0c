// `events`: the SIEM events stream of one tenant, resumed from the saved cursor; each page written,
// then its `next_cursor` saved. A position older than the API's 24 hours is reported as a data gap.

import type { CursorPage, SiemItem, TenantApi } from '../central/types.js';
import { BadRequestError, CheckpointError, describeError } from '../errors.js';
import { clockSkew, DATE_RESOLUTION_MS, later, loadCheckpoint, newCollectResult, type CollectResult, reportGap, reportReset, restartSavedAt, type EventCollectOptions } from './collector.js';
import { eachCommittedPage, PageCommits } from './paging.js';
import { ItemSerializer, parseTime, SOURCETYPE } from './records.js';
import type { OutRecord } from './sink.js';
import {
  isSiemCheckpoint,
  planSiemStart,
  resumeByDate,
  siemCheckpointAfterPage,
  SIEM_FROM_DATE_WINDOW_MS,
  SIEM_WINDOW_MS,
  siemReadings,
  silentGap,
  type SiemCheckpoint,
  type SiemStart,
} from './siem-position.js';

const GAP_REASON = 'older than the 24 hours the SIEM API serves';
/**
 * A restart by from_date reaches back a minute less than the API serves (SIEM_FROM_DATE_WINDOW_MS), so the
 * start of such a gap may still have been served: said so, rather than blamed on the API.
 */
const RESTART_GAP_REASON = 'older than a restart reaches back: the 24 hours the SIEM API serves, less the time for the request to arrive';

/**
 * The most a fresh from_date, asked after one refused as too old, is moved further inside the 24 hours for the
 * time the refused request took. One request's retries give up after five minutes (retry.ts), plus a time-out:
 * longer was spent waiting for something else (a request slot, a suspended host, a clock step), which the fresh
 * request need not meet, and would cost a first run hours of its reach.
 */
const FALLBACK_SLACK_MAX_MS = 10 * 60_000;

export async function collectEvents(api: TenantApi, opts: EventCollectOptions): Promise<CollectResult> {
  const now = opts.now ?? Date.now;
  const tenant = { id: api.tenant.id, name: api.tenant.name };
  // Positions are times on Sophos's clock, like the created_at they mostly come from and the from_date they
  // turn into; this host's times are moved there by the skew measured from the Date of the API's answers (an
  // upper bound, so a position errs early: a restart may repeat a second, never skip one).
  const sophos = (hostTime: number): number => hostTime - clockSkew(opts);
  const runStart = now();
  const sophosStart = sophos(runStart);
  const loaded = await loadCheckpoint(opts, isSiemCheckpoint);
  const { trust, resume } = siemReadings(loaded.value, clockSkew(opts), sophosStart);
  const result = opts.progress ?? newCollectResult();
  result.checkpointAge = resume && runStart - resume.savedAt;
  let position = resume?.position ?? sophosStart;
  /** No position saved, nor one set aside: nothing before the oldest the API takes is owed. */
  const firstRun = resume === undefined && loaded.discarded === undefined;
  /** The checkpoint saved last (or loaded): its cursor and date outlast a save that only moves the position. */
  let last: Pick<SiemCheckpoint, 'cursor' | 'position' | 'savedAt'> | undefined = resume;

  /** Reports a planned start's gap or reset and saves the position it restarts from. */
  const restart = async (start: SiemStart, reset?: string): Promise<void> => {
    if (start.gap) {
      await reportGap(opts, 'events', tenant, start.gap, RESTART_GAP_REASON);
      result.gaps.push(start.gap);
    }
    position = start.fromDate ?? position;
    if (reset) await reportReset(opts, 'events', tenant, { restartFrom: position }, reset);
    if (start.gap || reset) {
      const saved: SiemCheckpoint = { v: 2, position, savedAt: restartSavedAt(resume, now()) };
      await opts.store.save(opts.key, saved);
      last = saved;
    }
  };

  const serializer = new ItemSerializer(tenant);
  const commits = new PageCommits(opts.store, opts.key);
  /** Collects from `start`; `announce` runs once its first page is in hand, before that page is written. */
  const collectFrom = async (start: SiemStart, announce?: () => Promise<void>): Promise<void> => {
    // Whole seconds, rounded down: SIEM_FROM_DATE_WINDOW_MS leaves room for that second.
    const fromDate = start.fromDate === undefined ? undefined : Math.floor(start.fromDate / 1000);
    // Where this start asks the API to begin (a cursor: as far as the gap checks are concerned).
    const startedFrom = fromDate === undefined ? (trust?.position ?? position) : fromDate * 1000;
    let first = true;
    const pages = (signal: AbortSignal) =>
      api.siemEventPages({
        cursor: start.cursor,
        fromDate,
        limit: opts.pageSize,
        excludeTypes: opts.excludeTypes && opts.excludeTypes.length > 0 ? opts.excludeTypes : undefined,
        signal,
      });
    result.end = await eachCommittedPage(commits, pages, now, opts.signal, async (page, requestedAt) => {
      // Where the request for this page stood: the start, else the position the previous page's cursor stands
      // for (never before the start: an empty page leaves an earlier reading of a v1 checkpoint's position).
      // Any page may wait long enough for it to age out (retries, Retry-After, time-outs).
      const askedFrom = first ? startedFrom : Math.max(position, startedFrom);
      const firstPage = first;
      if (first) {
        first = false;
        await announce?.();
      }
      // When the API answered, by its Date, not when the page is handled: a page fetched ahead may wait while
      // the one before it is written. The Date is rounded down to the second: its last millisecond errs
      // towards reporting a gap.
      const answeredAt = page.serverTime === undefined ? sophos(now()) : page.serverTime + DATE_RESOLUTION_MS - 1;
      let gap: ReturnType<typeof silentGap>;
      // A first run owes nothing before the oldest the API takes when it answers, however long retries took:
      // from there on it is owed, even when this page brings no item to move the position.
      if (firstPage && firstRun) position = Math.max(position, answeredAt - SIEM_WINDOW_MS);
      else gap = silentGap(askedFrom, answeredAt);
      if (gap) {
        // A saved cursor already past the 24 hours when the run began, or one that aged past them since.
        const aged = askedFrom < sophosStart - SIEM_WINDOW_MS ? 'the saved position being older than that when the run began' : 'the position asked for having aged past them before it answered';
        await reportGap(opts, 'events', tenant, gap, `${GAP_REASON}: it answered from its last 24 hours, ${aged}`);
        result.gaps.push(gap);
        // Everything before its end is written or reported lost: a page that moves the position by no item
        // (an empty one with more to come) must not make the next page report the same span again.
        position = Math.max(position, gap.end);
      }
      await writePage(page, requestedAt);
    }, opts.stopAt === undefined ? undefined : { at: opts.stopAt, isLast: (page) => !page.hasMore });
  };

  const writePage = async (page: CursorPage<SiemItem>, loopAskedAt: number): Promise<void> => {
    // A page asked for ahead left before the loop asked for it: dated by whichever came first.
    const requestedAt = Math.min(loopAskedAt, page.askedAt ?? Infinity);
    // Heads when the client scanned the page (only the members read here), else the parsed items.
    const heads = page.heads;
    const items: readonly Record<string, unknown>[] = heads ?? page.items;
    const records: OutRecord[] = new Array(items.length);
    let newestCreated: number | undefined;
    let newestWhen: number | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const when = parseTime(item.when);
      const created = parseTime(item.created_at) ?? when;
      newestCreated = later(newestCreated, created);
      newestWhen = later(newestWhen, when);
      const text = page.texts?.[i];
      // SIEM events carry no tenant: it is appended, and the writer takes the item's text and it apart.
      const pieces = serializer.pieces(item, text);
      records[i] = {
        // Without a usable `when`, the time Sophos recorded the event is closer than the collection's.
        time: (when ?? created ?? requestedAt) / 1000,
        sourcetype: SOURCETYPE.events,
        data: pieces === undefined ? serializer.serialize(item, text, heads !== undefined) : pieces[0] + pieces[1],
        pieces,
        tenantId: tenant.id,
        tenantName: tenant.name,
      };
    }
    if (records.length > 0) await commits.write(opts.sink, records);
    // Only once written: lag_seconds is about what reached Splunk.
    result.newestItem = later(result.newestItem, newestWhen);
    const saved = siemCheckpointAfterPage(
      position,
      // Never later than Sophos's own Date on the page: a clock stepped back during the request (NTP) would
      // otherwise put the position ahead by the step.
      { cursor: page.cursor, hasMore: page.hasMore, newestCreated, requestedAt: Math.min(sophos(requestedAt), page.serverTime ?? Infinity) },
      now(),
    );
    commits.save(saved);
    last = saved;
    position = saved.position;
    result.pages++;
    result.events += records.length;
  };

  const planned = planSiemStart(trust, sophosStart);
  // Resumed by from_date from a saved position: the earlier reading of it, which may be older than the API takes.
  const start: SiemStart = planned.cursor === undefined && planned.gap === undefined && resume ? resumeByDate(resume.position, sophosStart) : planned;
  await restart(start, loaded.discarded);
  const pagesBefore = result.pages;
  const askedAt = now();

  /** Collects from the planned start, asking again once from a fresh start after a 400 before any page. */
  const collectOrFallBack = async (): Promise<void> => {
    try {
      await collectFrom(start);
    } catch (err) {
      if (!(err instanceof BadRequestError) || result.pages !== pagesBefore) throw err;
      // A 400 before any page, asked again once:
      // - A saved cursor the API no longer takes (its format changed, the tenant moved) would fail this tenant on
      //   every run until the position aged out as a gap. Its position says where to resume by from_date instead,
      //   and only once the API answers that is the cursor given up and the restart reported.
      // - A from_date a minute inside the 24 hours, sent again unchanged by retries, may have aged past them when
      //   the API refused it: asked again from now, with what aged meanwhile as a gap (a first run owes nothing
      //   before the oldest the API takes; a restart after a checkpoint set aside owes what its reset named). The
      //   second is asked that much further inside the 24 hours as the first took, or the same retries would age it too.
      // A 400 about something else fails the second request too, and then the first refusal is what is reported.
      const refusedAt = now();
      const reach = SIEM_FROM_DATE_WINDOW_MS - Math.min(Math.max(0, refusedAt - askedAt), FALLBACK_SLACK_MAX_MS);
      const fallback =
        start.cursor !== undefined
          ? planSiemStart({ v: 2, position, savedAt: runStart }, sophos(refusedAt))
          : firstRun
            ? planSiemStart(undefined, sophos(refusedAt), reach)
            : resumeByDate(position, sophos(refusedAt), reach);
      const reset = start.cursor === undefined ? undefined : `Sophos Central refused the saved cursor (${describeError(err)})`;
      try {
        await collectFrom(fallback, () => restart(fallback, reset));
      } catch (again) {
        throw again instanceof BadRequestError ? err : again;
      }
    }
  };

  /**
   * A failed run leaves the stream where it stood. A tenant failing for days (its partner access withdrawn, its
   * region down) would have that position age out of the API's 24 hours unreported until it recovered, however
   * long that took. So what has aged out by the failure is reported now, and the position moved to its end with
   * the cursor kept: each later report, the recovery's included, adds only what aged out after it.
   */
  const reportAgedOnFailure = async (err: unknown): Promise<void> => {
    // Stopped, or the checkpoint itself failing: nothing more is saved. Nothing saved yet (a first run that
    // wrote no page): nothing is owed, the API having answered nothing.
    if (opts.signal?.aborted || err instanceof CheckpointError || last === undefined) return;
    const saved = last;
    /** Saves the position where a reported gap left it, with the cursor and date saved last. */
    const savePosition = async (): Promise<void> => {
      if (position <= saved.position) return;
      const { cursor } = saved;
      await opts.store.save(opts.key, { v: 2, ...(cursor === undefined ? {} : { cursor }), position, savedAt: restartSavedAt(saved, now()) } satisfies SiemCheckpoint);
    };
    try {
      // First a gap a page reported before it failed to be written (its position was not saved with it), so
      // that a report below failing too, on the same broken sink, cannot keep it from being saved.
      await savePosition();
      // Sophos's clock by its own latest answer and the time since, where there is one: the skew measured at that
      // answer is off by any step of this host's clock since, and would report as lost what the API still serves.
      const failedAt = Math.min(opts.sophosNow?.() ?? Infinity, sophos(now()));
      const gap = silentGap(Math.max(position, trust?.position ?? position), failedAt);
      if (!gap) return;
      await reportGap(opts, 'events', tenant, gap, `${GAP_REASON}: the tenant's collection failed (${describeError(err)}) while its position aged past them`);
      result.gaps.push(gap);
      position = Math.max(position, gap.end);
      await savePosition();
    } catch (also) {
      // The run's own failure is the one reported; a later run reports the gap (again, when only the save failed:
      // reported twice rather than never).
      opts.logger.debug(`events of tenant ${tenant.id}: the data gap after its failure was left to a later run: ${describeError(also)}`);
    }
  };

  try {
    await collectOrFallBack();
  } catch (err) {
    await reportAgedOnFailure(err);
    throw err;
  }
  return result;
}
