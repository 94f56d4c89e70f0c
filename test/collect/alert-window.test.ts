import { describe, expect, it } from 'vitest';
import {
  acceptAlertPage,
  ALERT_OVERLAP_MS,
  ALERT_RETENTION_MS,
  alertCheckpoint,
  alertStateFrom,
  completeAlertWindow,
  isAlertCheckpoint,
  planAlertWindow,
  QUERY_LAG_MS,
  type AlertCheckpoint,
  type AlertState,
} from '../../src/collect/alert-window.js';

const MIN = 60_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);

function cp(hwm: number, seen: Record<string, number> = {}, newest?: number): AlertCheckpoint {
  return newest === undefined ? { v: 1, hwm, seen, savedAt: hwm } : { v: 1, hwm, seen, newest, savedAt: hwm };
}

describe('planAlertWindow', () => {
  const cases: Array<{ name: string; checkpoint?: AlertCheckpoint; startDays: number; from: number; gap?: boolean; reset?: boolean }> = [
    { name: 'first run goes back start_days', startDays: 7, from: T - 7 * DAY },
    { name: 'first run with 1 day', startDays: 1, from: T - DAY },
    { name: 'first run at 90 days stays inside retention', startDays: 90, from: T - ALERT_RETENTION_MS + MIN },
    { name: 'later run starts one overlap before the mark', checkpoint: cp(T - 10 * MIN), startDays: 7, from: T - 25 * MIN },
    { name: 'a mark one day old', checkpoint: cp(T - DAY), startDays: 1, from: T - DAY - ALERT_OVERLAP_MS },
    { name: 'a mark past retention is a gap, from the mark on', checkpoint: cp(T - 100 * DAY), startDays: 1, from: T - ALERT_RETENTION_MS + MIN, gap: true },
    { name: 'a mark inside retention whose overlap is not: no gap', checkpoint: cp(T - ALERT_RETENTION_MS + 10 * MIN), startDays: 1, from: T - ALERT_RETENTION_MS + MIN },
    { name: 'a mark up to one overlap beyond to (clock stepped back a little) is trusted', checkpoint: cp(T - QUERY_LAG_MS + ALERT_OVERLAP_MS), startDays: 1, from: T - QUERY_LAG_MS },
    { name: 'a mark further beyond to (clock set back) restarts one overlap before the newest alert emitted', checkpoint: cp(T + DAY, {}, T - 2 * DAY), startDays: 1, from: T - 2 * DAY - ALERT_OVERLAP_MS, reset: true },
    { name: 'a mark beyond to without a newest alert restarts as a first run', checkpoint: cp(T + DAY), startDays: 3, from: T - 3 * DAY, reset: true },
    { name: 'a reset never goes past retention', checkpoint: cp(T + DAY, {}, T - 95 * DAY), startDays: 1, from: T - ALERT_RETENTION_MS + MIN, reset: true },
    { name: 'a reset whose newest alert is beyond to starts one overlap before to', checkpoint: cp(T + DAY, {}, T + HOUR), startDays: 1, from: T - QUERY_LAG_MS - ALERT_OVERLAP_MS, reset: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const w = planAlertWindow(c.checkpoint, T, c.startDays);
      expect(w.to).toBe(T - QUERY_LAG_MS);
      expect(w.from).toBe(c.from);
      if (c.gap) expect(w.gap).toEqual({ start: c.checkpoint!.hwm, end: c.from });
      else expect(w.gap).toBeUndefined();
      if (c.reset) expect(w.reset).toEqual({ mark: c.checkpoint!.hwm });
      else expect(w.reset).toBeUndefined();
    });
  }
});

describe('a wider overlap (overlap_minutes)', () => {
  const overlap = 60 * MIN;
  it('starts each run that far before the mark, also after a clock reset', () => {
    expect(planAlertWindow(cp(T - 10 * MIN), T, 1, overlap)).toEqual({ from: T - 70 * MIN, to: T - QUERY_LAG_MS, overlap });
    expect(planAlertWindow(cp(T + DAY, {}, T - HOUR), T, 1, overlap).from).toBe(T - 2 * HOUR);
  });
  it('keeps IDs for that long, so an alert seen again inside it is not emitted twice', () => {
    const w = planAlertWindow(cp(T - 10 * MIN, { late: T - 50 * MIN }), T, 1, overlap);
    const s = alertStateFrom(cp(T - 10 * MIN, { late: T - 50 * MIN }), w);
    expect(acceptAlertPage(s, [{ id: 'late', raisedAt: T - 50 * MIN }, { id: 'later', raisedAt: T - 45 * MIN }], w)).toEqual([1]);
    completeAlertWindow(s, w);
    expect(Object.keys(alertCheckpoint(s, T).seen).sort()).toEqual(['late', 'later']);
    // The default overlap would have pruned both: their raisedAt is more than 15 minutes before the mark.
    expect(Object.keys(alertCheckpoint({ ...s, overlap: ALERT_OVERLAP_MS }, T).seen)).toEqual([]);
  });
});

