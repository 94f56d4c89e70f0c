import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
import { tenantApi, token } from './test-http.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const HOUR = 3_600_000;

describe("SIEM events and alerts (cursor paging, 24 h retention), with siemStaleFromDate: 'clamp'", () => {
  let emu: Emulator;
  let api: ReturnType<typeof tenantApi>;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, eventsPerTenant: 2500, alertsPerTenant: 9000, tokenTtlSeconds: 365 * 86_400, siemStaleFromDate: 'clamp' });
    api = tenantApi(emu, await token(emu));
  });
  afterAll(() => emu.stop());

  async function drain(path: string, q: Record<string, string>): Promise<{ items: any[]; cursor: string; pages: number }> {
    const items: any[] = [];
    let params = q;
    let pages = 0;
    for (;;) {
      const res = await api.get(path, params);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['items', 'has_more', 'next_cursor']);
      items.push(...res.body.items);
      pages++;
      const { cursor: _old, from_date: _from, ...rest } = params;
      params = { ...rest, cursor: res.body.next_cursor };
      if (!res.body.has_more) return { items, cursor: res.body.next_cursor, pages };
    }
  }

  it('defaults to 200 items over the last 24 h, ordered by created_at, with has_more and next_cursor', async () => {
    const res = await api.get('/siem/v1/events');
    expect(res.body.items).toHaveLength(200);
    expect(res.body.has_more).toBe(true);
    expect(Buffer.from(res.body.next_cursor, 'base64').toString()).toMatch(/^V2_CURSOR\|\d{4}-\d\d-\d\dT[\d:.]+Z\|/);
    const created = res.body.items.map((e: any) => Date.parse(e.created_at));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(created[0]).toBeGreaterThanOrEqual(NOW - 24 * HOUR);
    expect(res.body.items.every((e: any) => e.customer_id === api.tenant.id)).toBe(true);
  });

  it('resuming from each next_cursor is exact: every event once; a drained feed still returns next_cursor', async () => {
    const { items, cursor, pages } = await drain('/siem/v1/events', { limit: '1000' });
    expect(pages).toBe(3);
    expect(items).toHaveLength(2500);
    expect(new Set(items.map((e) => e.id)).size).toBe(2500);
    const again = await api.get('/siem/v1/events', { cursor });
    expect(again.body).toEqual({ items: [], has_more: false, next_cursor: cursor });
  });

  it('takes a cursor in the documented form alone (base64 of V2_CURSOR|<ISO time>) and resumes at that time', async () => {
    const at = NOW - 3 * HOUR;
    const documented = Buffer.from(`V2_CURSOR|${new Date(at).toISOString()}`).toString('base64');
    const byCursor = await drain('/siem/v1/events', { limit: '1000', cursor: documented });
    const byDate = await drain('/siem/v1/events', { limit: '1000', from_date: String(at / 1000) });
    expect(byCursor.items.length).toBeGreaterThan(0);
    expect(byCursor.items.map((e: any) => e.id)).toEqual(byDate.items.map((e: any) => e.id));
  });

  it('limit over 1000 or malformed is 400; a bad cursor or from_date is 400', async () => {
    for (const q of [{ limit: '1001' }, { limit: '0' }, { cursor: 'bm9wZQ==' }, { from_date: '2025-03-01' }] as Array<Record<string, string>>) {
      const res = await api.get('/siem/v1/events', q);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(res.body.error).toBe('badRequest');
    }
  });

  it('from_date is inclusive; older than 24 h falls back to now-24h; ignored when a cursor is set', async () => {
    const all = (await drain('/siem/v1/events', { limit: '1000' })).items;
    const mid = all[1234];
    const fromSec = Math.ceil(Date.parse(mid.created_at) / 1000);
    const fromMid = (await drain('/siem/v1/events', { limit: '1000', from_date: String(fromSec) })).items;
    expect(fromMid[0].id).toBe(all.find((e) => Date.parse(e.created_at) >= fromSec * 1000)!.id);
    expect(fromMid.every((e) => Date.parse(e.created_at) >= fromSec * 1000)).toBe(true);
    const old = await drain('/siem/v1/events', { limit: '1000', from_date: String((NOW - 72 * HOUR) / 1000) });
    expect(old.items.map((e) => e.id)).toEqual(all.map((e) => e.id));
    const first = await api.get('/siem/v1/events', { limit: '10' });
    const withBoth = await api.get('/siem/v1/events', { limit: '10', cursor: first.body.next_cursor, from_date: String(fromSec) });
    expect(withBoth.body.items[0].id).toBe(all[10].id);
  });

  it('events older than 24 h on the emulator clock are gone; an old cursor resumes at now-24h', async () => {
    const first = await api.get('/siem/v1/events', { limit: '100' });
    emu.clock.advance(12 * HOUR);
    const later = await drain('/siem/v1/events', { limit: '1000', cursor: first.body.next_cursor });
    const oldest = Math.min(...later.items.map((e) => Date.parse(e.created_at)));
    expect(oldest).toBeGreaterThanOrEqual(NOW - 12 * HOUR);
    expect(later.items.length).toBeGreaterThan(1000);
    expect(later.items.length).toBeLessThan(1400);
    emu.clock.advance(-12 * HOUR);
  });

  it('events added while a collector runs appear after its cursor, in order', async () => {
    const { cursor } = await drain('/siem/v1/events', { limit: '1000' });
    emu.clock.advance(60_000);
    const added = emu.addEvents(api.tenant.id, 3);
    const more = emu.addEvents(api.tenant.id, 2, { when: NOW - 5 * 60_000 });
    const next = await api.get('/siem/v1/events', { cursor });
    expect(next.body.items).toEqual([...added, ...more]);
    expect(next.body.has_more).toBe(false);
    expect(more[0]!.when).toBe(new Date(NOW - 5 * 60_000).toISOString());
    expect(more[0]!.created_at).toBe(new Date(NOW + 60_000).toISOString());
    expect((await api.get('/siem/v1/events', { cursor: next.body.next_cursor })).body.items).toEqual([]);
    emu.clock.advance(-60_000);
  });

  it('exclude_types leaves those types out', async () => {
    const all = (await drain('/siem/v1/events', { limit: '1000' })).items;
    const noisy = ['Event::Endpoint::UpdateSuccess', 'Event::Endpoint::WebControlViolation'];
    const kept = (await drain('/siem/v1/events', { limit: '1000', exclude_types: noisy.join(',') })).items;
    expect(kept.map((e) => e.id)).toEqual(all.filter((e) => !noisy.includes(e.type)).map((e) => e.id));
    expect(kept.length).toBeLessThan(all.length * 0.8);
  });

  it('SIEM alerts: the last 24 h of alerts, in the SIEM shape, with ids of the Common alerts', async () => {
    const siem = (await drain('/siem/v1/alerts', { limit: '1000' })).items;
    expect(siem.length).toBeGreaterThan(50);
    expect(siem.every((a) => Date.parse(a.created_at) >= NOW - 24 * HOUR && a.event_service_event_id === a.id)).toBe(true);
    const common = (await api.get('/common/v1/alerts', { from: new Date(NOW - 24 * HOUR).toISOString(), sort: 'raisedAt:asc', pageSize: '1000' })).body.items;
    expect(siem.map((a) => a.id)).toEqual(common.map((a: any) => a.id));
    const [added] = emu.addAlerts(api.tenant.id, 1);
    const tail = await api.get('/siem/v1/alerts', { cursor: (await drain('/siem/v1/alerts', { limit: '1000' })).cursor });
    expect(tail.body.items).toEqual([]);
    const all = (await drain('/siem/v1/alerts', { limit: '1000' })).items;
    expect(all[all.length - 1].id).toBe(added!.id);
  });
});

