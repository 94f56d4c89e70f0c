// Tokens revoked twice in a row: a request whose fresh token another request has since replaced, or whose fresh
// token was revoked before anyone renewed it, is not failed for that token's 401. A real server on 127.0.0.1
// orders the steps, so the race is the same every run.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';
import type { TenantApi } from '../../src/central/types.js';

const TENANT = '11f104c5-cc4a-4a9f-bb9c-632c936dfb9f';

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const refuse = (res: ServerResponse) => json(res, 401, { error: 'Unauthorized', message: 'token revoked' });

/** What the server has done so far: tokens issued (`tok-1`, `tok-2`, ...), tokens revoked, tokens whoami was asked with. */
interface Seen {
  issued: number;
  revoked: Set<string>;
  whoami: string[];
}

/**
 * Runs `test` against a client of a tenant-credential server on 127.0.0.1 that issues a new token per request and
 * refuses revoked ones, at whoami too. `endpoint` sees each endpoint request first and may revoke its token, or
 * answer or hold it itself (then it returns true); otherwise the server answers 401 for a revoked token, else 200.
 */
async function withTokenServer(
  endpoint: (id: string, token: string, res: ServerResponse, seen: Seen) => boolean,
  test: (api: TenantApi, seen: Seen) => Promise<void>,
): Promise<void> {
  const seen: Seen = { issued: 0, revoked: new Set(), whoami: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (url.pathname === '/api/v2/oauth2/token') return json(res, 200, { access_token: `tok-${++seen.issued}`, token_type: 'bearer', expires_in: 3600 });
    if (url.pathname === '/whoami/v1') {
      seen.whoami.push(token);
      if (seen.revoked.has(token)) return refuse(res);
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return json(res, 200, { id: TENANT, idType: 'tenant', apiHosts: { global: origin, dataRegion: origin } });
    }
    const id = url.pathname.split('/').pop()!;
    if (endpoint(id, token, res, seen)) return;
    if (seen.revoked.has(token)) return refuse(res);
    return json(res, 200, { id, type: 'computer' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createCentralClient({ clientId: 'c1', clientSecret: 's3cr3t-value', authUrl: origin, apiUrl: origin, env: {}, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
  try {
    let tenant;
    for await (const t of client.tenants()) tenant = t;
    await test(client.forTenant(tenant!), seen);
  } finally {
    await client.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

it("a request whose renewed token was revoked and replaced by another request's renewal retries with the current token", async () => {
  let heldA: ServerResponse | undefined;
  let onHold: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (onHold = resolve));
  await withTokenServer(
    (id, token, res, { revoked }) => {
      // A's first token is revoked under it; its renewed one is held until B has revoked that one too and renewed.
      if (id === 'a' && token === 'tok-1') revoked.add(token);
      if (id === 'a' && token === 'tok-2') {
        heldA = res;
        onHold();
        return true;
      }
      if (id === 'b' && token === 'tok-2') revoked.add(token);
      return false;
    },
    async (api, seen) => {
      const a = api.getEndpoint('a');
      await held;
      expect(await api.getEndpoint('b')).toMatchObject({ id: 'b' });
      refuse(heldA!);
      expect(await a).toMatchObject({ id: 'a' });
      expect(seen.issued).toBe(3);
    },
  );
});

it('a request whose renewed token is revoked before anything renews it asks whoami, and renews again when that token is dead', async () => {
  await withTokenServer(
    (id, token, res, { revoked }) => {
      // Two revocations in a row: the first token under A, then the one A renewed to, before A sends with it.
      if (id === 'a' && (token === 'tok-1' || token === 'tok-2')) revoked.add(token);
      // `denied`: a tenant's refusal, whatever the token (a wrong X-Tenant-ID is refused with 401 too).
      if (id !== 'denied') return false;
      refuse(res);
      return true;
    },
    async (api, seen) => {
      expect(await api.getEndpoint('a')).toMatchObject({ id: 'a' });
      expect(seen.issued).toBe(3);
      expect(seen.whoami).toEqual(['tok-1', 'tok-2']);
      // A 401 that a fresh, working token does not cure is the request's: whoami says the token works, and it is kept.
      await expect(api.getEndpoint('denied')).rejects.toMatchObject({ status: 401 });
      expect(seen.whoami.slice(2)).toEqual(['tok-4']);
      expect(await api.getEndpoint('c')).toMatchObject({ id: 'c' });
      expect(seen.issued).toBe(4);
    },
  );
});
