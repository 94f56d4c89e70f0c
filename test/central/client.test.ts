// The Central client against the Sophos Central emulator, for each identity type: discovery, paging,
// faults, token expiry, the region host rule, bad credentials, filters, concurrency and deletes.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CentralClientOptions } from '../../src/central/client.js';
import { emulatorClient } from '../helpers/central.js';
import type { CentralClient, CursorPage, KeyPage, Tenant, TenantApi } from '../../src/central/types.js';
import {
  AbortedError,
  BadCredentialsError,
  BadRequestError,
  CentralError,
  describeError,
  ForbiddenError,
  RateLimitedError,
  RefusedHostError,
  ServerError,
} from '../../src/errors.js';
import { startEmulator, type Emulator, type FaultRule } from '../emulator/index.js';

type IdType = 'tenant' | 'organization' | 'partner';
const IDENTITIES: IdType[] = ['tenant', 'organization', 'partner'];
const REGIONS = ['eu01', 'us03', 'jp01'];

function clientFor(emu: Emulator, over: Partial<CentralClientOptions> = {}) {
  const delays: number[] = [];
  // A virtual clock that the recorded waits move forward, so time-based rules see the waits happen.
  let clock = Date.now();
  const client = emulatorClient(emu, {
    timeoutMs: 5000,
    retryBaseDelayMs: 2,
    retryMaxDelayMs: 8,
    // Waits are recorded, not slept: the tests check what the client asked for, quickly.
    sleep: async (ms) => {
      delays.push(ms);
      clock += ms;
    },
    now: () => clock,
    ...over,
  });
  return { client, delays };
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function ids(pages: AsyncIterable<KeyPage<{ id: string }> | CursorPage<{ id: string }>>): Promise<string[]> {
  const out: string[] = [];
  for await (const page of pages) for (const item of page.items) out.push(item.id);
  return out;
}

function count(emu: Emulator, route: string, tenantId?: string): number {
  return emu.requests.filter((r) => r.route === route && (tenantId === undefined || r.tenantId === tenantId)).length;
}

// A minute inside the API's 24 hours, as the collector asks: retries and Retry-After waits may age it meanwhile.
const fromDate = (emu: Emulator): number => Math.floor(emu.clock.now() / 1000) - 24 * 3600 + 60;
const alertsFrom = (emu: Emulator): string => new Date(emu.clock.now() - 90 * 24 * 3600_000).toISOString();

describe.each(IDENTITIES)('%s credential', (idType) => {
  let emu: Emulator;
  let client: CentralClient;
  let tenants: Tenant[];

  beforeAll(async () => {
    emu = await startEmulator({
      seed: `client-${idType}`,
      idType,
      tenants: 6,
      regions: REGIONS,
      endpointsPerTenant: 37,
      alertsPerTenant: 120,
      eventsPerTenant: 230,
    });
    client = clientFor(emu).client;
    tenants = await collect(client.tenants());
  });
  afterAll(async () => {
    await client?.close();
    await emu?.stop();
  });

  it('discovers every tenant with its region host, across regions', async () => {
    expect(tenants.map((t) => t.id).sort()).toEqual(emu.tenants.map((t) => t.id).sort());
    for (const t of tenants) {
      const known = emu.tenants.find((e) => e.id === t.id)!;
      expect(t.apiHost).toBe(known.apiHost.replace(/\/$/, ''));
      expect(t.dataRegion ?? known.dataRegion).toBe(known.dataRegion);
      // A tenant credential's whoami has no name, so the tenant is named by its ID.
      expect(t.name).toBe(idType === 'tenant' ? t.id : known.name);
      expect(t.raw).toBeTypeOf('object');
    }
    if (idType !== 'tenant') {
      expect(new Set(tenants.map((t) => t.dataRegion))).toEqual(new Set(REGIONS));
      const list = emu.requests.filter((r) => r.route === `${idType}-tenants`);
      expect(list[0]?.query).toMatchObject({ page: '1', pageTotal: 'true' });
      expect(list[0]?.headers[`x-${idType}-id`]).toBeTruthy();
    }
    // Each tenant's data is fetched from its own region listener.
    for (const t of tenants) {
      const api = client.forTenant(t);
      await collect(api.endpointPages({ pageSize: 500 }));
      const recs = emu.requests.filter((r) => r.route === 'endpoints' && r.tenantId === t.id);
      const region = emu.tenants.find((e) => e.id === t.id)!.dataRegion;
      expect(recs.length).toBeGreaterThan(0);
      expect(recs.every((r) => r.listener === `region:${region}` && r.headers['x-tenant-id'] === t.id)).toBe(true);
    }
  });

  it('pages endpoints by key: every item once, for page sizes that do and do not divide the total', async () => {
    const api = client.forTenant(tenants[0]!);
    const all = await ids(api.endpointPages());
    expect(all).toHaveLength(37);
    expect(new Set(all).size).toBe(37);
    for (const size of [1, 7, 37, 36, 500]) {
      const before = count(emu, 'endpoints');
      expect(await ids(api.endpointPages({ pageSize: size }))).toEqual(all);
      expect(count(emu, 'endpoints') - before).toBe(Math.ceil(37 / size));
    }
    const req = emu.requests.filter((r) => r.route === 'endpoints').at(-1)!;
    expect(req.query.pageSize).toBe('500');
    const basic = await collect(api.endpointPages({ view: 'basic', fields: ['id', 'hostname'], healthStatus: ['good', 'bad'] }));
    expect(emu.requests.filter((r) => r.route === 'endpoints').at(-1)!.query).toMatchObject({ view: 'basic', fields: 'id,hostname', healthStatus: 'good,bad' });
    expect(basic.flatMap((p) => p.items).length).toBeLessThanOrEqual(37);
  });

  it('pages alerts by key, oldest first, at the maximum page size', async () => {
    const api = client.forTenant(tenants[0]!);
    const pages = await collect(api.alertPages({ from: alertsFrom(emu), pageSize: 25 }));
    const items = pages.flatMap((p) => p.items);
    expect(items).toHaveLength(120);
    expect(new Set(items.map((a) => a.id)).size).toBe(120);
    const times = items.map((a) => Date.parse(a.raisedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(pages).toHaveLength(5);
    const last = emu.requests.filter((r) => r.route === 'alerts').at(-1)!;
    expect(last.query).toMatchObject({ sort: 'raisedAt:asc', pageSize: '25' });
    await collect(api.alertPages({ from: alertsFrom(emu) }));
    expect(emu.requests.filter((r) => r.route === 'alerts').at(-1)!.query.pageSize).toBe('1000');
  });

  it('dates each SIEM page by when its request was asked for: the page asked for ahead, before the caller took it', async () => {
    let now = 1_000_000;
    const { client: timed } = clientFor(emu, { now: () => now });
    const api = timed.forTenant(tenants[1] ?? tenants[0]!);
    const pages = api.siemEventPages({ fromDate: fromDate(emu), limit: 50 })[Symbol.asyncIterator]();
    const first = (await pages.next()).value!;
    // Page 2 was asked for as page 1's text came: a minute before the caller asks the pager for it.
    now += 60_000;
    const second = (await pages.next()).value!;
    expect([first.askedAt, second.askedAt]).toEqual([1_000_000, 1_000_000]);
    now += 60_000;
    expect((await pages.next()).value!.askedAt).toBe(1_060_000);
    await pages.return?.(undefined);
    await timed.close();
  });

  it('pages SIEM events and alerts by cursor, resumable from any page cursor with nothing lost or repeated', async () => {
    const api = client.forTenant(tenants[1] ?? tenants[0]!);
    const pages = await collect(api.siemEventPages({ fromDate: fromDate(emu), limit: 50 }));
    const all = pages.flatMap((p) => p.items.map((i) => i.id));
    expect(all).toHaveLength(230);
    expect(new Set(all).size).toBe(230);
    expect(pages.at(-1)!.hasMore).toBe(false);
    expect(pages.slice(0, -1).every((p) => p.hasMore)).toBe(true);
    // Resume after page 2 (as a checkpoint would).
    const resumed = await ids(api.siemEventPages({ cursor: pages[1]!.cursor, limit: 50 }));
    expect(resumed).toEqual(all.slice(100));
    // Resume from the final cursor: nothing, until new events arrive; then exactly those.
    expect(await ids(api.siemEventPages({ cursor: pages.at(-1)!.cursor }))).toEqual([]);
    const added = emu.addEvents(api.tenant.id, 3);
    expect(await ids(api.siemEventPages({ cursor: pages.at(-1)!.cursor }))).toEqual(added.map((e) => e.id));
    const first = emu.requests.filter((r) => r.route === 'siem-events' && r.query.from_date !== undefined).at(-1)!;
    expect(first.query).toMatchObject({ limit: '50', from_date: String(fromDate(emu)) });
    expect(first.query.cursor).toBeUndefined();
    // Without a limit, the largest the API takes.
    await ids(api.siemEventPages({ fromDate: fromDate(emu) }));
    expect(emu.requests.filter((r) => r.route === 'siem-events').at(-1)!.query.limit).toBe('1000');
  });

  it('scans alert and SIEM pages: heads and texts agree with the items, which are parsed when read', async () => {
    const api = client.forTenant(tenants[0]!);
    const pages = [
      ...(await collect(api.alertPages({ from: alertsFrom(emu), pageSize: 50 }))),
      ...(await collect(api.siemEventPages({ fromDate: fromDate(emu), limit: 50 }))),
    ];
    expect(pages.length).toBeGreaterThan(4);
    for (const page of pages) {
      expect(page.heads).toHaveLength(page.items.length);
      expect(page.texts!.map((t) => JSON.parse(t))).toEqual(page.items);
      page.heads!.forEach((head, i) => {
        const item = page.items[i] as Record<string, unknown>;
        for (const key of Object.keys(head)) expect(head[key]).toEqual(item[key]);
        // Each holds what its collector reads: an alert's ID (kept for dedup), an event's time.
        const read = 'raisedAt' in head ? head.id : head.when;
        expect(read).toBe('raisedAt' in head ? item.id : item.when);
        expect(read).toBeTypeOf('string');
      });
    }
  });

  it('sends exclude_types comma-joined', async () => {
    const api = client.forTenant(tenants[0]!);
    const pages = await collect(api.siemEventPages({ fromDate: fromDate(emu) }));
    const types = [...new Set(pages.flatMap((p) => p.items.map((i) => String(i.type))))].slice(0, 2);
    const rest = await collect(api.siemEventPages({ fromDate: fromDate(emu), excludeTypes: types }));
    expect(emu.requests.filter((r) => r.route === 'siem-events').at(-1)!.query.exclude_types).toBe(types.join(','));
    expect(rest.flatMap((p) => p.items).some((i) => types.includes(String(i.type)))).toBe(false);
  });

  it('reads one endpoint live and deletes one, never retrying a DELETE', async () => {
    const api = client.forTenant(tenants[0]!);
    const [first, second] = (await collect(api.endpointPages({ pageSize: 2 })))[0]!.items;
    expect((await api.getEndpoint(first!.id, 'basic'))?.id).toBe(first!.id);
    expect(await api.getEndpoint('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(await api.deleteEndpoint(first!.id)).toEqual({ deleted: true });
    expect(await api.getEndpoint(first!.id)).toBeUndefined();
    expect(await api.deleteEndpoint(first!.id)).toEqual({ deleted: false });

    emu.faults.add({ route: 'endpoint-delete', kind: 500, nth: [1] });
    const before = count(emu, 'endpoint-delete');
    await expect(api.deleteEndpoint(second!.id)).rejects.toBeInstanceOf(ServerError);
    expect(count(emu, 'endpoint-delete') - before).toBe(1);
    emu.faults.clear();
  });
});

describe.each(IDENTITIES)('faults, %s credential: every kind the emulator injects', (idType) => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'faults', idType, tenants: 2, endpointsPerTenant: 30, alertsPerTenant: 40, eventsPerTenant: 45 });
  });
  afterAll(() => emu?.stop());

  const kinds: FaultRule['kind'][] = [429, 500, 502, 503, 504, 'drop', 'stall', 'truncate', 'expire-token'];
  const routes = {
    endpoints: (api: TenantApi) => ids(api.endpointPages({ pageSize: 7 })),
    alerts: (api: TenantApi, emu: Emulator) => ids(api.alertPages({ from: alertsFrom(emu), pageSize: 9 })),
    'siem-events': (api: TenantApi, emu: Emulator) => ids(api.siemEventPages({ fromDate: fromDate(emu), limit: 10 })),
  } as const;

  for (const [route, run] of Object.entries(routes)) {
    it.each(kinds)(`${route} with %s twice: all data exactly once, one extra request per fault`, async (kind) => {
      const { client, delays } = clientFor(emu, { timeoutMs: kind === 'stall' ? 250 : 5000 });
      try {
        const [tenant] = await collect(client.tenants());
        const api = client.forTenant(tenant!);
        const baselineStart = count(emu, route);
        const expected = await run(api, emu);
        const pages = count(emu, route) - baselineStart;
        expect(new Set(expected).size).toBe(expected.length);
        const tokensBefore = count(emu, 'token');
        const statsBefore = { ...api.stats };

        // Two faults on one page (the request and its retry); for expire-token the second one hits the
        // next page instead, since a 401 straight after a fresh token means access denied, not expiry.
        emu.faults.add({ route, kind, nth: kind === 'expire-token' ? [2, 4] : [2, 3], retryAfterSeconds: 3, tenantId: tenant!.id });
        const start = count(emu, route);
        const got = await run(api, emu);
        emu.faults.clear();

        expect(got).toEqual(expected);
        expect(count(emu, route) - start).toBe(pages + 2);
        expect(count(emu, 'token') - tokensBefore).toBe(kind === 'expire-token' ? 2 : 0);
        expect(api.stats.requests - statsBefore.requests).toBe(pages + 2);
        expect(api.stats.retries - statsBefore.retries).toBe(2);
        expect(api.stats.errors - statsBefore.errors).toBe(2);
        expect(api.stats.rateLimited - statsBefore.rateLimited).toBe(kind === 429 ? 2 : 0);
        if (kind === 429 || kind === 503) {
          // Retry-After: 3 honoured (never less), on both retries.
          expect(delays.filter((d) => d >= 3000)).toHaveLength(2);
        } else if (kind !== 'expire-token') {
          expect(delays).toHaveLength(2);
          expect(Math.max(...delays)).toBeLessThan(8);
        }
      } finally {
        emu.faults.clear();
        await client.close();
      }
    });
  }

  it('gives up after maxAttempts with a typed error carrying the Sophos facts, and no secret', async () => {
    const { client } = clientFor(emu, { maxAttempts: 4 });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    emu.faults.add({ route: 'endpoints', kind: 502, rate: 1 });
    const start = count(emu, 'endpoints');
    const err = await ids(api.endpointPages()).catch((e: unknown) => e);
    emu.faults.clear();
    expect(err).toBeInstanceOf(ServerError);
    expect(count(emu, 'endpoints') - start).toBe(4);
    const e = err as ServerError;
    expect(e.status).toBe(502);
    expect(e.sophosError).toBe('badGateway');
    expect(e.correlationId).toBeTruthy();
    expect(e.request).toBe('GET /endpoint/v1/endpoints');
    expect(e.tenantId).toBe(tenant!.id);
    expect(describeError(e)).not.toContain(emu.clientSecret);
    expect(describeError(e)).not.toMatch(/bearer|eyJ/i);
    await client.close();
  });

  it('stops retrying when the total retry time would be exceeded', async () => {
    const { client, delays } = clientFor(emu, { maxRetryTimeMs: 2000 });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    emu.faults.add({ route: 'endpoints', kind: 429, rate: 1, retryAfterSeconds: 5 });
    const start = count(emu, 'endpoints');
    const err = await ids(api.endpointPages()).catch((e: unknown) => e);
    emu.faults.clear();
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(5000);
    expect(count(emu, 'endpoints') - start).toBe(1);
    expect(delays).toEqual([]);
    await client.close();
  });

  it('backs off for seconds on a 429 without Retry-After, where other failures back off for milliseconds', async () => {
    const { client, delays } = clientFor(emu, { retryBaseDelayMs: 500, retryMaxDelayMs: 30_000, random: () => 0 });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const expected = await ids(api.endpointPages({ pageSize: 7 }));
    emu.faults.add({ route: 'endpoints', kind: 429, nth: [2, 3], tenantId: tenant!.id });
    const got = await ids(api.endpointPages({ pageSize: 7 }));
    emu.faults.clear();
    expect(got).toEqual(expected);
    // Half the ceiling at least (random 0): 5 s, then 10 s, halved; a 502 here would have waited 0 ms.
    expect(delays).toEqual([2500, 5000]);
    expect(api.stats.rateLimited).toBe(2);
    await client.close();
  });

  it('holds back the tenant\'s other requests while it waits out a 429', async () => {
    // Real waits here: the hold is measured on a request started while the retry waits.
    const waits: number[] = [];
    const client = emulatorClient(emu, {
      retryBaseDelayMs: 100,
      random: () => 0,
      sleep: (ms) => {
        waits.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    try {
      const [tenant] = await collect(client.tenants());
      const api = client.forTenant(tenant!);
      emu.faults.add({ route: 'alerts', kind: 429, nth: [1], tenantId: tenant!.id });
      const alerts = ids(api.alertPages({ from: alertsFrom(emu), pageSize: 9 }));
      // Counted in the same step that starts the hold.
      while (api.stats.rateLimited === 0) await new Promise((r) => setTimeout(r, 2));
      const started = performance.now();
      await ids(api.endpointPages({ pageSize: 500 }));
      const held = performance.now() - started;
      await alerts;
      emu.faults.clear();
      // The 429's retry waits 500 ms (a 1 s ceiling, halved); the endpoints request, started while it
      // waited, waits for the rest of it before it is sent. A timer that fires a millisecond before the clock
      // reads the end of the hold adds a wait of that millisecond (seen under load): those are left out.
      const holds = waits.filter((ms) => ms >= 10);
      expect(holds).toHaveLength(2);
      expect(holds[0]).toBe(500);
      expect(holds[1]).toBeGreaterThan(400);
      expect(holds[1]).toBeLessThanOrEqual(500);
      expect(held).toBeGreaterThan(400);
    } finally {
      emu.faults.clear();
      await client.close();
    }
  });

  it('retries the token request itself on a server error', async () => {
    const { client } = clientFor(emu);
    emu.faults.add({ route: 'token', kind: 503, nth: [1] });
    const start = count(emu, 'token');
    await client.whoami();
    emu.faults.clear();
    expect(count(emu, 'token') - start).toBe(2);
    await client.close();
  });
});

describe.each(IDENTITIES)('tokens, %s credential', (idType) => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'tokens', idType, tenants: 3, eventsPerTenant: 120, tokenTtlSeconds: 600 });
  });
  afterAll(() => emu?.stop());

  it('survives every token expiring mid-run: one refresh, one retried request, nothing lost', async () => {
    const { client } = clientFor(emu);
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const expected = await ids(api.siemEventPages({ fromDate: fromDate(emu), limit: 20 }));
    const tokens = count(emu, 'token');
    const start = count(emu, 'siem-events');
    const got: string[] = [];
    let n = 0;
    for await (const page of api.siemEventPages({ fromDate: fromDate(emu), limit: 20 })) {
      got.push(...page.items.map((i) => i.id));
      if (++n === 2) emu.expireTokens();
    }
    expect(got).toEqual(expected);
    expect(count(emu, 'token') - tokens).toBe(1);
    expect(count(emu, 'siem-events') - start).toBe(Math.ceil(expected.length / 20) + 1);
    expect(emu.requests.filter((r) => r.route === 'siem-events').slice(start).filter((r) => r.status === 401)).toHaveLength(1);
    await client.close();
  });

  it('refreshes before expiry, so no request meets an expired token', async () => {
    const { client } = clientFor(emu, { now: () => emu.clock.now() });
    await client.whoami();
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const tokens = count(emu, 'token');
    const start = emu.requests.length;
    emu.clock.advance(500_000); // past ttl - 120 s, before ttl
    await ids(api.endpointPages());
    expect(count(emu, 'token') - tokens).toBe(1);
    expect(emu.requests.slice(start).some((r) => r.status === 401)).toBe(false);
    await client.close();
  });

  it('renews the token early in the background: a token service outage leaves the valid token serving until it expires, then fails fast', async () => {
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };
    const { client } = clientFor(emu, { now: () => emu.clock.now(), logger });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const expected = await ids(api.endpointPages());
    emu.clock.advance(500_000); // 100 s left: past the early-refresh mark, before expiry
    emu.faults.add({ route: 'token', kind: 503, rate: 1 });
    try {
      const tokens = count(emu, 'token');
      expect(await ids(api.endpointPages())).toEqual(expected);
      await vi.waitFor(() => expect(warnings).toHaveLength(1));
      expect(warnings[0]).toMatch(/^Could not renew the Sophos Central token ahead of its expiry \(.*after 6 attempts.*\); the current one serves until it expires$/);
      expect(count(emu, 'token') - tokens).toBe(6);
      // The failure is remembered: no new retry cycle while the valid token serves.
      expect(await ids(api.endpointPages())).toEqual(expected);
      expect(count(emu, 'token') - tokens).toBe(6);

      emu.clock.advance(101_000); // expired, and the failure is older than its hold
      const first = await ids(api.endpointPages()).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(ServerError);
      expect(count(emu, 'token') - tokens).toBe(12);
      // Within the hold every other tenant fails at once instead of starting a retry cycle of its own.
      const others = await Promise.all(emu.tenants.map((t) => ids(client.forTenant({ ...t, raw: {} }).endpointPages()).catch((e: unknown) => e)));
      for (const err of others) expect(err).toBe(first);
      expect(count(emu, 'token') - tokens).toBe(12);
    } finally {
      emu.faults.clear();
      await client.close();
    }
  });

  it('counts a retry only once it is sent: a 401 whose new token cannot be had is one request, no retry', async () => {
    const { client } = clientFor(emu);
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    emu.expireTokens();
    emu.faults.add({ route: 'token', kind: 500, rate: 1 });
    try {
      await expect(ids(api.endpointPages())).rejects.toBeInstanceOf(ServerError);
      expect(api.stats).toMatchObject({ requests: 1, retries: 0, errors: 1 });
      // The token request's own five retries were sent, and are counted where it belongs: to no tenant.
      expect(client.stats.retries).toBe(5);
    } finally {
      emu.faults.clear();
      await client.close();
    }
  });

  it.each([429, 503] as const)('a whoami that fails with %s proves nothing: the token is kept, not renewed for every refused tenant', async (kind) => {
    const { client } = clientFor(emu);
    await client.whoami();
    const tokens = count(emu, 'token');
    const host = emu.tenants[0]!;
    const unknown: Tenant[] = Array.from({ length: 6 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(100 + i).padStart(12, '0')}`,
      name: `gone ${i}`,
      apiHost: host.apiHost,
      dataRegion: host.dataRegion,
      raw: {},
    }));
    emu.faults.add({ route: 'whoami', kind, rate: 1 });
    try {
      const before = { ...client.stats };
      for (const tenant of unknown) await expect(ids(client.forTenant(tenant).endpointPages())).rejects.toBeInstanceOf(ForbiddenError);
      expect(count(emu, 'token') - tokens).toBe(1);
      // Six checks, one per tenant (the first one's checked the token its renewal gave), each one request and one
      // error; a 429 is counted as rate limiting too.
      expect(client.stats.errors - before.errors).toBe(6);
      expect(client.stats.rateLimited - before.rateLimited).toBe(kind === 429 ? 6 : 0);
    } finally {
      emu.faults.clear();
      await client.close();
    }
  });

  it('a 401 that a new token does not cure is the tenant refusing: later ones do not throw the shared token away', async () => {
    const { client } = clientFor(emu);
    await client.whoami();
    const tokens = count(emu, 'token');
    const host = emu.tenants[0]!;
    // Unknown tenant IDs on a real region host: the API answers 401 (a missing or wrong X-Tenant-ID).
    const unknown: Tenant[] = Array.from({ length: 12 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `gone ${i}`,
      apiHost: host.apiHost,
      dataRegion: host.dataRegion,
      raw: {},
    }));
    const whoamis = count(emu, 'whoami');
    for (const tenant of unknown) await expect(ids(client.forTenant(tenant).endpointPages())).rejects.toBeInstanceOf(ForbiddenError);
    // The first one's new token did not cure it, and whoami said that token works; each later one asked whoami
    // whether the token still works before throwing it away.
    expect(count(emu, 'token') - tokens).toBe(1);
    expect(count(emu, 'whoami') - whoamis).toBe(unknown.length);
    // The tenants the credential reaches are served with that token all along.
    const [real] = await collect(client.tenants());
    expect((await ids(client.forTenant(real!).endpointPages())).length).toBeGreaterThan(0);
    expect(count(emu, 'token') - tokens).toBe(1);

    // A token that really ends meanwhile is renewed all the same: whoami refuses it too.
    emu.expireTokens();
    for (const tenant of emu.tenants) expect((await ids(client.forTenant({ ...tenant, raw: {} }).endpointPages())).length).toBeGreaterThan(0);
    expect(count(emu, 'token') - tokens).toBe(2);
    await client.close();
  });

  it('shares one token request between concurrent callers', async () => {
    const { client } = clientFor(emu);
    const start = count(emu, 'token');
    // Tenants built from the emulator's list, so that the first requests all start without a token.
    const tenants: Tenant[] = emu.tenants.map((t) => ({ ...t, raw: {} }));
    await Promise.all([
      client.whoami(),
      ...tenants.flatMap((t) => [ids(client.forTenant(t).endpointPages()), ids(client.forTenant(t).alertPages())]),
    ]);
    expect(count(emu, 'token') - start).toBe(1);
    await client.close();
  });

  it('reports bad credentials at once: one token request, no storm, no secret in the message', async () => {
    const wrong = 'not-the-secret-0123456789';
    const { client } = clientFor(emu, { clientSecret: wrong });
    const start = count(emu, 'token');
    const errors = await Promise.all([
      collect(client.tenants()).catch((e: unknown) => e),
      client.whoami().catch((e: unknown) => e),
      collect(client.tenants()).catch((e: unknown) => e),
    ]);
    const later = await client.whoami().catch((e: unknown) => e);
    for (const err of [...errors, later]) {
      expect(err).toBeInstanceOf(BadCredentialsError);
      const line = describeError(err);
      expect(line).toContain('oauth.invalid_client_secret');
      expect(line).toContain(emu.clientId);
      expect(line).not.toContain(wrong);
    }
    expect(count(emu, 'token') - start).toBe(1);
    await client.close();
  });
});

describe.each(['organization', 'partner'] as const)('region host rule (%s)', (idType) => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'trap', idType, tenants: 3, maliciousApiHost: true, endpointsPerTenant: 5 });
  });
  afterAll(() => emu?.stop());

  it('refuses a malicious apiHost per tenant, serves the others, and never contacts the trap', async () => {
    const { client } = clientFor(emu);
    const outcome: Record<string, string> = {};
    for await (const tenant of client.tenants()) {
      try {
        const api = client.forTenant(tenant);
        outcome[tenant.id] = `ok ${(await ids(api.endpointPages())).length}`;
      } catch (err) {
        expect(err).toBeInstanceOf(RefusedHostError);
        expect((err as RefusedHostError).tenantId).toBe(tenant.id);
        outcome[tenant.id] = (err as CentralError).code;
      }
    }
    expect(Object.values(outcome).sort()).toEqual(['TA_ERR_REFUSED_HOST', 'ok 5', 'ok 5', 'ok 5']);
    expect(emu.requests.filter((r) => r.listener === 'trap')).toEqual([]);
    await client.close();
  });
});

describe('region host rule (tenant)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'trap', idType: 'tenant', maliciousApiHost: true, endpointsPerTenant: 5 });
  });
  afterAll(() => emu?.stop());

  it("refuses a whoami dataRegion outside the rule and never contacts it", async () => {
    const { client } = clientFor(emu);
    const [tenant] = await collect(client.tenants());
    expect(tenant!.apiHost).toBe(emu.trapUrl);
    expect(() => client.forTenant(tenant!)).toThrow(RefusedHostError);
    expect(emu.requests.filter((r) => r.listener === 'trap')).toEqual([]);
    expect(emu.requests.filter((r) => r.hasToken).every((r) => r.listener === 'global')).toBe(true);
    await client.close();
  });
});

describe('tenant filters, larger estates and concurrency', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'many', tenants: 230, endpointsPerTenant: 3, alertsPerTenant: 2, eventsPerTenant: 40 });
  });
  afterAll(() => emu?.stop());

  it('walks every tenant page: page 1 with pageTotal, then 2..total', async () => {
    const { client } = clientFor(emu);
    const start = emu.requests.length;
    const all = await collect(client.tenants());
    expect(all.map((t) => t.id)).toEqual(emu.tenants.map((t) => t.id));
    const list = emu.requests.slice(start).filter((r) => r.route === 'partner-tenants');
    expect(list.map((r) => [r.query.page, r.query.pageSize, r.query.pageTotal])).toEqual([
      ['1', '100', 'true'],
      ['2', '100', undefined],
      ['3', '100', undefined],
    ]);
    await client.close();
  });

  it('includes and excludes by ID or name, and splits the estate into disjoint shards', async () => {
    const { client } = clientFor(emu);
    const [a, b, c] = emu.tenants;
    const picked = await collect(client.tenants({ include: [a!.id.toUpperCase(), b!.name.toLowerCase(), c!.name], exclude: [c!.id] }));
    expect(picked.map((t) => t.id)).toEqual([a!.id, b!.id]);
    expect(await collect(client.tenants({ exclude: emu.tenants.map((t) => t.name) }))).toEqual([]);
    const shards = await Promise.all([1, 2, 3].map((index) => collect(client.tenants({ shard: { index, count: 3 } }))));
    const seen = shards.flat().map((t) => t.id);
    expect(seen.sort()).toEqual(emu.tenants.map((t) => t.id).sort());
    for (const s of shards) expect(s.length).toBeGreaterThan(40);
    await expect(collect(client.tenants({ shard: { index: 4, count: 3 } }))).rejects.toThrow(/shard/);
    await client.close();
  });

  it('32 request slots and requests queued behind them give Node no leak warning (splunkd would log its unprefixed lines as ERROR)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const stop = new AbortController();
    const { client } = clientFor(emu, { concurrency: { total: 32 }, signal: stop.signal });
    try {
      const tenants = (await collect(client.tenants())).slice(0, 64);
      await Promise.all(tenants.map(async (t) => collect(client.forTenant(t).siemEventPages({ limit: 200 }))));
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
      await client.close();
    }
    expect(warnings).toEqual([]);
  });

  it('caps requests in flight overall and per tenant, yet runs tenants in parallel', async () => {
    let inFlight = 0;
    let peak = 0;
    const perTenant = new Map<string, number>();
    let tenantPeak = 0;
    const onCreate = (msg: unknown): void => {
      const { request } = msg as { request: { path: string; headers: unknown } };
      if (!request.path.startsWith('/siem/')) return;
      const tenant = /x-tenant-id: ?([^\r\n,]+)/i.exec(String(request.headers))?.[1] ?? headerOf(request.headers);
      peak = Math.max(peak, ++inFlight);
      const n = (perTenant.get(tenant) ?? 0) + 1;
      perTenant.set(tenant, n);
      tenantPeak = Math.max(tenantPeak, n);
      (request as { __tenant?: string }).__tenant = tenant;
    };
    const onDone = (msg: unknown): void => {
      const { request } = msg as { request: { path: string; __tenant?: string } };
      if (!request.path.startsWith('/siem/')) return;
      inFlight--;
      perTenant.set(request.__tenant!, perTenant.get(request.__tenant!)! - 1);
    };
    subscribe('undici:request:create', onCreate);
    subscribe('undici:request:trailers', onDone);
    subscribe('undici:request:error', onDone);
    const { client } = clientFor(emu, { concurrency: { total: 5, perTenant: 2 } });
    try {
      const tenants = (await collect(client.tenants())).slice(0, 40);
      const results = await Promise.all(
        tenants.flatMap((t) => {
          const api = client.forTenant(t);
          return [ids(api.siemEventPages({ fromDate: fromDate(emu), limit: 10 })), ids(api.siemEventPages({ fromDate: fromDate(emu), limit: 15 })), ids(api.siemEventPages({ fromDate: fromDate(emu), limit: 20 }))];
        }),
      );
      // Each tenant's three reads (page sizes 10, 15 and 20) give the same events.
      for (let i = 0; i < results.length; i += 3) {
        expect(results[i]!.length).toBeGreaterThan(30);
        expect(results[i + 1]).toEqual(results[i]);
        expect(results[i + 2]).toEqual(results[i]);
      }
      expect(peak).toBe(5);
      expect(tenantPeak).toBe(2);
      expect(inFlight).toBe(0);
    } finally {
      unsubscribe('undici:request:create', onCreate);
      unsubscribe('undici:request:trailers', onDone);
      unsubscribe('undici:request:error', onDone);
      await client.close();
    }
  });

  it('stops promptly with AbortedError when the signal fires', async () => {
    const controller = new AbortController();
    const { client } = clientFor(emu, { signal: controller.signal });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    let pages = 0;
    const err = await (async () => {
      for await (const _ of api.siemEventPages({ fromDate: fromDate(emu), limit: 5 })) {
        if (++pages === 2) controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortedError);
    expect(pages).toBe(2);
    await client.close();
  });

  it.each(['legacy', 'empty'] as const)('reads a %s error body as well as the current one: the error class follows the status', async (body) => {
    const { client } = clientFor(emu);
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const cases: Array<[FaultRule['kind'], new (...args: never[]) => Error]> = [[403, ForbiddenError], [500, ServerError], [429, RateLimitedError]];
    for (const [kind, type] of cases) {
      emu.faults.add({ route: 'endpoints', kind, rate: 1, body });
      const err = await ids(api.endpointPages()).catch((e: unknown) => e);
      emu.faults.clear();
      expect(err, String(kind)).toBeInstanceOf(type);
      expect((err as { status?: number }).status, String(kind)).toBe(kind);
      expect((err as Error).message, String(kind)).not.toMatch(/undefined|null|\[object/);
    }
    await client.close();
  });

  it.each([
    ['close() ends', 'Stopped: the Sophos Central client was closed'],
    ["a page request's own signal cancels", 'Stopped: the Sophos Central request was cancelled'],
  ] as const)('%s requests in flight and those waiting for a slot with AbortedError, and nothing is sent after', async (how, message) => {
    const byClose = how.startsWith('close');
    const slow = await startEmulator({ seed: 'slow', tenants: 1, latencyMs: 300 });
    try {
      const { client } = clientFor(slow, { concurrency: { perTenant: 1 } });
      const [tenant] = await collect(client.tenants());
      const api = client.forTenant(tenant!);
      const cancel = new AbortController();
      const signal = byClose ? undefined : cancel.signal;
      // The first holds the tenant's one slot; the second waits for it.
      const pending = [ids(api.alertPages({ from: alertsFrom(slow), signal })), ids(api.endpointPages({ signal }))].map((p) => p.catch((e: unknown) => e));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sent = slow.requests.length;
      if (byClose) await client.close();
      else cancel.abort();
      for (const err of await Promise.all(pending)) {
        expect(err).toBeInstanceOf(AbortedError);
        expect((err as Error).message).toBe(message);
      }
      expect(slow.requests.length).toBe(sent);
      if (!byClose) {
        // Only those requests ended: the client and the tenant's slot still serve the next one.
        expect((await ids(api.endpointPages())).length).toBeGreaterThan(0);
        await client.close();
      }
    } finally {
      await slow.stop();
    }
  });

  it('a retry cancelled while it waits for a slot is not counted: retries, like requests, count what was sent', async () => {
    const local = await startEmulator({ seed: 'slot-retry', tenants: 1 });
    let endWait: (() => void) | undefined;
    const { client } = clientFor(local, {
      concurrency: { perTenant: 1 },
      sleep: () => new Promise<void>((resolve) => (endWait = resolve)),
    });
    try {
      const [tenant] = await collect(client.tenants());
      const api = client.forTenant(tenant!);
      local.faults.add({ route: 'endpoints', kind: 503, nth: [1] });
      local.faults.add({ route: 'alerts', kind: 'stall', nth: [1] });
      const cancel = new AbortController();
      const refused = ids(api.endpointPages({ signal: cancel.signal })).catch((e: unknown) => e);
      await vi.waitFor(() => expect(endWait).toBeDefined());
      // While it waits to retry, a stalled request takes the tenant's one slot; the retry then waits for it.
      void ids(api.alertPages({ from: alertsFrom(local) })).catch(() => undefined);
      await vi.waitFor(() => expect(local.requests.filter((r) => r.route === 'alerts')).toHaveLength(1));
      endWait!();
      await new Promise((resolve) => setTimeout(resolve, 50));
      cancel.abort();
      expect(await refused).toBeInstanceOf(AbortedError);
      expect(api.stats).toMatchObject({ requests: 2, retries: 0, errors: 1 });
    } finally {
      // Also ends the stalled request.
      await client.close();
      await local.stop();
    }
  });

  it('reports a tenant the credential may not reach as ForbiddenError', async () => {
    const { client } = clientFor(emu);
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant({ ...tenant!, id: emu.foreignTenantId, raw: {} });
    const err = await ids(api.endpointPages()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).status).toBe(403);
    await client.close();
  });
});

function headerOf(headers: unknown): string {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'x-tenant-id') return String(headers[i + 1]);
  }
  return '?';
}

describe('alerts page size fallback (2020-era API)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'legacy', tenants: 2, alertsMaxPageSize: 100, alertsPerTenant: 250 });
  });
  afterAll(() => emu?.stop());

  it('falls back from 1000 to 100 once per client after a 400', async () => {
    const { client } = clientFor(emu);
    const tenants = await collect(client.tenants());
    for (const t of tenants) {
      const got = await ids(client.forTenant(t).alertPages({ from: alertsFrom(emu) }));
      expect(got).toHaveLength(250);
      expect(new Set(got).size).toBe(250);
    }
    const sizes = emu.requests.filter((r) => r.route === 'alerts').map((r) => `${r.query.pageSize}:${r.status}`);
    expect(sizes).toEqual(['1000:400', '100:200', '100:200', '100:200', '100:200', '100:200', '100:200']);
    await client.close();
  });

  it("an input's explicit page size over 100 falls back the same way; 100 or less is sent as given", async () => {
    const logs: string[] = [];
    const { client } = clientFor(emu, { logger: { debug: () => {}, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const start = emu.requests.length;
    expect(await ids(api.alertPages({ from: alertsFrom(emu), pageSize: 500 }))).toHaveLength(250);
    expect(await ids(api.alertPages({ from: alertsFrom(emu), pageSize: 80 }))).toHaveLength(250);
    const sizes = emu.requests.slice(start).filter((r) => r.route === 'alerts').map((r) => `${r.query.pageSize}:${r.status}`);
    expect(sizes).toEqual(['500:400', '100:200', '100:200', '100:200', '80:200', '80:200', '80:200', '80:200']);
    expect(logs.filter((l) => l.includes('pageSize'))).toEqual(['Sophos Central refused alerts pageSize=500; using 100 from now on']);
    await client.close();
  });
});

describe('alerts page size fallback, on an API that takes 1000', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'modern', tenants: 1, alertsPerTenant: 30 });
  });
  afterAll(() => emu?.stop());

  it('a 400 about something else is reported as sent, and the page size stays 1000', async () => {
    const logs: string[] = [];
    const { client } = clientFor(emu, { logger: { debug: () => {}, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
    const [tenant] = await collect(client.tenants());
    const api = client.forTenant(tenant!);
    const refused = await ids(api.alertPages({ from: 'yesterday' })).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as Error).message).toMatch(/'from' must be an ISO-8601 date-time/);
    expect(await ids(api.alertPages({ from: alertsFrom(emu) }))).toHaveLength(30);
    const sizes = emu.requests.filter((r) => r.route === 'alerts').map((r) => `${r.query.pageSize}:${r.status}`);
    expect(sizes).toEqual(['1000:400', '100:400', '1000:200']);
    expect(logs.filter((l) => l.includes('pageSize'))).toEqual([]);
    await client.close();
  });
});

describe('tenant list page size fallback (undocumented maximum)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'small-pages', tenants: 130, tenantsMaxPageSize: 50 });
  });
  afterAll(() => emu?.stop());
  const sizes = (from: number) =>
    emu.requests.slice(from).filter((r) => r.route === 'partner-tenants').map((r) => `${r.query.pageSize}:${r.status}`);

  it('asks again with 50 after a 400 to its first page, and keeps 50 for this client', async () => {
    const logs: string[] = [];
    const { client } = clientFor(emu, { logger: { debug: () => {}, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) } });
    const start = emu.requests.length;
    const first = await collect(client.tenants());
    expect(first.map((t) => t.id).sort()).toEqual(emu.tenants.map((t) => t.id).sort());
    expect(sizes(start)).toEqual(['100:400', '50:200', '50:200', '50:200']);
    const again = emu.requests.length;
    expect(await collect(client.tenants())).toHaveLength(130);
    expect(sizes(again)).toEqual(['50:200', '50:200', '50:200']);
    expect(logs.filter((l) => l.includes('pageSize'))).toEqual(['Sophos Central refused tenant list pageSize=100; using 50 from now on']);
    await client.close();
  });

  it('a 400 to the smaller size too is the first refusal, and one after a page is final', async () => {
    const { client } = clientFor(emu);
    let start = emu.requests.length;
    emu.faults.add({ route: 'partner-tenants', kind: 400, nth: [1, 2] });
    await expect(collect(client.tenants())).rejects.toBeInstanceOf(BadRequestError);
    expect(sizes(start)).toEqual(['100:400', '50:400']);
    emu.faults.clear();
    start = emu.requests.length;
    emu.faults.add({ route: 'partner-tenants', kind: 400, nth: [3] });
    await expect(collect(client.tenants())).rejects.toBeInstanceOf(BadRequestError);
    expect(sizes(start)).toEqual(['100:400', '50:200', '50:400']);
    emu.faults.clear();
    await client.close();
  });
});
