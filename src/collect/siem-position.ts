// Pure state transitions of the `events` collector: where a run resumes the SIEM stream, whether the
// saved position has fallen out of the API's 24 hours (a data gap nothing can recover), and what the
// checkpoint holds after each page.

const MINUTE = 60_000;

/** The SIEM API serves the last 24 hours only: `from_date` "must be within last 24 hours" (§6). */
export const SIEM_WINDOW_MS = 24 * 60 * MINUTE;

/**
 * How far back a `from_date` goes: a minute inside the 24 hours (interfaces.md: the first run reaches back as
 * far as the API allows), for the time the request takes to arrive and the second the skew is measured to.
 * Retries send it again unchanged, and what the API does with one that has aged past 24 hours meanwhile is an
 * open question (§6): answered from its last 24 hours, the first page's Date shows the span as a gap
 * (silentGap); refused with a 400, the collector asks again from a fresh one (collectEvents).
 */
export const SIEM_FROM_DATE_WINDOW_MS = SIEM_WINDOW_MS - MINUTE;

export interface SiemCheckpoint {
  /** 2: `position` on Sophos's clock; 1 (earlier releases): on this host's clock (see collectEvents). */
  v: 1 | 2;
  /** `next_cursor` of the last page written; absent until the first page after a (re)start is written. */
  cursor?: string;
  /**
   * Every event created before this time (epoch ms, on Sophos's clock) has been written. The cursor itself
   * is opaque (sophos-central-api.md §6), so the position is what we know from our side: the newest
   * `created_at` (else `when`) written while the stream had more pages, or the time the page was requested
   * once it was caught up (`has_more` false), moved to Sophos's clock (collectEvents).
   */
  position: number;
  /** When this checkpoint was saved (epoch ms). */
  savedAt: number;
}

export interface SiemStart {
  /** Resume from this cursor... */
  cursor?: string;
  /** ...or, without one, from this time (epoch ms; the API takes whole seconds). */
  fromDate?: number;
  /** The span that fell out of the API's 24 hours before this run: those events are lost. */
  gap?: { start: number; end: number };
}

/**
 * A loaded checkpoint read for a run. An earlier release's (v 1) position is on Sophos's clock when it came
 * from a `created_at`, on this host's when caught up, and which one is not recorded: it is read both ways.
 * Whether its cursor is still trusted and whether a gap opened are judged on the later reading (`trust`: no
 * false gap), where a from_date restarts on the earlier one (`resume`: no event skipped). A v 2 position is
 * Sophos's time, and both readings are the checkpoint itself.
 */
export function siemReadings(
  checkpoint: SiemCheckpoint | undefined,
  skewMs: number,
  runStart: number,
): { trust?: SiemCheckpoint; resume?: SiemCheckpoint } {
  const sane = checkpoint && saneCheckpoint(checkpoint, runStart);
  if (sane?.v !== 1) return { trust: sane, resume: sane };
  const moved = sane.position - skewMs;
  return {
    trust: { ...sane, position: Math.max(sane.position, moved) },
    resume: { ...sane, position: Math.min(sane.position, moved) },
  };
}

/**
 * A position after the run's start (Sophos's clock) can only be wrong, and would pass every age check for
 * good: an earlier release took it from an item dated in the future. It is read as the time the checkpoint
 * was saved instead, when that is earlier.
 */
function saneCheckpoint(checkpoint: SiemCheckpoint, runStart: number): SiemCheckpoint {
  return checkpoint.position > runStart ? { ...checkpoint, position: Math.min(checkpoint.savedAt, runStart) } : checkpoint;
}

/**
 * Where a run starting at `runStart` (Sophos's clock, as positions) resumes. A saved cursor is sent whatever
 * its age: one older than the 24 hours is answered from "the last 24 hours" (§6), the oldest anything can
 * still reach, where a from_date has to stay a minute inside them. What it skipped is reported from the
 * first page's Date (silentGap), or at the time the run fails (collectEvents), so only a checkpoint without a
 * cursor plans a gap here.
 */
export function planSiemStart(checkpoint: SiemCheckpoint | undefined, runStart: number, reach = SIEM_FROM_DATE_WINDOW_MS): SiemStart {
  if (!checkpoint) return { fromDate: runStart - reach };
  if (!checkpoint.cursor) return resumeByDate(checkpoint.position, runStart, reach);
  return { cursor: checkpoint.cursor };
}

/**
 * A start by `from_date` at a saved position (Sophos's clock, as positions); one older than the API takes is a gap.
 * `reach`: how far back a from_date may go (default SIEM_FROM_DATE_WINDOW_MS).
 */
export function resumeByDate(position: number, runStart: number, reach = SIEM_FROM_DATE_WINDOW_MS): SiemStart {
  const oldest = runStart - reach;
  return position < oldest ? { fromDate: oldest, gap: { start: position, end: oldest } } : { fromDate: position };
}

/**
 * The span the API dropped without saying so from a page asked for at position `askedFrom` and answered at
 * `answeredAt` (both Sophos's clock, as positions). A cursor older than its 24 hours is answered from "the
 * last 24 hours" (§6): a saved one already that old when the run began, or one that aged out during a long
 * round of retries on any page.
 */
export function silentGap(askedFrom: number, answeredAt: number): { start: number; end: number } | undefined {
  const oldestServed = answeredAt - SIEM_WINDOW_MS;
  return askedFrom < oldestServed ? { start: askedFrom, end: oldestServed } : undefined;
}

/**
 * The checkpoint after one written page. `newestCreated` is the newest item time on that page (undefined
 * for an empty page or unparsable times), `requestedAt` when the page was asked for.
 */
export function siemCheckpointAfterPage(
  previousPosition: number,
  page: { cursor: string; hasMore: boolean; newestCreated: number | undefined; requestedAt: number },
  savedAt: number,
): SiemCheckpoint {
  let position = previousPosition;
  if (!page.hasMore) position = Math.max(position, page.requestedAt);
  // No item of the page was created after it was asked for: one dated later (an endpoint's clock far ahead)
  // would otherwise put the position in the future, where it would pass every age check for good.
  else if (page.newestCreated !== undefined) position = Math.max(position, Math.min(page.newestCreated, page.requestedAt));
  // No usable cursor (the API sent none): the next run restarts from the position instead.
  return page.cursor ? { v: 2, cursor: page.cursor, position, savedAt } : { v: 2, position, savedAt };
}

/** A loaded value that is not a usable events checkpoint is treated as none (first run). */
export function isSiemCheckpoint(value: unknown): value is SiemCheckpoint {
  if (!value || typeof value !== 'object') return false;
  const c = value as Partial<SiemCheckpoint>;
  return (
    (c.v === 1 || c.v === 2) &&
    typeof c.position === 'number' &&
    Number.isFinite(c.position) &&
    typeof c.savedAt === 'number' &&
    (c.cursor === undefined || typeof c.cursor === 'string')
  );
}