describe('an overlap widened since the IDs were pruned', () => {
  it('looks back no further than the IDs kept, then grows to the new overlap as the mark moves on', () => {
    // Saved with the default overlap: IDs from 15 minutes before the mark.
    const saved: AlertCheckpoint = { ...cp(T - 10 * MIN, { a: T - 20 * MIN }), seenSince: T - 25 * MIN };
    const wide = 60 * MIN;
    const w = planAlertWindow(saved, T, 1, wide);
    expect(w.from).toBe(T - 25 * MIN);
    const s = alertStateFrom(saved, w);
    expect(acceptAlertPage(s, [{ id: 'a', raisedAt: T - 20 * MIN }, { id: 'b', raisedAt: T - 5 * MIN }], w)).toEqual([1]);
    completeAlertWindow(s, w);
    const next = alertCheckpoint(s, T);
    // The mark moved to T - 1 min: the new overlap would reach T - 61 min, the IDs still only T - 25 min.
    expect(next.seenSince).toBe(T - 25 * MIN);
    expect(planAlertWindow(next, T + 10 * MIN, 1, wide).from).toBe(T - 25 * MIN);
    // Once the mark is an hour past that, the full overlap applies.
    const later = alertStateFrom(next, planAlertWindow(next, T + 90 * MIN, 1, wide));
    completeAlertWindow(later, planAlertWindow(next, T + 90 * MIN, 1, wide));
    const after = alertCheckpoint(later, T + 90 * MIN);
    expect(planAlertWindow(after, T + 95 * MIN, 1, wide).from).toBe(after.hwm - wide);
  });
  it('an earlier release\'s checkpoint, without seenSince, is read as pruned to the overlap in use', () => {
    expect(planAlertWindow(cp(T - 10 * MIN), T, 1, 60 * MIN).from).toBe(T - 70 * MIN);
  });
});

