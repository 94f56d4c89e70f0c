// Real proxy paths: the client tunnels through a local CONNECT proxy, from proxy_url or HTTP(S)_PROXY.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClient } from '../helpers/central.js';
import type { Tenant } from '../../src/central/types.js';
import { describeError, NetworkError } from '../../src/errors.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startConnectProxy, type ConnectProxy } from './connect-proxy.js';

describe('proxy', () => {
  let emu: Emulator;
  let proxy: ConnectProxy;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'proxy', tenants: 2, regions: ['eu01', 'us01'], endpointsPerTenant: 12 });
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy?.stop();
    await emu?.stop();
  });

  const hostOf = (url: string): string => new URL(url).host;

  async function runThrough(opts: { proxyUrl?: string; env?: Record<string, string> }): Promise<number> {
    const client = emulatorClient(emu, { env: opts.env ?? {}, proxyUrl: opts.proxyUrl });
    try {
      let endpoints = 0;
      const tenants: Tenant[] = [];
      for await (const t of client.tenants()) tenants.push(t);
      for (const t of tenants) for await (const page of client.forTenant(t).endpointPages()) endpoints += page.items.length;
      return endpoints;
    } finally {
      await client.close();
    }
  }

  it('sends every request through proxy_url, with proxy credentials, to every host', async () => {
    proxy.tunnels.length = 0;
    const withAuth = proxy.url.replace('http://', 'http://svc:pa%24s@');
    expect(await runThrough({ proxyUrl: withAuth })).toBe(24);
    const targets = new Set(proxy.tunnels.map((t) => t.target));
    expect(targets).toEqual(new Set([hostOf(emu.authUrl), hostOf(emu.apiUrl), hostOf(emu.regionUrls.eu01!), hostOf(emu.regionUrls.us01!)]));
    expect(proxy.tunnels.every((t) => t.proxyAuthorization === `Basic ${Buffer.from('svc:pa$s').toString('base64')}`)).toBe(true);
  });

  it('uses HTTP_PROXY from the environment, and NO_PROXY to go direct', async () => {
    proxy.tunnels.length = 0;
    expect(await runThrough({ env: { HTTP_PROXY: proxy.url } })).toBe(24);
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(4);
    proxy.tunnels.length = 0;
    expect(await runThrough({ env: { HTTP_PROXY: proxy.url, NO_PROXY: `example.com,${hostOf(emu.authUrl)}` } })).toBe(24);
    expect(proxy.tunnels.map((t) => t.target)).not.toContain(hostOf(emu.authUrl));
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(3);
    proxy.tunnels.length = 0;
    expect(await runThrough({ env: { HTTPS_PROXY: proxy.url } })).toBe(24);
    expect(proxy.tunnels).toEqual([]); // the emulator is plain http, so HTTPS_PROXY does not apply
  });

  it('a proxy that wants credentials: one attempt, and a NetworkError that says to put them in proxy_url', async () => {
    const authProxy = await startConnectProxy({ requireAuth: `Basic ${Buffer.from('svc:right').toString('base64')}` });
    try {
      const client = emulatorClient(emu, { proxyUrl: authProxy.url.replace('http://', 'http://svc:wrong@'), retryBaseDelayMs: 1 });
      const err = await client.whoami().catch((e: unknown) => e);
      await client.close();
      expect(err).toBeInstanceOf(NetworkError);
      expect(authProxy.tunnels).toHaveLength(1);
      const line = describeError(err);
      expect(line).toMatch(/^Sophos Central connection to http:\/\/127\.0\.0\.1:\d+ failed: UND_ERR_ABORTED Proxy response \(407\) !== 200 when HTTP Tunneling; the proxy refused the user and password in proxy_url: type them again correctly \(POST \/api\/v2\/oauth2\/token\)$/);
      expect(line).not.toContain('wrong');
    } finally {
      await authProxy.stop();
    }
  });

  it('fails with a NetworkError that shows neither the proxy password nor the client secret', async () => {
    const client = emulatorClient(emu, { proxyUrl: 'http://svc:hunter2@127.0.0.1:1', maxAttempts: 2, retryBaseDelayMs: 1 });
    const err = await client.whoami().catch((e: unknown) => e);
    await client.close();
    expect(err).toBeInstanceOf(NetworkError);
    const line = describeError(err);
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain(emu.clientSecret);
  });
});

describe('per-tenant rate limit, real waits', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ seed: 'rate', tenants: 1, eventsPerTenant: 90, rateLimitPerTenant: { requests: 4, perMs: 1000 } });
  });
  afterAll(() => emu?.stop());

  it('honours Retry-After from the API and still delivers every event once', async () => {
    const client = emulatorClient(emu);
    const [tenant] = emu.tenants;
    const api = client.forTenant({ ...tenant!, raw: {} });
    const got: string[] = [];
    for await (const page of api.siemEventPages({ fromDate: Math.floor(emu.clock.now() / 1000) - 86400 + 60, limit: 10 })) {
      got.push(...page.items.map((i) => i.id));
    }
    await client.close();
    expect(got).toHaveLength(90);
    expect(new Set(got).size).toBe(90);
    const limited = emu.requests.filter((r) => r.route === 'siem-events' && r.status === 429).length;
    expect(limited).toBeGreaterThan(0);
    expect(api.stats.rateLimited).toBe(limited);
    // Each 429 costs one extra request at most: the client waits out Retry-After instead of hammering.
    expect(emu.requests.filter((r) => r.route === 'siem-events').length).toBe(9 + limited);
    expect(limited).toBeLessThanOrEqual(3);
  });
});
