import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ROOT } from '../helpers/paths.js';
import { startEmulator, type Emulator } from './index.js';
import { call, tenantApi, token } from './test-http.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const fixture = (name: string): any => JSON.parse(readFileSync(join(FIXTURES, 'sophos', name), 'utf8'));

type Shape = string | { [k: string]: Shape } | Shape[];

/** The JSON type tree of a value: objects by key, arrays by the union of their elements' shapes. */
function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Every key of `actual` exists in `expected` with the same JSON type, recursively, and every key of
 * `expected` is in `actual` unless listed as optional (dotted path; `[]` for array elements).
 */
function sameShape(actual: unknown, expected: unknown, optional: Set<string>, nullable: Set<string>, path = ''): string[] {
  const errors: string[] = [];
  const ta = jsonType(actual);
  const te = jsonType(expected);
  if (ta !== te && !(ta === 'null' && nullable.has(path)) && !(te === 'null' && nullable.has(path))) return [`${path || '<root>'}: ${ta} != ${te}`];
  if (ta === 'array' && te === 'array') {
    const e = (expected as unknown[])[0];
    if (e !== undefined) for (const a of actual as unknown[]) errors.push(...sameShape(a, e, optional, nullable, `${path}[]`));
  } else if (ta === 'object' && te === 'object') {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    for (const k of Object.keys(a)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in e)) errors.push(`${p}: not in the fixture`);
      else errors.push(...sameShape(a[k], e[k], optional, nullable, p));
    }
    for (const k of Object.keys(e)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in a) && !optional.has(p)) errors.push(`${p}: missing`);
    }
  }
  return errors;
}