describe('acceptAlertPage', () => {
  const window = { from: T - 30 * MIN, to: T - MIN, overlap: ALERT_OVERLAP_MS };
  const cases: Array<{
    name: string;
    hwm: number;
    seen: Record<string, number>;
    page: Array<[string, number | undefined]>;
    emit: number[];
    hwmAfter: number;
  }> = [
    { name: 'all new', hwm: T - 30 * MIN, seen: {}, page: [['a', T - 20 * MIN], ['b', T - 10 * MIN]], emit: [0, 1], hwmAfter: T - 10 * MIN },
    { name: 'seen IDs in the overlap are skipped', hwm: T - 15 * MIN, seen: { a: T - 20 * MIN }, page: [['a', T - 20 * MIN], ['c', T - 5 * MIN]], emit: [1], hwmAfter: T - 5 * MIN },
    { name: 'a late arrival older than the mark is emitted, the mark stays', hwm: T - 5 * MIN, seen: { x: T - 5 * MIN }, page: [['late', T - 12 * MIN], ['x', T - 5 * MIN]], emit: [0], hwmAfter: T - 5 * MIN },
    { name: 'the same ID twice in one page is emitted once', hwm: T - 30 * MIN, seen: {}, page: [['a', T - 20 * MIN], ['a', T - 20 * MIN]], emit: [0], hwmAfter: T - 20 * MIN },
    { name: 'an unparsable raisedAt is emitted and does not move the mark', hwm: T - 30 * MIN, seen: {}, page: [['u', undefined]], emit: [0], hwmAfter: T - 30 * MIN },
    { name: 'a raisedAt beyond to never moves the mark past to', hwm: T - 30 * MIN, seen: {}, page: [['f', T + DAY]], emit: [0], hwmAfter: T - MIN },
    { name: 'an empty page changes nothing', hwm: T - 30 * MIN, seen: { a: T - 20 * MIN }, page: [], emit: [], hwmAfter: T - 30 * MIN },
    { name: 'alerts newest first (sort not honoured) are emitted, the mark stays where the run started', hwm: T - 30 * MIN, seen: {}, page: [['b', T - 10 * MIN], ['a', T - 20 * MIN]], emit: [0, 1], hwmAfter: T - 30 * MIN },
    { name: 'equal raisedAt is still in order', hwm: T - 30 * MIN, seen: {}, page: [['a', T - 20 * MIN], ['b', T - 20 * MIN]], emit: [0, 1], hwmAfter: T - 20 * MIN },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const state = { hwm: c.hwm, seen: new Map(Object.entries(c.seen)), overlap: ALERT_OVERLAP_MS, seenSince: window.from, startHwm: c.hwm, startSeenSince: window.from };
      const emit = acceptAlertPage(state, c.page.map(([id, raisedAt]) => ({ id, raisedAt })), window);
      expect(emit).toEqual(c.emit);
      expect(state.hwm).toBe(c.hwmAfter);
      for (const [id] of c.page) expect(state.seen.has(id)).toBe(true);
    });
  }
  it('tracks the newest raisedAt emitted, below to and unmoved by alerts without one', () => {
    const state: AlertState = { hwm: window.from, seen: new Map(), overlap: ALERT_OVERLAP_MS, seenSince: window.from, startHwm: window.from, startSeenSince: window.from };
    acceptAlertPage(state, [{ id: 'n1', raisedAt: T - 20 * MIN }, { id: 'u', raisedAt: undefined }, { id: 'n0', raisedAt: T - 25 * MIN }], window);
    expect(state.newest).toBe(T - 20 * MIN);
    acceptAlertPage(state, [{ id: 'f', raisedAt: T + DAY }], window);
    expect(state.newest).toBe(window.to);
    expect(alertCheckpoint(state, T).newest).toBe(window.to);
  });
  it('emits alerts without an ID every time, none taken for a repeat of another, and remembers none of them', () => {
    const state = { hwm: window.from, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: window.from, startHwm: window.from, startSeenSince: window.from };
    const page = [{ id: undefined, raisedAt: T - 20 * MIN }, { id: undefined, raisedAt: T - 20 * MIN }, { id: 'a', raisedAt: T - 10 * MIN }];
    expect(acceptAlertPage(state, page, window)).toEqual([0, 1, 2]);
    expect(state.hwm).toBe(T - 10 * MIN);
    // Read again by a later run.
    const later = { ...state, readMax: undefined, startHwm: state.hwm };
    expect(acceptAlertPage(later, page, window)).toEqual([0, 1]);
    expect([...later.seen.keys()]).toEqual(['a']);
  });
  it('once an alert comes older than one read before it, the mark goes back to where the run started for the rest of the run, and every ID read is kept', () => {
    const start = T - 60 * MIN;
    const state: AlertState = { hwm: start, seen: new Map(), overlap: ALERT_OVERLAP_MS, seenSince: start - ALERT_OVERLAP_MS, startHwm: start, startSeenSince: start - ALERT_OVERLAP_MS };
    // Page 1 in order: the mark follows it, and is saved (pruning, and seenSince moving on with it).
    acceptAlertPage(state, [{ id: 'p1', raisedAt: T - 40 * MIN }, { id: 'p2', raisedAt: T - 30 * MIN }], window);
    expect(state.hwm).toBe(T - 30 * MIN);
    expect(state.unordered).toBeUndefined();
    expect(alertCheckpoint(state, T).seenSince).toBe(T - 30 * MIN - ALERT_OVERLAP_MS);
    // Page 2 starts before page 1 ended: unread alerts may lie anywhere after the run's start.
    expect(acceptAlertPage(state, [{ id: 'q1', raisedAt: T - 50 * MIN }, { id: 'q2', raisedAt: T - 5 * MIN }], window)).toEqual([0, 1]);
    expect(state.unordered).toBe(true);
    expect(state.hwm).toBe(start);
    const saved = alertCheckpoint(state, T);
    expect(saved.hwm).toBe(start);
    expect(Object.keys(saved.seen).sort()).toEqual(['p1', 'p2', 'q1', 'q2']);
    // Stopped here, the next run reads again from where this one started, not from the pruning of page 1.
    expect(planAlertWindow(saved, T + 5 * MIN, 1).from).toBe(start - ALERT_OVERLAP_MS);
    // The window read to its end: everything before `to` has been seen, whatever the order.
    completeAlertWindow(state, window);
    expect(state.hwm).toBe(window.to);
  });
  it('remembers an alert without raisedAt at the window end, so it stays deduplicated a full overlap', () => {
    const state = { hwm: window.from, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: window.from, startHwm: window.from, startSeenSince: window.from };
    acceptAlertPage(state, [{ id: 'u', raisedAt: undefined }], window);
    expect(state.seen.get('u')).toBe(window.to);
  });
});

