import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultTable } from './faults.js';
import { startEmulator, type Emulator } from './index.js';
import { tenantApi, token } from './test-http.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');

/** Raw GET: the status, the announced length and the bytes received, or the socket error. */
function raw(url: string, headers: Record<string, string>): Promise<{ status?: number; length?: number; received: number; error?: string }> {
  return new Promise((resolve) => {
    let received = 0;
    let status: number | undefined;
    let length: number | undefined;
    const req = request(url, { headers, agent: false }, (res) => {
      status = res.statusCode;
      length = Number(res.headers['content-length']);
      res.on('data', (c: Buffer) => { received += c.length; });
      res.on('end', () => resolve({ status, length, received }));
      res.on('error', (e) => resolve({ status, length, received, error: e.message }));
      res.on('aborted', () => resolve({ status, length, received, error: 'aborted' }));
    });
    req.on('error', (e) => resolve({ status, length, received, error: e.message }));
    req.end();
  });
}

describe('faults', () => {
  let emu: Emulator;
  let api: ReturnType<typeof tenantApi>;
  beforeEach(async () => {
    emu = await startEmulator({ now: NOW, seed: 'faults' });
    api = tenantApi(emu, await token(emu));
  });
  afterEach(() => emu.stop());

  it.each([403, 500, 502, 504] as const)('%i on the nth request of a route, then normal answers', async (kind) => {
    emu.faults.add({ route: 'endpoints', kind, nth: [2] });
    expect((await api.get('/endpoint/v1/endpoints')).status).toBe(200);
    const failed = await api.get('/endpoint/v1/endpoints');
    expect(failed.status).toBe(kind);
    expect(Object.keys(failed.body).sort()).toEqual(['correlationId', 'error', 'message', 'requestId']);
    expect((await api.get('/endpoint/v1/endpoints')).status).toBe(200);
    // Other routes are not counted.
    expect((await api.get('/common/v1/alerts')).status).toBe(200);
  });

  it('error bodies: the current shape, COMM-ERR\'s older one without a message, or none', async () => {
    emu.faults.add({ route: 'endpoints', kind: 403, nth: [1] });
    emu.faults.add({ route: 'endpoints', kind: 403, nth: [2], body: 'legacy' });
    emu.faults.add({ route: 'endpoints', kind: 500, nth: [3], body: 'legacy' });
    emu.faults.add({ route: 'endpoints', kind: 503, nth: [4], body: 'empty' });
    expect((await api.get('/endpoint/v1/endpoints')).body).toMatchObject({ error: 'forbidden', message: 'Forbidden.' });
    const legacy = await api.get('/endpoint/v1/endpoints');
    expect(legacy.status).toBe(403);
    expect(Object.keys(legacy.body).sort()).toEqual(['correlationId', 'createdAt', 'error', 'requestId']);
    expect(legacy.body).toMatchObject({ error: 'Forbidden', createdAt: new Date(NOW).toISOString() });
    expect((await api.get('/endpoint/v1/endpoints')).body).toEqual({ error: 'Internal Server Error', correlationId: expect.any(String), requestId: expect.any(String) });
    const empty = await api.get('/endpoint/v1/endpoints');
    expect(empty).toMatchObject({ status: 503, body: undefined });
    expect(() => new FaultTable(1).add({ route: '*', kind: 500, nth: [1], body: 'xml' as never })).toThrow('unknown fault body');
  });

  it('429 and 503 carry Retry-After only when set', async () => {
    emu.faults.add({ route: 'alerts', kind: 429, nth: [1, 2], retryAfterSeconds: 7, times: 1 });
    emu.faults.add({ route: 'alerts', kind: 429, nth: [2] });
    emu.faults.add({ route: 'siem-events', kind: 503, nth: [1, 2], retryAfterSeconds: 3, times: 1 });
    emu.faults.add({ route: 'endpoints', kind: 503, nth: [1] });
    const limited = await api.get('/common/v1/alerts');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body.message).toBe('Too many requests. See Retry-After header.');
    const bare = await api.get('/common/v1/alerts');
    expect(bare.status).toBe(429);
    expect(bare.headers.get('retry-after')).toBeNull();
    expect(bare.body).toMatchObject({ error: 'tooManyRequests', message: 'Too many requests.' });
    const busy = await api.get('/siem/v1/events');
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('3');
    // times: 1 caps the injections even though nth lists request 2 too.
    expect((await api.get('/siem/v1/events')).status).toBe(200);
    const plain = await api.get('/endpoint/v1/endpoints');
    expect(plain.status).toBe(503);
    expect(plain.headers.get('retry-after')).toBeNull();
  });

  it('drop closes the connection without a response', async () => {
    emu.faults.add({ route: 'endpoints', kind: 'drop', nth: [1] });
    await expect(api.get('/endpoint/v1/endpoints')).rejects.toThrow();
    expect((await api.get('/endpoint/v1/endpoints')).status).toBe(200);
    expect(emu.requests.filter((r) => r.route === 'endpoints').map((r) => r.status)).toEqual([0, 200]);
  });

  it('stall sends nothing until the client gives up, and stop() still closes', async () => {
    emu.faults.add({ route: 'siem-events', kind: 'stall', nth: [1] });
    const started = fetch(`${api.tenant.apiHost}/siem/v1/events`, {
      headers: { authorization: `Bearer ${await token(emu)}`, 'x-tenant-id': api.tenant.id }, signal: AbortSignal.timeout(300),
    });
    await expect(started).rejects.toThrow();
    expect((await raw(`${api.tenant.apiHost}/siem/v1/events`, {})).status).toBe(401);
    emu.faults.add({ route: 'siem-events', kind: 'stall', nth: [1] });
    const third = raw(`${api.tenant.apiHost}/siem/v1/events`, { 'x-tenant-id': api.tenant.id });
    while (emu.requests.filter((r) => r.route === 'siem-events').length < 3) await new Promise((r) => setTimeout(r, 5));
    // The stalled request ends when the emulator stops.
    await emu.stop();
    expect((await third).status).toBeUndefined();
  });

  it('truncate sends the full Content-Length but half the body, then closes', async () => {
    emu.faults.add({ route: 'endpoints', kind: 'truncate', nth: [1] });
    const tok = await token(emu);
    const res = await raw(`${api.tenant.apiHost}/endpoint/v1/endpoints`, { authorization: `Bearer ${tok}`, 'x-tenant-id': api.tenant.id });
    expect(res.status).toBe(200);
    expect(res.error).toBeDefined();
    expect(res.received).toBe(Math.floor(res.length! / 2));
    await expect(api.get('/endpoint/v1/endpoints')).resolves.toMatchObject({ status: 200 });
  });

  it('expire-token ends the token used for that request; a new token works', async () => {
    emu.faults.add({ route: 'alerts', kind: 'expire-token', nth: [2] });
    expect((await api.get('/common/v1/alerts')).status).toBe(200);
    expect((await api.get('/common/v1/alerts')).status).toBe(401);
    expect((await api.get('/endpoint/v1/endpoints')).status).toBe(401);
    expect((await tenantApi(emu, await token(emu)).get('/common/v1/alerts')).status).toBe(200);
  });

  it('faults on the token route and on every route with "*", filtered by tenant', async () => {
    emu.faults.add({ route: 'token', kind: 500, nth: [1] });
    await expect(token(emu)).rejects.toThrow('HTTP 500');
    const tok = await token(emu);
    emu.faults.add({ route: '*', kind: 502, nth: [1, 2, 3, 4], tenantId: emu.tenants[1]!.id });
    expect((await tenantApi(emu, tok, 0).get('/siem/v1/events')).status).toBe(200);
    expect((await tenantApi(emu, tok, 1).get('/siem/v1/events')).status).toBe(502);
    expect((await tenantApi(emu, tok, 1).get('/common/v1/alerts')).status).toBe(502);
    emu.faults.clear();
    expect((await tenantApi(emu, tok, 1).get('/common/v1/alerts')).status).toBe(200);
  });

  it('per-tenant rate limit answers 429 with Retry-After once the budget is spent', async () => {
    const limited = await startEmulator({ now: NOW, rateLimitPerTenant: { requests: 3, perMs: 60_000 } });
    try {
      const tok = await token(limited);
      const a = tenantApi(limited, tok, 0);
      const b = tenantApi(limited, tok, 1);
      for (let i = 0; i < 3; i++) expect((await a.get('/siem/v1/events')).status).toBe(200);
      const over = await a.get('/siem/v1/events');
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(over.body.error).toBe('tooManyRequests');
      // Another tenant has its own budget.
      expect((await b.get('/siem/v1/events')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('per-tenant rate limit without Retry-After when set up so', async () => {
    const limited = await startEmulator({ now: NOW, rateLimitPerTenant: { requests: 1, perMs: 60_000, retryAfter: false } });
    try {
      const a = tenantApi(limited, await token(limited), 0);
      expect((await a.get('/siem/v1/events')).status).toBe(200);
      const over = await a.get('/siem/v1/events');
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).toBeNull();
    } finally {
      await limited.stop();
    }
  });
});

describe('seeded fault rate', () => {
  it('injects about the given share, the same requests for the same seed, capped by times', () => {
    const pattern = (seed: number, times?: number): boolean[] => {
      const t = new FaultTable(seed);
      t.add({ route: 'alerts', kind: 500, rate: 0.3, ...(times === undefined ? {} : { times }) });
      return Array.from({ length: 1000 }, () => t.decide('alerts', undefined) !== undefined);
    };
    const a = pattern(42);
    expect(pattern(42)).toEqual(a);
    expect(pattern(43)).not.toEqual(a);
    const hits = a.filter(Boolean).length;
    expect(hits).toBeGreaterThan(240);
    expect(hits).toBeLessThan(360);
    expect(pattern(42, 5).filter(Boolean).length).toBe(5);
  });

  it('rejects rules without nth or rate, or with an unknown kind', () => {
    const t = new FaultTable(1);
    expect(() => t.add({ route: '*', kind: 500 })).toThrow('nth or rate');
    expect(() => t.add({ route: '*', kind: 418 as never, nth: [1] })).toThrow('unknown fault kind');
  });
});

describe('latencyMs', () => {
  it('holds every reply back by the round trip, each request on its own clock rather than in a queue', async () => {
    const LATENCY = 250;
    const emu = await startEmulator({ now: NOW, seed: 'latency', latencyMs: LATENCY });
    try {
      let t0 = performance.now();
      const api = tenantApi(emu, await token(emu));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(LATENCY - 1);
      t0 = performance.now();
      const replies = await Promise.all(Array.from({ length: 4 }, () => api.get('/endpoint/v1/endpoints')));
      const elapsed = performance.now() - t0;
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(elapsed).toBeGreaterThanOrEqual(LATENCY - 1);
      // Four requests queued behind one another would take four round trips.
      expect(elapsed).toBeLessThan(4 * LATENCY);
    } finally {
      await emu.stop();
    }
  });
});