describe('emulator items have the shape of the real payloads', () => {
  let emu: Emulator;
  let api: ReturnType<typeof tenantApi>;
  let tok: string;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, endpointsPerTenant: 300, alertsPerTenant: 3000, eventsPerTenant: 2000 });
    tok = await token(emu);
    api = tenantApi(emu, tok);
  });
  afterAll(() => emu.stop());

  it('endpoints match endpoint-endpoints-list.json (with real booleans); the two fixture items cover computer and server', async () => {
    const fx = fixture('endpoint-endpoints-list.json');
    // SOURCES.md: the fixture's "True"/"False" strings are an XSOAR artefact; the API sends booleans.
    for (const item of fx.items) {
      item.os.isServer = item.os.isServer === 'True';
      item.tamperProtectionEnabled = item.tamperProtectionEnabled === 'True';
    }
    const merged = { ...fx.items[0], ...fx.items[1] };
    // Blocks left out when they do not apply: encryption (servers, non-Windows), lockdown (computers), os.build (Linux, macOS).
    const optional = new Set(['encryption', 'lockdown', 'os.build']);
    const items = (await api.get('/endpoint/v1/endpoints', { pageSize: '300' })).body.items;
    const errors = items.flatMap((e: unknown) => sameShape(e, merged, optional, new Set()));
    expect([...new Set(errors)]).toEqual([]);
    expect(fx.pages).toEqual({ size: 50, maxSize: 500 });
    expect((await api.get('/endpoint/v1/endpoints')).body.pages).toEqual({ nextKey: expect.any(String), ...fx.pages });
    // Variety a clean-up can be tested against.
    const types = new Set(items.map((e: any) => e.type));
    const builds = new Set(items.map((e: any) => e.os.build).filter((b: unknown) => b !== undefined));
    const hostnames = items.map((e: any) => e.hostname);
    expect(types).toEqual(new Set(['computer', 'server']));
    expect(builds.size).toBeGreaterThan(4);
    expect(new Set(hostnames).size).toBeLessThan(hostnames.length); // re-imaged devices share a hostname
    expect(items.every((e: any) => /^[A-Z0-9-]+\\[\w.]+$/.test(e.associatedPerson.viaLogin))).toBe(true);
    expect(new Set(items.map((e: any) => e.health.overall))).toEqual(new Set(['good', 'suspicious', 'bad', 'unknown']));
  });

  it('alerts match common-alerts-list.json', async () => {
    const fx = fixture('common-alerts-list.json');
    const items = (await api.get('/common/v1/alerts', { pageSize: '1000' })).body.items;
    expect(items).toHaveLength(1000);
    expect([...new Set(items.flatMap((a: unknown) => sameShape(a, fx.items[0], new Set(), new Set())))]).toEqual([]);
    expect(Buffer.from(items[0].groupKey, 'base64').toString()).toMatch(/^1,Event::Endpoint::[\w:]+,16,/);
    const fxKey = Buffer.from(fx.items[0].groupKey, 'base64').toString();
    expect(fxKey).toBe('1,Event::Endpoint::Threat::CleanupFailed,16,EICAR-AV-Test');
    expect(items.map((a: any) => a.groupKey)).toContain(fx.items[0].groupKey);
  });

  it('SIEM events match siem-event-item.json (optional threat blocks; origin and threat nullable)', async () => {
    const fx = fixture('siem-event-item.json');
    const optional = new Set(['appSha256', 'appCerts', 'ips_threat_data', 'amsi_threat_data', 'core_remedy_items']);
    const items = (await api.get('/siem/v1/events', { limit: '1000' })).body.items;
    expect([...new Set(items.flatMap((e: unknown) => sameShape(e, fx, optional, new Set(['origin', 'threat']))))]).toEqual([]);
    // Every optional block occurs somewhere.
    for (const k of optional) expect(items.some((e: any) => k in e), k).toBe(true);
  });

  it('tenants match partner-tenant-get.json, the token and whoami their fixtures, errors error-404-notfound.json', async () => {
    const who = await call(`${emu.apiUrl}/whoami/v1`, { authorization: `Bearer ${tok}` });
    const t = await call(`${emu.apiUrl}/partner/v1/tenants/${emu.tenants[0]!.id}`, { authorization: `Bearer ${tok}`, 'x-partner-id': who.body.id });
    expect(sameShape(t.body, fixture('partner-tenant-get.json'), new Set(), new Set())).toEqual([]);
    const tenantEmu = await startEmulator({ idType: 'tenant', now: NOW });
    try {
      const tw = await call(`${tenantEmu.apiUrl}/whoami/v1`, { authorization: `Bearer ${await token(tenantEmu)}` });
      expect(sameShape(tw.body, fixture('whoami-tenant.json'), new Set(), new Set())).toEqual([]);
    } finally {
      await tenantEmu.stop();
    }
    const res = await fetch(`${emu.authUrl}/api/v2/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: 'token' }),
    });
    expect(sameShape(await res.json(), fixture('oauth-token-response.json'), new Set(), new Set())).toEqual([]);
    const nf = await api.get('/endpoint/v1/endpoints/11111111-2222-4333-8444-555555555555');
    expect(sameShape(nf.body, fixture('error-404-notfound.json'), new Set(), new Set())).toEqual([]);
    expect(nf.body.error).toBe(fixture('error-404-notfound.json').error);
  });
});

describe('determinism and scale', () => {
  async function snapshot(seed: number | string): Promise<string[]> {
    const emu = await startEmulator({ seed, now: NOW, tenants: 2 });
    try {
      const api = tenantApi(emu, await token(emu), 1);
      const strip = (body: any): string => JSON.stringify(body);
      return [
        JSON.stringify(emu.tenants.map((t) => [t.id, t.name, t.dataRegion])), emu.clientId,
        strip((await api.get('/endpoint/v1/endpoints', { pageSize: '20', view: 'full' })).body),
        strip((await api.get('/common/v1/alerts', { pageSize: '20' })).body),
        strip((await api.get('/siem/v1/events', { limit: '20' })).body),
      ];
    } finally {
      await emu.stop();
    }
  }

  it('the same seed and clock give the same data; another seed gives other data', async () => {
    const a = await snapshot(7);
    expect(await snapshot('7')).toEqual(a);
    const b = await snapshot(8);
    for (let i = 0; i < a.length; i++) expect(b[i]).not.toEqual(a[i]);
  });

  it('serves 1,000 tenants x 1,000 endpoints and 1,000,000 events per tenant, generated per page', async () => {
    const emu = await startEmulator({ now: NOW, tenants: 1000, endpointsPerTenant: 1000, eventsPerTenant: 1_000_000, alertsPerTenant: 1_000_000 });
    try {
      expect(emu.tenants).toHaveLength(1000);
      const tok = await token(emu);
      const last = tenantApi(emu, tok, 999);
      const p1 = await last.get('/endpoint/v1/endpoints', { pageSize: '500', pageTotal: 'true' });
      expect(p1.body.pages).toMatchObject({ total: 2, items: 1000 });
      const p2 = await last.get('/endpoint/v1/endpoints', { pageSize: '500', pageFromKey: p1.body.pages.nextKey });
      expect(p2.body.items).toHaveLength(500);
      expect(p2.body.pages.nextKey).toBeUndefined();
      // A page deep inside a million events, reached through from_date.
      const late = await last.get('/siem/v1/events', { limit: '1000', from_date: String(Math.floor((NOW - 3_600_000) / 1000)) });
      expect(late.body.items).toHaveLength(1000);
      expect(Date.parse(late.body.items[0].created_at)).toBeGreaterThanOrEqual(NOW - 3_600_000);
      const alerts = await last.get('/common/v1/alerts', { pageSize: '1000', sort: 'raisedAt:asc', from: new Date(NOW - 86_400_000).toISOString() });
      expect(alerts.body.items).toHaveLength(1000);
      expect(alerts.body.pages.nextKey).toMatch(/^\d+$/);
    } finally {
      await emu.stop();
    }
  });
});

describe('npm run emulator', () => {
  it('prints one JSON line with the URLs and credentials, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'test', 'emulator', 'cli.ts'),
      '--tenants', '4', '--seed', 'cli', '--id-type', 'organization', '--endpoints', '5', '--latency-ms', '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      const info = JSON.parse(line);
      expect(Object.keys(info)).toEqual(['authUrl', 'apiUrl', 'clientId', 'clientSecret', 'idType']);
      expect(info.idType).toBe('organization');
      const asked = performance.now();
      const res = await fetch(`${info.authUrl}/api/v2/oauth2/token`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: info.clientId, client_secret: info.clientSecret, scope: 'token' }),
      });
      const tok = ((await res.json()) as { access_token: string }).access_token;
      expect(performance.now() - asked).toBeGreaterThanOrEqual(119);
      const who = await call(`${info.apiUrl}/whoami/v1`, { authorization: `Bearer ${tok}` });
      const list = await call(`${info.apiUrl}/organization/v1/tenants?pageTotal=true`, { authorization: `Bearer ${tok}`, 'x-organization-id': who.body.id });
      expect(list.body.pages.items).toBe(4);
    } finally {
      const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await code).toBe(0);
    }
  });

  it('rejects a bad option with a one-line error and exit code 2', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'test', 'emulator', 'cli.ts'), '--id-type', 'admin'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(err.split('\n')[0]).toBe('emulator: --id-type must be partner, organization or tenant, got "admin"');
  });
});
