import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
import { call, tenantApi, token } from './test-http.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const DAY = 86_400_000;

/** Every item of a key-paged list, following nextKey to the end. */
async function keyPaged(api: ReturnType<typeof tenantApi>, path: string, q: Record<string, string>): Promise<any[]> {
  const items: any[] = [];
  let key: string | undefined;
  do {
    const res = await api.get(path, key ? { ...q, pageFromKey: key } : q);
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    key = res.body.pages.nextKey;
  } while (key);
  return items;
}

describe('tenant lists (page-number paging)', () => {
  let emu: Emulator;
  let get: (q: string) => ReturnType<typeof call>;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, tenants: 120 });
    const auth = { authorization: `Bearer ${await token(emu)}` };
    const who = await call(`${emu.apiUrl}/whoami/v1`, auth);
    get = (q) => call(`${emu.apiUrl}/partner/v1/tenants${q}`, { ...auth, 'x-partner-id': who.body.id });
  });
  afterAll(() => emu.stop());

  it('pages {current,size,maxSize}; total and items only with pageTotal=true', async () => {
    const first = await get('');
    expect(first.body.items).toHaveLength(50);
    expect(first.body.pages).toEqual({ current: 1, size: 50, maxSize: 100 });
    const counted = await get('?pageTotal=true&pageSize=50');
    expect(counted.body.pages).toEqual({ current: 1, size: 50, total: 3, items: 120, maxSize: 100 });
  });

  it('walks every tenant once; the last page is short; past the end is empty with current > total', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) seen.push(...(await get(`?page=${page}&pageSize=50`)).body.items.map((t: { id: string }) => t.id));
    expect(seen).toEqual(emu.tenants.map((t) => t.id));
    expect((await get('?page=3&pageSize=50')).body.items).toHaveLength(20);
    const past = await get('?page=4&pageSize=50&pageTotal=true');
    expect(past.body).toEqual({ items: [], pages: { current: 4, size: 50, total: 3, items: 120, maxSize: 100 } });
  });

  it('400 badRequest for a page size over 100 or a bad page number', async () => {
    for (const q of ['?pageSize=101', '?pageSize=0', '?page=0', '?page=x']) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      expect(res.body.error).toBe('badRequest');
    }
    expect((await get('?pageSize=100')).body.items).toHaveLength(100);
  });

  it('tenant items carry the fixture keys and an apiHost of their region', async () => {
    const t = (await get('?pageSize=2')).body.items[1];
    expect(Object.keys(t)).toEqual(['id', 'name', 'dataGeography', 'dataRegion', 'billingType', 'partner', 'organization', 'apiHost', 'status']);
    expect(t.apiHost).toBe(emu.regionUrls[t.dataRegion]);
  });

  // Last: it changes the list for good.
  it('a removed tenant leaves the list, and the tenants after it move up a place', async () => {
    const ids = emu.tenants.map((t) => t.id);
    emu.removeTenant(ids[10]!);
    emu.removeTenant(ids[10]!);
    const first = await get('?page=1&pageSize=50&pageTotal=true');
    expect(first.body.pages).toMatchObject({ total: 3, items: 119 });
    expect(first.body.items.map((t: { id: string }) => t.id)).toEqual([...ids.slice(0, 10), ...ids.slice(11, 51)]);
  });
});

