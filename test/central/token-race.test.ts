// Tokens revoked twice in a row: a request whose fresh token another request has since replaced, or whose fresh
// token was revoked before anyone renewed it, is not failed for that token's 401. A real server on 127.0.0.1
// orders the steps, so the race is the same every run.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';

const TENANT = '11f104c5-cc4a-4a9f-bb9c-632c936dfb9f';

it("a request whose renewed token was revoked and replaced by another request's renewal retries with the current token", async () => {
  let issued = 0;
  const revoked = new Set<string>();
  let heldA: ServerResponse | undefined;
  let onHold: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (onHold = resolve));
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (url.pathname === '/api/v2/oauth2/token') return json(res, 200, { access_token: `tok-${++issued}`, token_type: 'bearer', expires_in: 3600 });
    if (url.pathname === '/whoami/v1') {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return json(res, 200, { id: TENANT, idType: 'tenant', apiHosts: { global: origin, dataRegion: origin } });
    }
    const id = url.pathname.split('/').pop();
    // A's first token is revoked under it; its renewed one is held until B has revoked that one too and renewed.
    if (id === 'a' && token === 'tok-1') revoked.add(token);
    if (id === 'a' && token === 'tok-2') {
      heldA = res;
      return onHold();
    }
    if (id === 'b' && token === 'tok-2') revoked.add(token);
    if (revoked.has(token)) return json(res, 401, { error: 'Unauthorized', message: 'token revoked' });
    return json(res, 200, { id, type: 'computer' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createCentralClient({ clientId: 'c1', clientSecret: 's3cr3t-value', authUrl: origin, apiUrl: origin, env: {}, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
  try {
    const [tenant] = await (async () => {
      const out = [];
      for await (const t of client.tenants()) out.push(t);
      return out;
    })();
    const api = client.forTenant(tenant!);
    const a = api.getEndpoint('a');
    await held;
    expect(await api.getEndpoint('b')).toMatchObject({ id: 'b' });
    json(heldA!, 401, { error: 'Unauthorized', message: 'token revoked' });
    expect(await a).toMatchObject({ id: 'a' });
    expect(issued).toBe(3);
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

it('a request whose renewed token is revoked before anything renews it asks whoami, and renews again when that token is dead', async () => {
  let issued = 0;
  const revoked = new Set<string>();
  const whoami: string[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (url.pathname === '/api/v2/oauth2/token') return json(res, 200, { access_token: `tok-${++issued}`, token_type: 'bearer', expires_in: 3600 });
    if (url.pathname === '/whoami/v1') {
      whoami.push(token);
      if (revoked.has(token)) return json(res, 401, { error: 'Unauthorized', message: 'token revoked' });
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return json(res, 200, { id: TENANT, idType: 'tenant', apiHosts: { global: origin, dataRegion: origin } });
    }
    const id = url.pathname.split('/').pop();
    // Two revocations in a row: the first token under A, then the one A renewed to, before A sends with it.
    if (id === 'a' && (token === 'tok-1' || token === 'tok-2')) revoked.add(token);
    // `denied`: a tenant's refusal, whatever the token (a wrong X-Tenant-ID is refused with 401 too).
    if (revoked.has(token) || id === 'denied') return json(res, 401, { error: 'Unauthorized', message: 'token revoked' });
    return json(res, 200, { id, type: 'computer' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createCentralClient({ clientId: 'c1', clientSecret: 's3cr3t-value', authUrl: origin, apiUrl: origin, env: {}, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
  try {
    let tenant;
    for await (const t of client.tenants()) tenant = t;
    const api = client.forTenant(tenant!);
    expect(await api.getEndpoint('a')).toMatchObject({ id: 'a' });
    expect(issued).toBe(3);
    expect(whoami).toEqual(['tok-1', 'tok-2']);
    // A 401 that a fresh, working token does not cure is the request's: whoami says the token works, and it is kept.
    await expect(api.getEndpoint('denied')).rejects.toMatchObject({ status: 401 });
    expect(whoami.slice(2)).toEqual(['tok-4']);
    expect(await api.getEndpoint('c')).toMatchObject({ id: 'c' });
    expect(issued).toBe(4);
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
