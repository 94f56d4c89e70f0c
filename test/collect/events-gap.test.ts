// The events collector's check for a position the SIEM API dropped without a word (§6): judged on every page,
// at the time the API answered that page (its Date), from where that page's request stood.
import { describe, expect, it } from 'vitest';
import type { CursorPage, TenantApi } from '../../src/central/types.js';
import { BadRequestError } from '../../src/errors.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { collectEvents } from '../../src/collect/events.js';
import type { SiemCheckpoint } from '../../src/collect/siem-position.js';
import type { OutRecord } from '../../src/collect/sink.js';
import type { Logger } from '../../src/log.js';
import { MemorySink } from './memory-sink.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const event = (id: string, created: number) => ({ id, type: 'Event::Endpoint::Threat', when: new Date(created).toISOString(), created_at: new Date(created).toISOString() });

/** A tenant whose SIEM stream serves `pages`, each answered (its Date) at the clock's time when it is fetched. */
function tenantServing(pages: CursorPage<Record<string, unknown>>[], clock: { t: number }): TenantApi {
  return {
    tenant: { id: 't1', name: 'Tenant one', apiHost: 'https://api-eu01.central.sophos.com', dataRegion: 'eu01', raw: {} },
    async *siemEventPages() {
      for (const page of pages) yield { ...page, serverTime: Math.floor(clock.t / 1000) * 1000 };
    },
  } as unknown as TenantApi;
}

/** A sink whose writes of events take `ms` of the clock (a splunkd pipe that drains slowly). */
class SlowSink extends MemorySink {
  constructor(
    private readonly clock: { t: number },
    private readonly ms: number,
  ) {
    super();
  }

  override async write(records: OutRecord[]): Promise<void> {
    if (records.some((r) => r.sourcetype === 'sophos:central:events')) this.clock.t += this.ms;
    await super.write(records);
  }
}

