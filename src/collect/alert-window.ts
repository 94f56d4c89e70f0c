// Pure state transitions of the `alerts` collector: which window a run queries, which alerts of a page
// are new, and what the checkpoint holds afterwards. No I/O here, so a table of cases tests it all.

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * How far before the high-water mark each run looks again, by default. Alerts can become visible in the
 * API a while after their `raisedAt` (ingestion delay, agent clock skew: anchors.md §2, SIEM #53/#69), so
 * a run that started after the mark only moved would miss them. 15 minutes covers the delays seen in the
 * wild at the cost of re-reading 15 minutes of alerts per run; dedup by ID keeps those out of Splunk.
 * `overlap_minutes` widens it where a tenant's delays are longer.
 */
export const ALERT_OVERLAP_MS = 15 * MINUTE;

/** interfaces.md: a run collects every alert the API shows a minute or more before the run starts. */
export const QUERY_LAG_MS = MINUTE;

/** Central keeps alerts 90 days (sophos-central-api.md §5). */
export const ALERT_RETENTION_MS = 90 * DAY;

/**
 * The oldest `from` a run asks for: a minute inside retention (interfaces.md: the first run reaches back
 * `start_days`), for the request to arrive before that `from` has slipped out of it.
 */
const RETENTION_MARGIN_MS = MINUTE;

export interface AlertCheckpoint {
  v: 1;
  /**
   * Every alert raised before `hwm` that the API showed has been emitted; the overlap before it is read
   * again for late ones. Mid-run it is the newest `raisedAt` emitted (pages come oldest first); after a
   * complete run it is the run's `to`, capped a minute before the last page's Date (completeAlertWindow),
   * so quiet tenants do not re-read ever longer ranges. Epoch ms.
   */
  hwm: number;
  /** IDs emitted whose raisedAt (epoch ms) is at or after `hwm - overlap`: the dedup set. */
  seen: Record<string, number>;
  /**
   * Every alert emitted whose raisedAt is at or after this is in `seen` (epoch ms): the start of the first
   * window, then the prune bound. A run never looks back before it, so an overlap widened since the set was
   * pruned to a narrower one repeats nothing; the look-back grows to the new overlap as the mark moves on.
   * Absent in checkpoints of earlier releases: read as one overlap before the mark.
   */
  seenSince?: number;
  /**
   * The newest raisedAt emitted so far (epoch ms), by Sophos's clock rather than ours: where a run restarts
   * when `hwm`, set by this host's clock, turns out to lie in the future. Absent until an alert is emitted.
   */
  newest?: number;
  /** When this checkpoint was saved (epoch ms). */
  savedAt: number;
}

export interface AlertWindow {
  /** Query `from` (raised on or after), epoch ms. */
  from: number;
  /** Query `to` (raised before), epoch ms. */
  to: number;
  /** How far before the mark this run looked again, and how long its IDs are kept (ms). */
  overlap: number;
  /** Set when the saved position is older than Central keeps alerts: those alerts are gone. */
  gap?: { start: number; end: number };
  /**
   * Set when the saved mark lies more than one overlap beyond this run's `to`: this host's clock was ahead
   * when it was saved and has since been set back. Trusting the mark would query empty windows until the
   * clock caught up with it. (Within one overlap, the window still starts before `to` and loses nothing.)
   */
  reset?: { mark: number };
}

/** The window of one run, from the saved checkpoint (undefined on the first run). */
export function planAlertWindow(
  checkpoint: AlertCheckpoint | undefined,
  runStart: number,
  startDays: number,
  overlap = ALERT_OVERLAP_MS,
): AlertWindow {
  const to = runStart - QUERY_LAG_MS;
  const floor = runStart - ALERT_RETENTION_MS + RETENTION_MARGIN_MS;
  const firstFrom = Math.max(runStart - startDays * DAY, floor);
  if (!checkpoint) return { from: firstFrom, to, overlap };
  const wanted = checkpoint.hwm - overlap;
  if (wanted > to) {
    // Everything the API showed when the mark was saved has been emitted, and the newest alert emitted is
    // no later than Sophos's clock was then: restarting one overlap before it loses nothing and repeats at
    // most an overlap of alerts. A checkpoint without it restarts as a first run.
    const from = checkpoint.newest === undefined ? firstFrom : Math.max(Math.min(checkpoint.newest, to) - overlap, floor);
    return { from, to, overlap, reset: { mark: checkpoint.hwm } };
  }
  const known = checkpoint.seenSince ?? wanted;
  if (wanted >= floor) return { from: Math.max(wanted, known), to, overlap };
  // Only what was never read is lost: alerts the API showed before the mark were emitted, and the overlap
  // before it is a second look for late ones (which, raised that long ago, the API no longer keeps). So a
  // mark still inside retention is no gap, and its IDs stay deduplicated.
  if (checkpoint.hwm >= floor) return { from: Math.max(floor, known), to, overlap };
  return { from: floor, to, overlap, gap: { start: checkpoint.hwm, end: floor } };
}

/** The dedup state carried from page to page within a run. */
export interface AlertState {
  hwm: number;
  seen: Map<string, number>;
  newest?: number;
  /** The window's overlap: IDs older than `hwm - overlap` are pruned when saved. */
  overlap: number;
  /** AlertCheckpoint.seenSince. */
  seenSince: number;
  /** The mark this run started from, and its seenSince: where it falls back to when the API's order cannot be trusted. */
  startHwm: number;
  startSeenSince: number;
  /** The newest raisedAt read this run, in the order the API sent them (not saved). */
  readMax?: number;
  /**
   * Set once an alert came older than one read before it this run: the API did not send oldest first, as
   * asked, so alerts still unread may lie before the newest read, and the mark stays at `startHwm` until
   * the window is complete (not saved: the next run checks the order afresh).
   */
  unordered?: boolean;
}

export function alertStateFrom(checkpoint: AlertCheckpoint | undefined, window: AlertWindow): AlertState {
  // A first run, or a run past a reported gap or reset, starts afresh at `from`, and nothing before it is
  // owed: the mark is `from`, never later, so that a run which reads nothing and is then overtaken by
  // retention reports what it missed as a gap. Saving this state right away makes the next run start at the
  // same `from` (seenSince) instead of reporting the gap or reset again. The IDs saved stay: past a gap, those
  // raised after the mark (read by a run that met alerts out of order) are still inside the window.
  const { overlap } = window;
  const afresh = { hwm: window.from, overlap, seenSince: window.from, startHwm: window.from, startSeenSince: window.from };
  if (!checkpoint) return { ...afresh, seen: new Map() };
  const seen = new Map(Object.entries(checkpoint.seen));
  if (window.gap) return { ...afresh, seen };
  if (window.reset) return { ...afresh, seen, newest: checkpoint.newest };
  const seenSince = checkpoint.seenSince ?? checkpoint.hwm - overlap;
  return { hwm: checkpoint.hwm, seen, newest: checkpoint.newest, overlap, seenSince, startHwm: checkpoint.hwm, startSeenSince: seenSince };
}

export interface PageAlert {
  /** undefined when the API sent none (or not a string): every alert has one (§5), but none must be lost. */
  id: string | undefined;
  /** raisedAt in epoch ms; undefined when the API sent none or an unparsable one. */
  raisedAt: number | undefined;
}

/**
 * Marks the new alerts of one page and advances the state (mutates `state`, which belongs to the run).
 * Returns the indexes of the items to emit, in page order. An alert without a usable raisedAt is
 * emitted once and remembered at the window's `to`, so it stays deduplicated for a full overlap. One without
 * an ID cannot be told from another, so it is emitted every time it is read rather than dropped as a repeat.
 *
 * The mark follows the newest alert read only while alerts come oldest first, as the client asks
 * (sort=raisedAt:asc). sophos-central-api.md §5 shows that parameter with `raisedAt:desc` only: should the
 * API send another order, a run that stopped after a page would otherwise save a mark past alerts it never
 * read, and lose them. The first alert older than one read before it sets `unordered`, and the mark goes
 * back to where the run started, keeping every ID read since, until the window is complete. (Should a page
 * saved before that have looked in order, the IDs it pruned may come again: repeats, never a loss.)
 */
export function acceptAlertPage(state: AlertState, page: PageAlert[], window: AlertWindow): number[] {
  const emit: number[] = [];
  for (let i = 0; i < page.length; i++) {
    const { id, raisedAt } = page[i]!;
    if (raisedAt !== undefined && !state.unordered) {
      if (state.readMax !== undefined && raisedAt < state.readMax) {
        state.unordered = true;
        // A page saved before this one moved the mark and pruned the IDs before it: the next window starts
        // where this run did again. Those IDs may come again; the alerts after them are not lost.
        state.hwm = state.startHwm;
        state.seenSince = state.startSeenSince;
      } else {
        state.readMax = raisedAt;
      }
    }
    if (id !== undefined && state.seen.has(id)) continue;
    // The same ID twice within one page is emitted once as well.
    const at = raisedAt === undefined ? window.to : Math.min(raisedAt, window.to);
    if (id !== undefined) state.seen.set(id, at);
    // The mark never passes `to`: an alert the API sent from beyond the window must not skip later ones.
    if (raisedAt !== undefined && at > state.hwm && !state.unordered) state.hwm = at;
    if (raisedAt !== undefined && (state.newest === undefined || at > state.newest)) state.newest = at;
    emit.push(i);
  }
  return emit;
}

/**
 * The run went through every page: everything raised before `to` has been seen, as far as Sophos's clock
 * had got. `to` is this host's clock moved by the skew measured before the run; should that be off (no
 * Date yet, a clock stepped since), a mark past Sophos's clock would skip alerts not raised yet, for good
 * beyond one overlap. So the mark stops a minute before `serverTime`, the last page's Date, when there is one.
 */
export function completeAlertWindow(state: AlertState, window: AlertWindow, serverTime?: number): void {
  const seen = serverTime === undefined ? window.to : Math.min(window.to, serverTime - QUERY_LAG_MS);
  if (seen > state.hwm) state.hwm = seen;
}

/** The checkpoint to save now: IDs older than the next run's window start are pruned (bounded size). */
export function alertCheckpoint(state: AlertState, savedAt: number): AlertCheckpoint {
  const keepFrom = state.hwm - state.overlap;
  const seen: Record<string, number> = {};
  for (const [id, at] of state.seen) {
    if (at >= keepFrom) seen[id] = at;
    else state.seen.delete(id);
  }
  state.seenSince = Math.max(state.seenSince, keepFrom);
  return { v: 1, hwm: state.hwm, seen, seenSince: state.seenSince, ...(state.newest === undefined ? {} : { newest: state.newest }), savedAt };
}

/** A loaded value that is not a usable alerts checkpoint is treated as none (first run). */
export function isAlertCheckpoint(value: unknown): value is AlertCheckpoint {
  if (!value || typeof value !== 'object') return false;
  const c = value as Partial<AlertCheckpoint>;
  return (
    c.v === 1 &&
    typeof c.hwm === 'number' &&
    Number.isFinite(c.hwm) &&
    typeof c.savedAt === 'number' &&
    !!c.seen &&
    typeof c.seen === 'object' &&
    (c.newest === undefined || (typeof c.newest === 'number' && Number.isFinite(c.newest))) &&
    (c.seenSince === undefined || (typeof c.seenSince === 'number' && Number.isFinite(c.seenSince))) &&
    Object.values(c.seen).every((at) => typeof at === 'number')
  );
}