describe('SIEM from_date in the future', () => {
  it("is refused with 400 in either mode: it is not 'within last 24 hours', and answered it would hand out a cursor that skips what comes before it", async () => {
    for (const siemStaleFromDate of ['clamp', 'reject'] as const) {
      const emu = await startEmulator({ now: NOW, siemStaleFromDate, tokenTtlSeconds: 365 * 86_400 });
      try {
        const api = tenantApi(emu, await token(emu));
        const ahead = await api.get('/siem/v1/events', { from_date: String(NOW / 1000 + 1) });
        expect(ahead.status).toBe(400);
        expect(ahead.body).toMatchObject({ error: 'badRequest', message: "Bad request. 'from_date' must be within last 24 hours." });
        expect((await api.get('/siem/v1/alerts', { from_date: String(NOW / 1000 + 3600) })).status).toBe(400);
        expect((await api.get('/siem/v1/events', { from_date: String(NOW / 1000) })).status).toBe(200);
      } finally {
        await emu.stop();
      }
    }
  });
});

describe("SIEM from_date older than 24 hours, with siemStaleFromDate: 'reject'", () => {
  it('is refused with 400, the boundary itself and a stale cursor still answered', async () => {
    const emu = await startEmulator({ now: NOW, siemStaleFromDate: 'reject', tokenTtlSeconds: 365 * 86_400 });
    try {
      const api = tenantApi(emu, await token(emu));
      const stale = await api.get('/siem/v1/events', { from_date: String((NOW - 24 * HOUR) / 1000 - 1) });
      expect(stale.status).toBe(400);
      expect(stale.body).toMatchObject({ error: 'badRequest', message: "Bad request. 'from_date' must be within last 24 hours." });
      expect((await api.get('/siem/v1/events', { from_date: String((NOW - 24 * HOUR) / 1000) })).status).toBe(200);
      const oldCursor = Buffer.from(`V2_CURSOR|${new Date(NOW - 30 * HOUR).toISOString()}`).toString('base64');
      expect((await api.get('/siem/v1/events', { cursor: oldCursor })).status).toBe(200);
    } finally {
      await emu.stop();
    }
  });
});
