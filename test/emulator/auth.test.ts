import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
import { call, tenantApi, token } from './test-http.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');

function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields) };
}

describe('token endpoint', () => {
  let emu: Emulator;
  beforeAll(async () => { emu = await startEmulator({ now: NOW }); });
  afterAll(() => emu.stop());

  it('issues a bearer token with the keys of the real response', async () => {
    const res = await fetch(`${emu.authUrl}/api/v2/oauth2/token`, form({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: 'token' }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'errorCode', 'expires_in', 'message', 'refresh_token', 'token_type', 'trackingId']);
    expect(body).toMatchObject({ errorCode: 'success', expires_in: 3600, message: 'OK', token_type: 'bearer' });
    expect(body.refresh_token).toMatch(/^[0-9a-f]{64}$/);
    expect(String(body.access_token).split('.')).toHaveLength(3);
  });

  it('answers 401 oauth.invalid_client_secret for a wrong secret or client id', async () => {
    for (const [id, secret] of [[emu.clientId, 'wrong'], ['someone-else', emu.clientSecret]]) {
      const res = await fetch(`${emu.authUrl}/api/v2/oauth2/token`, form({ grant_type: 'client_credentials', client_id: id!, client_secret: secret!, scope: 'token' }));
      expect(res.status).toBe(401);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ errorCode: 'oauth.invalid_client_secret', message: 'Unauthorized' });
      expect(body.trackingId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('rejects a wrong grant, a wrong scope and a JSON body with 400', async () => {
    const url = `${emu.authUrl}/api/v2/oauth2/token`;
    const base = { grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: 'token' };
    expect((await fetch(url, form({ ...base, grant_type: 'password' }))).status).toBe(400);
    expect((await fetch(url, form({ ...base, scope: 'openid' }))).status).toBe(400);
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(base) });
    expect(json.status).toBe(400);
  });

  it('never logs the client secret or the token', async () => {
    const tok = await token(emu);
    await call(`${emu.apiUrl}/whoami/v1?client_secret=${emu.clientSecret}`, { authorization: `Bearer ${tok}` });
    const log = JSON.stringify(emu.requests);
    expect(log).not.toContain(emu.clientSecret);
    expect(log).not.toContain(tok);
    const who = emu.requests.find((r) => r.route === 'whoami')!;
    expect(who.headers.authorization).toBe('Bearer <redacted>');
    expect(who.hasToken).toBe(true);
    expect(who.query.client_secret).toBe('<redacted>');
    expect(emu.requests.find((r) => r.route === 'token')!.hasToken).toBe(false);
  });
});

describe('whoami and tenant-list header rules', () => {
  it.each(['partner', 'organization'] as const)('%s: whoami has only apiHosts.global and the tenant list needs the right header', async (idType) => {
    const emu = await startEmulator({ idType, now: NOW });
    try {
      const auth = { authorization: `Bearer ${await token(emu)}` };
      const who = await call(`${emu.apiUrl}/whoami/v1`, auth);
      expect(who.status).toBe(200);
      expect(who.body).toEqual({ id: who.body.id, idType, apiHosts: { global: emu.apiUrl } });
      expect(who.body.id).toMatch(/^[0-9A-F-]{36}$/);
      const header = idType === 'partner' ? 'x-partner-id' : 'x-organization-id';
      const other = idType === 'partner' ? 'organization' : 'partner';
      const list = `${emu.apiUrl}/${idType}/v1/tenants`;
      expect((await call(list, { ...auth, [header]: who.body.id })).status).toBe(200);
      for (const headers of [auth, { ...auth, [header]: '00000000-0000-0000-0000-000000000000' }, { [header]: who.body.id }]) {
        const res = await call(list, headers);
        expect(res.status).toBe(401);
        expect(Object.keys(res.body).sort()).toEqual(['correlationId', 'error', 'message', 'requestId']);
        expect(res.body.error).toBe('notAuthorized');
      }
      // The other kind of tenant list is closed to this credential.
      expect((await call(`${emu.apiUrl}/${other}/v1/tenants`, { ...auth, [header]: who.body.id })).status).toBe(401);
      // Single tenant: listed -> 200, foreign -> 403, unknown -> 404.
      const h = { ...auth, [header]: who.body.id };
      expect((await call(`${list}/${emu.tenants[1]!.id}`, h)).body.id).toBe(emu.tenants[1]!.id);
      expect((await call(`${list}/${emu.foreignTenantId}`, h)).status).toBe(403);
      expect((await call(`${list}/11111111-2222-4333-8444-555555555555`, h)).status).toBe(404);
    } finally {
      await emu.stop();
    }
  });

  it('tenant: whoami has global and dataRegion; only its own tenant is reachable', async () => {
    const emu = await startEmulator({ idType: 'tenant', tenants: 5, now: NOW });
    try {
      expect(emu.tenants).toHaveLength(1);
      const tok = await token(emu);
      const who = await call(`${emu.apiUrl}/whoami/v1`, { authorization: `Bearer ${tok}` });
      expect(who.body).toEqual({ id: emu.tenants[0]!.id, idType: 'tenant', apiHosts: { global: emu.apiUrl, dataRegion: emu.tenants[0]!.apiHost } });
      expect(who.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await call(`${emu.apiUrl}/partner/v1/tenants`, { authorization: `Bearer ${tok}`, 'x-partner-id': who.body.id })).status).toBe(401);
      expect((await tenantApi(emu, tok).get('/endpoint/v1/endpoints')).status).toBe(200);
      const foreign = await call(`${emu.tenants[0]!.apiHost}/endpoint/v1/endpoints`, { authorization: `Bearer ${tok}`, 'x-tenant-id': emu.foreignTenantId });
      expect(foreign.status).toBe(403);
    } finally {
      await emu.stop();
    }
  });
});