describe('endpoints (key paging and filters)', () => {
  let emu: Emulator;
  let tok: string;
  let api: ReturnType<typeof tenantApi>;
  beforeAll(async () => {
    // A token that outlives the clock moves below.
    emu = await startEmulator({ now: NOW, tenants: 3, endpointsPerTenant: 1200, tokenTtlSeconds: 365 * 86_400 });
    tok = await token(emu);
    api = tenantApi(emu, tok);
  });
  afterAll(() => emu.stop());

  const all = (q: Record<string, string>) => keyPaged(api, '/endpoint/v1/endpoints', q);

  it('walks every endpoint once in pages of at most 500; the last page has no nextKey', async () => {
    const first = await api.get('/endpoint/v1/endpoints', { pageSize: '500' });
    expect(first.body.items).toHaveLength(500);
    expect(first.body.pages).toEqual({ nextKey: first.body.pages.nextKey, size: 500, maxSize: 500 });
    const second = await api.get('/endpoint/v1/endpoints', { pageSize: '500', pageFromKey: first.body.pages.nextKey });
    expect(second.body.pages.fromKey).toBe(first.body.pages.nextKey);
    const items = await all({ pageSize: '500' });
    expect(items).toHaveLength(1200);
    expect(new Set(items.map((e) => e.id)).size).toBe(1200);
    expect(items.every((e) => e.tenant.id === api.tenant.id)).toBe(true);
  });

  it('defaults to 50 per page and counts with pageTotal=true', async () => {
    const res = await api.get('/endpoint/v1/endpoints', { pageTotal: 'true' });
    expect(res.body.items).toHaveLength(50);
    expect(res.body.pages).toMatchObject({ size: 50, total: 24, items: 1200, maxSize: 500 });
  });

  it('400 badRequest for a page size over 500, a bad key, a bad view, a bad health status or a bad date', async () => {
    for (const q of [{ pageSize: '501' }, { pageFromKey: 'garbage' }, { view: 'everything' }, { healthStatus: 'good,great' },
      { lastSeenBefore: 'yesterday' }, { lastSeenAfter: '-P' }, { ids: 'not-a-uuid' }] as Array<Record<string, string>>) {
      const res = await api.get('/endpoint/v1/endpoints', q);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['correlationId', 'error', 'message', 'requestId']);
      expect(res.body.error).toBe('badRequest');
    }
  });

  it('ignores unknown parameters', async () => {
    const res = await api.get('/endpoint/v1/endpoints', { pageSize: '3', sort: 'hostname:asc', frobnicate: '1' });
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(3);
  });

  it('an empty tenant and a tenant of exactly one full page have no nextKey', async () => {
    const empty = await startEmulator({ now: NOW, endpointsPerTenant: 0 });
    const exact = await startEmulator({ now: NOW, endpointsPerTenant: 500 });
    try {
      const e = await tenantApi(empty, await token(empty)).get('/endpoint/v1/endpoints', { pageSize: '500' });
      expect(e.body).toEqual({ items: [], pages: { size: 500, maxSize: 500 } });
      const x = await tenantApi(exact, await token(exact)).get('/endpoint/v1/endpoints', { pageSize: '500' });
      expect(x.body.items).toHaveLength(500);
      expect(x.body.pages).toEqual({ size: 500, maxSize: 500 });
    } finally {
      await Promise.all([empty.stop(), exact.stop()]);
    }
  });

  it('lastSeenBefore is exclusive and lastSeenAfter inclusive, as date-times and as signed durations', async () => {
    const everyone = await all({ pageSize: '500' });
    const [a, b] = [everyone[10], everyone[11]];
    const at = NOW - 40 * DAY;
    emu.setEndpointLastSeen(api.tenant.id, a.id, at);
    emu.setEndpointLastSeen(api.tenant.id, b.id, at - 1);
    const iso = new Date(at).toISOString();
    const before = await all({ pageSize: '500', lastSeenBefore: iso, view: 'basic' });
    const after = await all({ pageSize: '500', lastSeenAfter: iso, view: 'basic' });
    expect(before.map((e) => e.id)).toContain(b.id);
    expect(before.map((e) => e.id)).not.toContain(a.id);
    expect(after.map((e) => e.id)).toContain(a.id);
    expect(before.length + after.length).toBe(1200);
    // The same instant as a duration relative to the emulator clock: -P40D.
    expect((await all({ pageSize: '500', lastSeenBefore: '-P40D' })).map((e) => e.id)).toEqual(before.map((e) => e.id));
    expect((await all({ pageSize: '500', lastSeenAfter: '-P39DT24H0M0S' })).length).toBe(after.length);
    // Stale and recent devices both exist, with lastSeenAt in the API's format.
    const stale = await all({ pageSize: '500', lastSeenBefore: '-P90D' });
    expect(stale.length).toBeGreaterThan(20);
    expect(stale.length).toBeLessThan(300);
    for (const e of stale) expect(Date.parse(e.lastSeenAt)).toBeLessThan(NOW - 90 * DAY);
    expect(everyone[0].lastSeenAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The clock moves the reference point of durations.
    emu.clock.advance(DAY);
    expect((await all({ pageSize: '500', lastSeenBefore: '-P41D' })).map((e) => e.id)).toEqual(before.map((e) => e.id));
    emu.clock.advance(-DAY);
  });

  it('healthStatus takes a comma list; ids selects endpoints', async () => {
    const bad = await all({ pageSize: '500', healthStatus: 'bad' });
    const badOrSusp = await all({ pageSize: '500', healthStatus: 'bad,suspicious' });
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((e) => e.health.overall === 'bad')).toBe(true);
    expect(badOrSusp.length).toBeGreaterThan(bad.length);
    expect(badOrSusp.every((e) => ['bad', 'suspicious'].includes(e.health.overall))).toBe(true);
    const ids = [bad[0].id, badOrSusp[badOrSusp.length - 1].id];
    const picked = await all({ ids: ids.join(',') });
    expect(picked.map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('view basic has id,type,tenant,hostname; full adds fields to summary; fields picks', async () => {
    const basic = (await api.get('/endpoint/v1/endpoints', { pageSize: '1', view: 'basic' })).body.items[0];
    expect(Object.keys(basic)).toEqual(['id', 'type', 'tenant', 'hostname']);
    const summary = (await api.get('/endpoint/v1/endpoints', { pageSize: '1' })).body.items[0];
    const full = (await api.get('/endpoint/v1/endpoints', { pageSize: '1', view: 'full' })).body.items[0];
    expect(Object.keys(full)).toEqual(expect.arrayContaining(Object.keys(summary)));
    expect(Object.keys(full).length).toBeGreaterThan(Object.keys(summary).length);
    const picked = (await api.get('/endpoint/v1/endpoints', { pageSize: '1', fields: 'id,hostname,os.build' })).body.items[0];
    expect(picked).toEqual({ id: summary.id, hostname: summary.hostname, os: { build: summary.os.build } });
  });

  it('GET one endpoint, DELETE it for good, then 404', async () => {
    const api2 = tenantApi(emu, tok, 2);
    const target = (await api2.get('/endpoint/v1/endpoints', { pageSize: '3' })).body.items[2];
    expect((await api2.get(`/endpoint/v1/endpoints/${target.id}`)).body).toEqual(target);
    // Another tenant's endpoint is not found through this tenant.
    expect((await api.get(`/endpoint/v1/endpoints/${target.id}`)).status).toBe(404);
    const del = await api2.del(`/endpoint/v1/endpoints/${target.id}`);
    expect(del).toMatchObject({ status: 200, body: { deleted: true } });
    const gone = await api2.get(`/endpoint/v1/endpoints/${target.id}`);
    expect(gone.status).toBe(404);
    expect(Object.keys(gone.body).sort()).toEqual(['correlationId', 'error', 'message', 'requestId']);
    expect(gone.body).toMatchObject({ error: 'notFound', message: 'Resource not found.' });
    expect((await api2.del(`/endpoint/v1/endpoints/${target.id}`)).status).toBe(404);
    const rest = (await api2.get('/endpoint/v1/endpoints', { pageSize: '500', view: 'basic' })).body.items.map((e: { id: string }) => e.id);
    expect(rest).not.toContain(target.id);
    expect(emu.requests.filter((r) => r.route === 'endpoint-delete').map((r) => r.status)).toEqual([200, 404]);
  });
});

describe('Common alerts (key paging over raisedAt)', () => {
  let emu: Emulator;
  let api: ReturnType<typeof tenantApi>;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, alertsPerTenant: 250, alertsMaxPageSize: 100, tokenTtlSeconds: 365 * 86_400 });
    api = tenantApi(emu, await token(emu));
  });
  afterAll(() => emu.stop());

  const all = (q: Record<string, string>) => keyPaged(api, '/common/v1/alerts', q);

  it('raisedAt:asc walks every alert once in time order over the last 90 days', async () => {
    const items = await all({ sort: 'raisedAt:asc', pageSize: '100' });
    expect(items).toHaveLength(250);
    expect(new Set(items.map((a) => a.id)).size).toBe(250);
    const times = items.map((a) => Date.parse(a.raisedAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times[0]).toBeGreaterThanOrEqual(NOW - 90 * DAY);
    expect(times[249]).toBeLessThan(NOW);
    expect(items.every((a) => a.tenant.id === api.tenant.id && a.tenant.name === api.tenant.name)).toBe(true);
    const desc = await all({ sort: 'raisedAt:desc', pageSize: '100' });
    expect(desc.map((a) => a.id)).toEqual(items.map((a) => a.id).reverse());
  });

  it("alertsOrder 'newest-first' answers newest first whatever sort asks", async () => {
    const other = await startEmulator({ now: NOW, alertsPerTenant: 250, alertsMaxPageSize: 100, tokenTtlSeconds: 365 * 86_400, alertsOrder: 'newest-first' });
    try {
      const otherApi = tenantApi(other, await token(other));
      const items = await keyPaged(otherApi, '/common/v1/alerts', { sort: 'raisedAt:asc', pageSize: '100' });
      const times = items.map((a) => Date.parse(a.raisedAt));
      expect(items).toHaveLength(250);
      expect(times).toEqual([...times].sort((x, y) => y - x));
    } finally {
      await other.stop();
    }
  });

  it('nextKey is a numeric string; pages carry size and maxSize', async () => {
    const res = await api.get('/common/v1/alerts', { sort: 'raisedAt:asc', pageSize: '3' });
    expect(res.body.pages).toEqual({ nextKey: expect.stringMatching(/^\d+$/), size: 3, maxSize: 100 });
  });

  it('from is inclusive and to exclusive', async () => {
    const items = await all({ sort: 'raisedAt:asc', pageSize: '100' });
    const from = items[10].raisedAt;
    const to = items[20].raisedAt;
    const ranged = await all({ sort: 'raisedAt:asc', from, to, pageSize: '7' });
    expect(ranged.map((a) => a.id)).toEqual(items.slice(10, 20).map((a) => a.id));
  });

  it('over the page-size cap or a bad date is 400 badRequest; unknown parameters are ignored', async () => {
    for (const q of [{ pageSize: '101' }, { from: '2025-13-01T00:00:00Z' }, { to: 'now' }, { sort: 'severity:asc' }, { pageFromKey: 'abc' }] as Array<Record<string, string>>) {
      const res = await api.get('/common/v1/alerts', q);
      expect(res.status, JSON.stringify(q)).toBe(400);
      expect(res.body.error).toBe('badRequest');
    }
    expect((await api.get('/common/v1/alerts', { pageSize: '100', whatever: 'x' })).body.items).toHaveLength(100);
  });

  it('alerts added while a collector pages appear after its key; future alerts appear once the clock reaches them', async () => {
    const first = await api.get('/common/v1/alerts', { sort: 'raisedAt:asc', pageSize: '100', from: new Date(NOW - 2 * DAY).toISOString() });
    const existing = first.body.items.length;
    const added = emu.addAlerts(api.tenant.id, 2);
    const future = emu.addAlerts(api.tenant.id, 1, { raisedAt: NOW + 60_000 });
    const now = await all({ sort: 'raisedAt:asc', pageSize: '100', from: new Date(NOW - 2 * DAY).toISOString() });
    expect(now).toHaveLength(existing + 2);
    expect(now.slice(-2).map((a) => a.id)).toEqual(added.map((a) => a.id));
    expect(now.slice(-2)).toEqual(added);
    emu.clock.advance(60_000);
    const later = await all({ sort: 'raisedAt:asc', pageSize: '100', from: new Date(NOW - 2 * DAY).toISOString() });
    expect(later[later.length - 1].id).toBe(future[0]!.id);
    emu.clock.advance(-60_000);
  });

  it('alerts older than 90 days fall out as the clock moves', async () => {
    const before = await all({ sort: 'raisedAt:asc', pageSize: '100' });
    emu.clock.advance(30 * DAY);
    const after = await all({ sort: 'raisedAt:asc', pageSize: '100' });
    emu.clock.advance(-30 * DAY);
    expect(after.length).toBeLessThan(before.length);
    expect(after.every((a) => Date.parse(a.raisedAt) >= NOW - 60 * DAY)).toBe(true);
  });
});

describe('endpoint online (view=full)', () => {
  it("is judged by the emulator's clock as it moves: a device seen minutes ago goes offline an hour on", async () => {
    const emu = await startEmulator({ now: NOW, tenants: 1, endpointsPerTenant: 200, tokenTtlSeconds: 365 * 86_400 });
    try {
      const api = tenantApi(emu, await token(emu));
      const full = async () => (await api.get('/endpoint/v1/endpoints', { pageSize: '500', view: 'full' })).body.items as Array<{ id: string; online: boolean; lastSeenAt: string }>;
      const before = await full();
      const recent = before.filter((e) => e.online);
      expect(recent.length).toBeGreaterThan(0);
      for (const e of before) expect(e.online).toBe(NOW - Date.parse(e.lastSeenAt) < 3_600_000);
      emu.clock.advance(2 * 3_600_000);
      const after = new Map((await full()).map((e) => [e.id, e.online]));
      for (const e of recent) expect(after.get(e.id)).toBe(false);
    } finally {
      await emu.stop();
    }
  });
});