describe('alertStateFrom', () => {
  it('first run: nothing before from is owed, so the mark is from', () => {
    const w = planAlertWindow(undefined, T, 3);
    const s = alertStateFrom(undefined, w);
    expect(s.hwm).toBe(w.from);
    expect(planAlertWindow(alertCheckpoint(s, T), T + MIN, 3).from).toBe(w.from);
  });
  it('after a reported gap: the next run starts at the same from, without a new gap', () => {
    const w = planAlertWindow(cp(T - 100 * DAY, { old: T - 100 * DAY }), T, 1);
    const s = alertStateFrom(cp(T - 100 * DAY, { old: T - 100 * DAY }), w);
    const next = planAlertWindow(alertCheckpoint(s, T), T, 1);
    expect(next.from).toBe(w.from);
    expect(next.gap).toBeUndefined();
    expect(s.seen.size).toBe(0);
  });
  it('past a gap, IDs saved from after the mark (a run that met alerts out of order) stay deduplicated', () => {
    const saved = cp(T - 100 * DAY, { old: T - 100 * DAY, recent: T - HOUR });
    const w = planAlertWindow(saved, T, 1);
    expect(w.gap).toBeDefined();
    const s = alertStateFrom(saved, w);
    expect(acceptAlertPage(s, [{ id: 'recent', raisedAt: T - HOUR }, { id: 'new', raisedAt: T - 30 * MIN }], w)).toEqual([1]);
  });
  for (const interval of [5 * MIN, HOUR]) {
    it(`after a reported gap, a run that read nothing leaves no alert unaccounted for (next run ${interval / MIN} min later)`, () => {
      const lost = cp(T - 100 * DAY);
      const w = planAlertWindow(lost, T, 1);
      // The gap run saves its restart state, then fails before any page.
      const saved = alertCheckpoint(alertStateFrom(lost, w), T);
      const next = planAlertWindow(saved, T + interval, 1);
      // Retention has moved on by the interval: what lies between the two floors is a gap of its own, from
      // where the first one ended, never skipped without a record.
      expect(next.gap).toEqual({ start: w.from, end: next.from });
      expect(next.from).toBe(w.from + interval);
    });
  }
  it('a first run at the retention floor that wrote one page and failed: the alerts after it that aged out are a gap', () => {
    const w = planAlertWindow(undefined, T, 90);
    const s = alertStateFrom(undefined, w);
    acceptAlertPage(s, [{ id: 'a', raisedAt: w.from + MIN }], w);
    const next = planAlertWindow(alertCheckpoint(s, T), T + 10 * MIN, 90);
    expect(next.gap).toEqual({ start: w.from + MIN, end: next.from });
  });
  it('a mark inside retention whose overlap is not: the alerts already emitted stay deduplicated', () => {
    const mark = T - ALERT_RETENTION_MS + 10 * MIN;
    const saved = cp(mark, { kept: mark - 3 * MIN });
    const w = planAlertWindow(saved, T, 1);
    const s = alertStateFrom(saved, w);
    expect(acceptAlertPage(s, [{ id: 'kept', raisedAt: mark - 3 * MIN }, { id: 'new', raisedAt: mark + MIN }], w)).toEqual([1]);
  });
  it('after a reset: the next run starts at the same from without a new reset, and the saved IDs still dedup', () => {
    const saved = cp(T + DAY, { a: T + DAY - MIN }, T - HOUR);
    const w = planAlertWindow(saved, T, 1);
    const s = alertStateFrom(saved, w);
    expect(s.hwm).toBe(w.from);
    expect(s.newest).toBe(T - HOUR);
    expect(acceptAlertPage(s, [{ id: 'a', raisedAt: T - HOUR }], w)).toEqual([]);
    const next = planAlertWindow(alertCheckpoint(s, T), T + MIN, 1);
    expect(next.from).toBe(w.from);
    expect(next.reset).toBeUndefined();
  });
  it('later run: the saved mark and IDs', () => {
    const s = alertStateFrom(cp(T - 5 * MIN, { a: T - 6 * MIN }), planAlertWindow(cp(T - 5 * MIN), T, 1));
    expect(s.hwm).toBe(T - 5 * MIN);
    expect([...s.seen]).toEqual([['a', T - 6 * MIN]]);
  });
});

