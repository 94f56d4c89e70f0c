import { describe, expect, it } from 'vitest';
import {
  isSiemCheckpoint,
  planSiemStart,
  resumeByDate,
  SIEM_FROM_DATE_WINDOW_MS,
  SIEM_WINDOW_MS,
  siemCheckpointAfterPage,
  siemReadings,
  silentGap,
  type SiemCheckpoint,
} from '../../src/collect/siem-position.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);

describe('planSiemStart', () => {
  const oldest = T - SIEM_FROM_DATE_WINDOW_MS;
  const cases: Array<{ name: string; checkpoint?: SiemCheckpoint; expected: ReturnType<typeof planSiemStart> }> = [
    { name: 'first run: from_date a minute inside 24 h', expected: { fromDate: oldest } },
    { name: 'a fresh cursor resumes', checkpoint: { v: 1, cursor: 'c1', position: T - HOUR, savedAt: T - HOUR }, expected: { cursor: 'c1' } },
    { name: 'a cursor older than a from_date may be resumes', checkpoint: { v: 1, cursor: 'c2', position: oldest - 5 * MIN, savedAt: oldest - 5 * MIN }, expected: { cursor: 'c2' } },
    // The API answers it from its last 24 hours, a minute more than a restart by from_date would reach; the
    // first page's Date says what it skipped (silentGap).
    { name: 'a cursor past 24 h still resumes', checkpoint: { v: 1, cursor: 'c3', position: T - SIEM_WINDOW_MS - 30_000, savedAt: T - 25 * HOUR }, expected: { cursor: 'c3' } },
    { name: 'a cursor three days old still resumes', checkpoint: { v: 1, cursor: 'c4', position: T - 72 * HOUR, savedAt: T - 72 * HOUR }, expected: { cursor: 'c4' } },
    { name: 'a position without a cursor (after a gap) restarts from that position', checkpoint: { v: 1, position: T - 2 * HOUR, savedAt: T - 2 * HOUR }, expected: { fromDate: T - 2 * HOUR } },
    { name: 'a position without a cursor at the from_date bound restarts from it', checkpoint: { v: 1, position: oldest, savedAt: oldest }, expected: { fromDate: oldest } },
    { name: 'a position without a cursor older than a from_date may be is a gap up to the bound', checkpoint: { v: 1, position: oldest - 5 * MIN, savedAt: oldest - 5 * MIN }, expected: { fromDate: oldest, gap: { start: oldest - 5 * MIN, end: oldest } } },
  ];
  for (const c of cases) it(c.name, () => expect(planSiemStart(c.checkpoint, T)).toEqual(c.expected));
  it('a from_date stays a minute inside the API window: as far back as it allows, with time for the request to arrive', () => {
    expect(SIEM_WINDOW_MS - SIEM_FROM_DATE_WINDOW_MS).toBe(MIN);
  });
});

describe('silentGap', () => {
  it("is the span that had left the API's 24 hours when the first page arrived", () => {
    expect(silentGap(T - SIEM_WINDOW_MS + 5000, T)).toBeUndefined();
    expect(silentGap(T - SIEM_WINDOW_MS, T)).toBeUndefined();
    expect(silentGap(T - SIEM_WINDOW_MS - 1, T)).toEqual({ start: T - SIEM_WINDOW_MS - 1, end: T - SIEM_WINDOW_MS });
    expect(silentGap(T - SIEM_WINDOW_MS - 90_000, T)).toEqual({ start: T - SIEM_WINDOW_MS - 90_000, end: T - SIEM_WINDOW_MS });
  });
});

describe('siemReadings', () => {
  it('reads a v1 position both ways: the later to trust, the earlier to resume; a v2 one as it is', () => {
    const v1: SiemCheckpoint = { v: 1, cursor: 'c', position: T - HOUR, savedAt: T };
    expect(siemReadings(v1, 10 * MIN, T)).toEqual({ trust: v1, resume: { ...v1, position: T - HOUR - 10 * MIN } });
    expect(siemReadings(v1, -10 * MIN, T)).toEqual({ trust: { ...v1, position: T - HOUR + 10 * MIN }, resume: v1 });
    const v2: SiemCheckpoint = { ...v1, v: 2 };
    expect(siemReadings(v2, 10 * MIN, T)).toEqual({ trust: v2, resume: v2 });
    expect(siemReadings(undefined, 10 * MIN, T)).toEqual({ trust: undefined, resume: undefined });
  });

  it('reads a position after the run started (an item dated in the future put it there) as the time it was saved', () => {
    const future: SiemCheckpoint = { v: 2, cursor: 'c', position: T + 365 * 24 * HOUR, savedAt: T - 3 * 24 * HOUR };
    const { trust } = siemReadings(future, 0, T);
    expect(trust).toEqual({ ...future, position: T - 3 * 24 * HOUR });
    // Three days old: what the API no longer has is a gap from there, once it answers.
    expect(silentGap(trust!.position, T)).toEqual({ start: T - 3 * 24 * HOUR, end: T - SIEM_WINDOW_MS });
  });
});