describe('tenant API header and token rules', () => {
  let emu: Emulator;
  let tok: string;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, tenants: 4, tokenTtlSeconds: 600 });
    tok = await token(emu);
  });
  afterAll(() => emu.stop());

  const ep = (tenantIndex: number, host = tenantIndex): string => `${emu.tenants[host]!.apiHost}/endpoint/v1/endpoints`;

  it('every route on every host answers 401 without a token or with an unknown one', async () => {
    for (const url of [`${emu.apiUrl}/whoami/v1`, ep(0), `${emu.tenants[1]!.apiHost}/siem/v1/events`]) {
      expect((await call(url, { 'x-tenant-id': emu.tenants[0]!.id })).status).toBe(401);
      expect((await call(url, { authorization: 'Bearer not-a-token', 'x-tenant-id': emu.tenants[0]!.id })).status).toBe(401);
    }
  });

  it('401 for a missing or unknown X-Tenant-ID, 403 for a foreign tenant and for a tenant of another region', async () => {
    const auth = { authorization: `Bearer ${tok}` };
    expect((await call(ep(0), auth)).status).toBe(401);
    expect((await call(ep(0), { ...auth, 'x-tenant-id': '11111111-2222-4333-8444-555555555555' })).status).toBe(401);
    const foreign = await call(ep(0), { ...auth, 'x-tenant-id': emu.foreignTenantId });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toBe('forbidden');
    // Tenants 0 and 1 are in different regions (eu01, us01).
    expect(emu.tenants[0]!.dataRegion).not.toBe(emu.tenants[1]!.dataRegion);
    expect((await call(ep(1, 0), { ...auth, 'x-tenant-id': emu.tenants[1]!.id })).status).toBe(403);
    expect((await call(ep(1), { ...auth, 'x-tenant-id': emu.tenants[1]!.id })).status).toBe(200);
    // All region hosts point back into the emulator on the API's hostname.
    for (const t of emu.tenants) expect(new URL(t.apiHost).hostname).toBe('127.0.0.1');
    expect(Object.values(emu.regionUrls).sort()).toEqual([...new Set(emu.tenants.map((t) => t.apiHost))].sort());
  });

  it('a token expires after tokenTtlSeconds of emulator clock', async () => {
    const t2 = await token(emu);
    const h = { authorization: `Bearer ${t2}`, 'x-tenant-id': emu.tenants[0]!.id };
    emu.clock.advance(599_000);
    expect((await call(ep(0), h)).status).toBe(200);
    emu.clock.advance(1_000);
    expect((await call(ep(0), h)).status).toBe(401);
    emu.clock.advance(-600_000);
  });

  it('expireTokens() ends every issued token; a new one works', async () => {
    const h = (t: string) => ({ authorization: `Bearer ${t}`, 'x-tenant-id': emu.tenants[0]!.id });
    const before = await token(emu);
    expect((await call(ep(0), h(before))).status).toBe(200);
    emu.expireTokens();
    expect((await call(ep(0), h(before))).status).toBe(401);
    expect((await call(ep(0), h(await token(emu)))).status).toBe(200);
    tok = await token(emu);
  });

  it('logs tenantId, route and status of each request', async () => {
    const n = emu.requests.length;
    await call(`${ep(0)}/00000000-0000-4000-8000-000000000000`, { authorization: `Bearer ${tok}`, 'x-tenant-id': emu.tenants[0]!.id });
    expect(emu.requests.slice(n)).toEqual([expect.objectContaining({
      listener: `region:${emu.tenants[0]!.dataRegion}`, method: 'GET', route: 'endpoint', status: 404, tenantId: emu.tenants[0]!.id,
      path: '/endpoint/v1/endpoints/00000000-0000-4000-8000-000000000000',
    })]);
  });
});

describe('malicious apiHost', () => {
  it('adds a tenant whose apiHost is a localhost trap listener that records requests', async () => {
    const emu = await startEmulator({ now: NOW, maliciousApiHost: true });
    try {
      const evil = emu.tenants[emu.tenants.length - 1]!;
      expect(emu.tenants).toHaveLength(4);
      expect(new URL(evil.apiHost).hostname).toBe('localhost');
      expect(evil.apiHost).toBe(emu.trapUrl);
      const res = await call(`${evil.apiHost}/siem/v1/events`, { authorization: `Bearer ${await token(emu)}`, 'x-tenant-id': evil.id });
      expect(res.status).toBe(200);
      const rec = emu.requests.filter((r) => r.listener === 'trap');
      expect(rec).toHaveLength(1);
      expect(rec[0]!.hasToken).toBe(true);
    } finally {
      await emu.stop();
    }
  });
});
