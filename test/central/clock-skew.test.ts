// The client measures how far this host's clock is off Sophos Central's from the Date of its answers. Sophos
// dates an answer as it starts sending it: the skew is read when the headers arrive, not once the body has, or a
// large page over a slow link would make this host look ahead by the page's transfer time. That error moves
// every SIEM from_date and alerts window earlier, and past the API's 24 hours a from_date is refused. For the
// same reason an answer a proxy's cache kept (it carries `Age`) is read as of when Sophos sent it.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';

const MIN = 60_000;
/** This host's clock, as the client reads it; the server dates its answers by it too (no real skew). */
const clock = { t: Date.UTC(2025, 0, 10, 12, 0, 0) };

let server: Server;
let url: string;
/** Whether whoami is answered from a proxy's cache. */
let cached = false;
/** Whether whoami is refused, by Sophos or by a proxy. */
let refusing: 'sophos' | 'proxy' | undefined;
const whoami = () => ({ id: 'tenant-1', idType: 'tenant', apiHosts: { global: url, dataRegion: url } });
beforeAll(async () => {
  server = createServer((req, res) => {
    const headers = { 'content-type': 'application/json', date: new Date(clock.t).toUTCString() };
    if (req.url?.startsWith('/api/v2/oauth2/token')) {
      res.writeHead(200, headers).end(JSON.stringify({ access_token: 'token', token_type: 'bearer', expires_in: 3600 }));
      return;
    }
    if (refusing !== undefined) {
      // An error dated by a Sophos clock an hour behind: its own body (correlationId), or a proxy's page.
      const body = refusing === 'sophos' ? JSON.stringify({ error: 'badRequest', message: 'Bad request.', correlationId: 'c-1', requestId: 'r-1' }) : '<html>Bad gateway</html>';
      res.writeHead(refusing === 'sophos' ? 400 : 502, { ...headers, date: new Date(clock.t - 60 * MIN).toUTCString() }).end(body);
      return;
    }
    if (cached) {
      // An answer a proxy kept an hour: dated when Sophos sent it, by a Sophos clock five minutes behind this host's.
      res.writeHead(200, { ...headers, date: new Date(clock.t - 65 * MIN).toUTCString(), age: '3600' }).end(JSON.stringify(whoami()));
      return;
    }
    // whoami: the headers at once, the body ten minutes of this host's clock later (a slow transfer).
    res.writeHead(200, headers);
    res.flushHeaders();
    setTimeout(() => {
      clock.t += 10 * MIN;
      res.end(JSON.stringify(whoami()));
    }, 50);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('clock skew', () => {
  it('is read when the answer starts, not after a slow body', async () => {
    const client = createCentralClient({ clientId: 'id', clientSecret: 'secret', authUrl: url, apiUrl: url, env: {}, now: () => clock.t });
    try {
      await client.whoami();
      expect(client.clockSkewMs).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('is read from an answer a cache kept as of when Sophos sent it: Date plus Age', async () => {
    const client = createCentralClient({ clientId: 'id', clientSecret: 'secret', authUrl: url, apiUrl: url, env: {}, now: () => clock.t });
    cached = true;
    try {
      await client.whoami();
      // Five minutes ahead, as this host is: not an hour and five.
      expect(client.clockSkewMs).toBe(5 * MIN);
    } finally {
      cached = false;
      await client.close();
    }
  });

  it.each([
    ['is read from an error with Sophos\'s own body', 'sophos', 60 * MIN],
    ['is not read from an error a proxy sent', 'proxy', 0],
  ] as const)('%s', async (_what, by, skew) => {
    const client = createCentralClient({ clientId: 'id', clientSecret: 'secret', authUrl: url, apiUrl: url, env: {}, now: () => clock.t, maxAttempts: 1 });
    refusing = by;
    try {
      await expect(client.whoami()).rejects.toThrow();
      expect(client.clockSkewMs).toBe(skew);
    } finally {
      refusing = undefined;
      await client.close();
    }
  });

  it("Sophos's clock now (sophosNow) is its latest answer's Date and the time since, whatever this host's clock does after", async () => {
    const client = createCentralClient({ clientId: 'id', clientSecret: 'secret', authUrl: url, apiUrl: url, env: {}, now: () => clock.t });
    cached = true;
    try {
      expect(client.sophosNow()).toBeUndefined();
      await client.whoami();
      const sent = clock.t - 65 * MIN + 3600_000;
      // NTP steps this host's clock two hours on: the skew's reading of Sophos's clock moves with it, this does not.
      clock.t += 120 * MIN;
      const now = client.sophosNow()!;
      expect(now).toBeGreaterThanOrEqual(sent);
      expect(now - sent).toBeLessThan(5_000);
      expect(clock.t - client.clockSkewMs! - now).toBeGreaterThan(119 * MIN);
    } finally {
      cached = false;
      await client.close();
    }
  });
});