describe('alertCheckpoint and completeAlertWindow', () => {
  it('prunes IDs older than the next window start and keeps the rest', () => {
    const state = {
      hwm: T,
      seen: new Map([
        ['old', T - ALERT_OVERLAP_MS - 1],
        ['edge', T - ALERT_OVERLAP_MS],
        ['new', T - MIN],
      ]),
      overlap: ALERT_OVERLAP_MS,
      seenSince: T - DAY,
      startHwm: T,
      startSeenSince: T - DAY,
    };
    const saved = alertCheckpoint(state, T + 1);
    expect(saved).toEqual({ v: 1, hwm: T, seen: { edge: T - ALERT_OVERLAP_MS, new: T - MIN }, seenSince: T - ALERT_OVERLAP_MS, savedAt: T + 1 });
    expect(state.seen.has('old')).toBe(false);
    expect(isAlertCheckpoint(JSON.parse(JSON.stringify(saved)))).toBe(true);
  });
  it('a complete run moves the mark to the window end', () => {
    const w = { from: T - DAY, to: T - MIN, overlap: ALERT_OVERLAP_MS };
    const state = { hwm: T - 2 * 60 * MIN, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: T - DAY, startHwm: T - 2 * 60 * MIN, startSeenSince: T - DAY };
    completeAlertWindow(state, w);
    expect(state.hwm).toBe(w.to);
    expect(planAlertWindow(alertCheckpoint(state, T), T + 5 * MIN, 1).from).toBe(w.to - ALERT_OVERLAP_MS);
  });
  it("the mark stops a minute before Sophos's clock when this host's runs ahead, and never moves back", () => {
    const w = { from: T - DAY, to: T - MIN, overlap: ALERT_OVERLAP_MS };
    const ahead = { hwm: T - 2 * 60 * MIN, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: T - DAY, startHwm: T - 2 * 60 * MIN, startSeenSince: T - DAY };
    completeAlertWindow(ahead, w, T - 20 * MIN);
    expect(ahead.hwm).toBe(T - 21 * MIN);
    const behind = { hwm: T - 2 * 60 * MIN, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: T - DAY, startHwm: T - 2 * 60 * MIN, startSeenSince: T - DAY };
    completeAlertWindow(behind, w, T + 20 * MIN);
    expect(behind.hwm).toBe(w.to);
    const past = { hwm: T - 10 * MIN, seen: new Map<string, number>(), overlap: ALERT_OVERLAP_MS, seenSince: T - DAY, startHwm: T - 10 * MIN, startSeenSince: T - DAY };
    completeAlertWindow(past, w, T - 20 * MIN);
    expect(past.hwm).toBe(T - 10 * MIN);
  });
  it('the checkpoint stays bounded across many runs', () => {
    let saved: AlertCheckpoint | undefined;
    let n = 0;
    for (let run = 0; run < 200; run++) {
      const start = T + run * 5 * MIN;
      const w = planAlertWindow(saved, start, 1);
      const s = alertStateFrom(saved, w);
      // 10 alerts per 5 minutes, each run sees the overlap again.
      const page = Array.from({ length: 10 }, () => ({ id: `a${n}`, raisedAt: start - 2 * MIN - (n++ % 10) * 1000 }));
      acceptAlertPage(s, page, w);
      completeAlertWindow(s, w);
      saved = alertCheckpoint(s, start);
    }
    expect(Object.keys(saved!.seen).length).toBeLessThanOrEqual(40);
  });
});

describe('isAlertCheckpoint', () => {
  const bad: unknown[] = [null, 1, 'x', {}, { v: 2, hwm: 1, seen: {}, savedAt: 1 }, { v: 1, hwm: 'x', seen: {}, savedAt: 1 }, { v: 1, hwm: 1, seen: { a: 'b' }, savedAt: 1 }, { v: 1, hwm: 1, savedAt: 1 }, { v: 1, hwm: 1, seen: {}, newest: 'x', savedAt: 1 }, { v: 1, hwm: 1, seen: {}, newest: null, savedAt: 1 }];
  for (const value of bad) it(`rejects ${JSON.stringify(value)}`, () => expect(isAlertCheckpoint(value)).toBe(false));
});