describe('resumeByDate', () => {
  it('starts at the position, or at the oldest the API takes with the span before it as a gap', () => {
    expect(resumeByDate(T - HOUR, T)).toEqual({ fromDate: T - HOUR });
    const oldest = T - SIEM_FROM_DATE_WINDOW_MS;
    expect(resumeByDate(oldest - 2 * HOUR, T)).toEqual({ fromDate: oldest, gap: { start: oldest - 2 * HOUR, end: oldest } });
  });
});

describe('after a refused cursor', () => {
  it("resumes by from_date at the cursor's position, or at the oldest allowed with the span before it as a gap", () => {
    expect(planSiemStart({ v: 2, position: T - HOUR, savedAt: T }, T)).toEqual({ fromDate: T - HOUR });
    const oldest = T - SIEM_FROM_DATE_WINDOW_MS;
    expect(planSiemStart({ v: 2, position: oldest - MIN, savedAt: T }, T)).toEqual({ fromDate: oldest, gap: { start: oldest - MIN, end: oldest } });
  });
});

describe('siemCheckpointAfterPage', () => {
  const cases: Array<{ name: string; prev: number; page: Parameters<typeof siemCheckpointAfterPage>[1]; position: number }> = [
    { name: 'more to come: the newest created_at written', prev: T - 5 * HOUR, page: { cursor: 'n', hasMore: true, newestCreated: T - 4 * HOUR, requestedAt: T }, position: T - 4 * HOUR },
    { name: 'caught up: the time the page was asked for', prev: T - 5 * HOUR, page: { cursor: 'n', hasMore: false, newestCreated: T - 4 * HOUR, requestedAt: T - MIN }, position: T - MIN },
    { name: 'an empty page with more to come keeps the position', prev: T - 5 * HOUR, page: { cursor: 'n', hasMore: true, newestCreated: undefined, requestedAt: T }, position: T - 5 * HOUR },
    { name: 'caught up, asked for before the position (the clock stepped back since): it stays', prev: T - MIN, page: { cursor: 'n', hasMore: false, newestCreated: undefined, requestedAt: T - HOUR }, position: T - MIN },
    { name: 'the position never moves back', prev: T - HOUR, page: { cursor: 'n', hasMore: true, newestCreated: T - 2 * HOUR, requestedAt: T }, position: T - HOUR },
    { name: 'an item dated after the page was asked for moves it no further than then', prev: T - HOUR, page: { cursor: 'n', hasMore: true, newestCreated: T + 365 * 24 * HOUR, requestedAt: T }, position: T },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const saved = siemCheckpointAfterPage(c.prev, c.page, T + 1);
      expect(saved).toEqual({ v: 2, cursor: 'n', position: c.position, savedAt: T + 1 });
      expect(isSiemCheckpoint(JSON.parse(JSON.stringify(saved)))).toBe(true);
    });
  }
});

describe('isSiemCheckpoint', () => {
  const bad: unknown[] = [undefined, null, [], { v: 1, cursor: 5, position: 1, savedAt: 1 }, { v: 1, position: Number.NaN, savedAt: 1 }, { v: 1, position: 1 }, { cursor: 'x' }, { v: 3, position: 1, savedAt: 1 }];
  for (const value of bad) it(`rejects ${JSON.stringify(value)}`, () => expect(isSiemCheckpoint(value)).toBe(false));
});

describe('an empty cursor', () => {
  it('is not saved, and a run resumes from the position instead', () => {
    const saved = siemCheckpointAfterPage(T - HOUR, { cursor: '', hasMore: false, newestCreated: undefined, requestedAt: T - MIN }, T);
    expect(saved.cursor).toBeUndefined();
    expect(planSiemStart(saved, T + MIN)).toEqual({ fromDate: T - MIN });
    expect(planSiemStart({ v: 1, cursor: '', position: T - HOUR, savedAt: T }, T)).toEqual({ fromDate: T - HOUR });
  });
});