describe('collectEvents: data gaps on later pages', () => {
  const P = T - 24 * HOUR + 2 * MIN; // a cursor 23h58m old: trusted

  it('a page fetched ahead, answered in time but handled after a slow write of the page before: no gap', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, cursor: 'c0', position: P, savedAt: T - HOUR } satisfies SiemCheckpoint);
    const pages = [
      { items: [event('a', P + 1000)], cursor: 'c1', hasMore: true },
      { items: [event('b', P + 2000)], cursor: 'c2', hasMore: false },
    ];
    // The pager has page 2 in hand (fetched ahead) before page 1 is written, which takes three minutes.
    const api = tenantServing(pages, clock);
    const sink = new SlowSink(clock, 3 * MIN);
    const result = await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.events).toBe(2);
    expect(sink.health('data_gap')).toEqual([]);
  });

  it('a later page the API answered after its position aged past 24 hours: a gap from that position', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, cursor: 'c0', position: P, savedAt: T - HOUR } satisfies SiemCheckpoint);
    const pages = [{ items: [event('a', P + 1000)], cursor: 'c1', hasMore: true }, { items: [event('z', T - HOUR)], cursor: 'c2', hasMore: false }];
    const api = {
      ...tenantServing([], clock),
      async *siemEventPages() {
        yield { ...pages[0]!, serverTime: T };
        // Retries held the request for page 2 five minutes.
        clock.t = T + 5 * MIN;
        yield { ...pages[1]!, serverTime: T + 5 * MIN };
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(sink.health('data_gap')).toEqual([
      expect.objectContaining({ gap_start: new Date(P + 1000).toISOString(), gap_end: new Date(T + 5 * MIN + 999 - 24 * HOUR).toISOString() }),
    ]);
  });

  it('a saved cursor past 24 hours whose first page is empty with more to come: its span is reported once, a later page only adds what aged since', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, cursor: 'c0', position: T - 30 * HOUR, savedAt: T - 30 * HOUR } satisfies SiemCheckpoint);
    const api = {
      ...tenantServing([], clock),
      async *siemEventPages() {
        yield { items: [], cursor: 'c1', hasMore: true, serverTime: T };
        clock.t = T + 2000;
        yield { items: [event('e1', T - 23 * HOUR)], cursor: 'c2', hasMore: false, serverTime: T + 2000 };
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    const result = await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.events).toBe(1);
    const gaps = sink.health('data_gap').map((g) => [Date.parse(g.gap_start as string), Date.parse(g.gap_end as string)]);
    expect(gaps[0]).toEqual([T - 30 * HOUR, T + 999 - 24 * HOUR]);
    // Never the same span twice: whatever follows starts where the first ended.
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]![0]).toBe(gaps[i - 1]![1]);
    expect(gaps.length).toBeLessThanOrEqual(2);
  });

  it.each([
    ['a first run', undefined, []],
    // The fresh one is asked the five minutes the refused one took further inside the 24 hours: the same retries would age it too.
    ['a restart from a position without a cursor', T - 24 * HOUR + 2 * MIN, [[T - 24 * HOUR + 2 * MIN, T + 5 * MIN - 24 * HOUR + 6 * MIN]]],
  ] as const)('%s whose from_date the API refused as too old after retries asks again from a fresh one, as far further inside as the refused one took', async (_name, position, gaps) => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    if (position !== undefined) await store.save('k', { v: 2, position, savedAt: T - HOUR } satisfies SiemCheckpoint);
    const asked: Array<number | undefined> = [];
    const api = {
      ...tenantServing([], clock),
      async *siemEventPages(q: { fromDate?: number }) {
        asked.push(q.fromDate);
        if (asked.length === 1) {
          // Retried for five minutes, then refused: the from_date had aged past the 24 hours.
          clock.t = T + 5 * MIN;
          throw new BadRequestError("'from_date' must be within last 24 hours", { status: 400 });
        }
        yield { items: [event('e1', T - HOUR)], cursor: 'c1', hasMore: false, serverTime: clock.t };
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    const result = await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.events).toBe(1);
    expect(asked).toEqual([Math.floor((position ?? T - 24 * HOUR + MIN) / 1000), (T + 5 * MIN - 24 * HOUR + 6 * MIN) / 1000]);
    expect(sink.health('data_gap').map((g) => [Date.parse(g.gap_start as string), Date.parse(g.gap_end as string)])).toEqual(gaps);
  });

  // The API's answer to a from_date past its 24 hours is an open question (§6): answered from its last 24 hours
  // ('clamp') or refused ('reject'). Retries hold the nth request `heldMs(n)` (default: the first 70 s, past the
  // minute's margin); an answered request gets one page of `items`.
  const agingApi = (
    clock: { t: number },
    mode: 'clamp' | 'reject',
    asked: Array<{ fromDate?: number; cursor?: string }> = [],
    heldMs: (n: number) => number = (n) => (n === 1 ? 70_000 : 0),
    items: Record<string, unknown>[] = [],
  ) =>
    ({
      ...tenantServing([], clock),
      async *siemEventPages(q: { fromDate?: number; cursor?: string }) {
        asked.push(q);
        clock.t += heldMs(asked.length);
        if (q.cursor === 'refused') throw new BadRequestError('invalid cursor', { status: 400 });
        if (mode === 'reject' && q.fromDate !== undefined && q.fromDate * 1000 < clock.t - 24 * HOUR) throw new BadRequestError("'from_date' must be within last 24 hours", { status: 400 });
        yield { items, cursor: 'c1', hasMore: false, serverTime: Math.floor(clock.t / 1000) * 1000 };
      },
    }) as unknown as TenantApi;

  it.each(['clamp', 'reject'] as const)('a first run whose from_date aged while retried (%s): no gap, nothing before the oldest the API takes being owed', async (mode) => {
    const clock = { t: T };
    const sink = new MemorySink();
    const result = await collectEvents(agingApi(clock, mode), { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.pages).toBe(1);
    expect(sink.health('data_gap')).toEqual([]);
  });

  it('a first run whose from_date and fresh one are each held past the minute by retries: the fresh one, asked further inside, is answered', async () => {
    const clock = { t: T };
    const asked: Array<{ fromDate?: number }> = [];
    const api = agingApi(clock, 'reject', asked, () => 70_000, [event('e1', T - HOUR)]);
    const sink = new MemorySink();
    const result = await collectEvents(api, { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.events).toBe(1);
    expect(asked.map((q) => q.fromDate)).toEqual([(T - 24 * HOUR + MIN) / 1000, (T + 70_000 - 24 * HOUR + MIN + 70_000) / 1000]);
    expect(sink.health('data_gap')).toEqual([]);
  });

  it('a from_date refused after a day of waiting is asked again at most ten minutes further inside, never from the future', async () => {
    const clock = { t: T };
    const asked: Array<{ fromDate?: number }> = [];
    const api = agingApi(clock, 'reject', asked, (n) => (n === 1 ? 25 * HOUR : 0));
    await collectEvents(api, { sink: new MemorySink(), store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(asked.map((q) => q.fromDate)).toEqual([(T - 24 * HOUR + MIN) / 1000, (T + 25 * HOUR - 24 * HOUR + 11 * MIN) / 1000]);
  });

  it('a first run whose first page, answered after retries, is empty with more to come: no gap on the next page either', async () => {
    const clock = { t: T };
    const api = {
      ...tenantServing([], clock),
      async *siemEventPages() {
        clock.t += 5 * MIN;
        yield { items: [], cursor: 'c1', hasMore: true, serverTime: clock.t };
        yield { items: [event('e1', T - HOUR)], cursor: 'c2', hasMore: false, serverTime: clock.t };
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    const result = await collectEvents(api, { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.events).toBe(1);
    expect(sink.health('data_gap')).toEqual([]);
  });

  it('a checkpoint set aside, then a from_date refused after retries: the span between the reset and the fresh from_date is a gap', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 9 });
    const sink = new MemorySink();
    await collectEvents(agingApi(clock, 'reject'), { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    const [reset] = sink.health('checkpoint_reset');
    const gaps = sink.health('data_gap');
    expect(gaps).toEqual([expect.objectContaining({ gap_start: reset!.restart_from })]);
    expect(Date.parse(gaps[0]!.gap_end as string)).toBe(T + 70_000 - 24 * HOUR + MIN + 70_000);
  });

  it('a refused cursor after retries falls back from a from_date fresh at that time, not at the run\'s start', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, cursor: 'refused', position: T - 30 * HOUR, savedAt: T - 30 * HOUR } satisfies SiemCheckpoint);
    const asked: Array<{ fromDate?: number; cursor?: string }> = [];
    const sink = new MemorySink();
    const result = await collectEvents(agingApi(clock, 'reject', asked), { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(result.pages).toBe(1);
    expect(asked[1]).toMatchObject({ fromDate: (T + 70_000 - 24 * HOUR + MIN) / 1000 });
  });

  it('an earlier release\'s checkpoint, read two ways with the clock ahead: an empty first page does not make the later reading a gap', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    // Trusted on its later reading (moved by the 3 minutes the host is ahead), 30 s past the 24 hours on the earlier.
    await store.save('k', { v: 1, cursor: 'c0', position: T - 24 * HOUR - 30_000, savedAt: T - HOUR } satisfies SiemCheckpoint);
    const api = tenantServing(
      [
        { items: [], cursor: 'c1', hasMore: true },
        { items: [event('b', T - 3 * MIN - HOUR)], cursor: 'c2', hasMore: false },
      ],
      { t: T - 3 * MIN },
    );
    const sink = new MemorySink();
    await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t, clockSkewMs: () => 3 * MIN });
    expect(sink.health('data_gap')).toEqual([]);
  });
});

describe('collectEvents: <time>', () => {
  it('is when; without a usable when, created_at; without either, the time the page was asked for', async () => {
    const clock = { t: T };
    const at = (ms: number) => new Date(ms).toISOString();
    const items = [
      { id: 'w', when: at(T - 3 * HOUR), created_at: at(T - 2 * HOUR) },
      { id: 'c', created_at: at(T - 2 * HOUR) },
      { id: 'bad', when: 'garbage', created_at: at(T - HOUR) },
      { id: 'none' },
    ];
    const sink = new MemorySink();
    await collectEvents(tenantServing([{ items, cursor: 'c1', hasMore: false }], clock), { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(sink.of('sophos:central:events').map((r) => r.time)).toEqual([(T - 3 * HOUR) / 1000, (T - 2 * HOUR) / 1000, (T - HOUR) / 1000, T / 1000]);
  });
});

describe('collectEvents: data', () => {
  it('is each event as the API sent it with the tenant appended, also handed over as those two pieces', async () => {
    const texts = ['{"id":"a","when":"2025-01-10T11:00:00.000Z"}', '{"id":"b","n":[1,{"x":"y"}]}'];
    const items = texts.map((t) => JSON.parse(t) as Record<string, unknown>);
    const sink = new MemorySink();
    const page = { items, texts, heads: items, cursor: 'c1', hasMore: false };
    await collectEvents(tenantServing([page], { t: T }), { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger, now: () => T });
    const tenant = ',"tenant":{"id":"t1","name":"Tenant one"}}';
    const events = sink.of('sophos:central:events');
    expect(events.map((r) => r.data)).toEqual(texts.map((t) => t.slice(0, -1) + tenant));
    expect(events.map((r) => r.pieces)).toEqual(texts.map((t) => [t.slice(0, -1), tenant]));
  });
});

describe('collectEvents: a page asked for ahead (pages.ts), before the loop asked the pager for it', () => {
  it('dates the page by when its request was asked for: a caught-up page answered without a Date keeps the position there', async () => {
    const clock = { t: T };
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 2, cursor: 'c0', position: T - HOUR, savedAt: T - HOUR } satisfies SiemCheckpoint);
    const api = {
      tenant: { id: 't1', name: 'Tenant one', apiHost: 'https://api-eu01.central.sophos.com', dataRegion: 'eu01', raw: {} },
      async *siemEventPages() {
        // Page 2 was asked for 2 s in, as page 1's text came; page 1 is handed on 8 s later, after a slow scan.
        clock.t = T + 10_000;
        yield { items: [event('a', T - 30 * MIN)], cursor: 'c1', hasMore: true, askedAt: T };
        yield { items: [], cursor: 'c2', hasMore: false, askedAt: T + 2_000 };
      },
    } as unknown as TenantApi;
    const sink = new MemorySink();
    await collectEvents(api, { sink, store, key: 'k', stanza: 's', logger, now: () => clock.t });
    expect(await store.load<SiemCheckpoint>('k')).toMatchObject({ cursor: 'c2', position: T + 2_000 });
  });
});
