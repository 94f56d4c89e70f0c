import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, SplunkdError } from '../../src/errors.js';
import { SplunkdClient, checkSplunkdIdentity, splunkdCa } from '../../src/splunk/rest.js';
import { hasOpenssl } from '../splunkd/certs.js';
import { TA_APP, startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

describe('SplunkdClient stopped (SIGTERM)', () => {
  it.each([
    ['does not answer', () => undefined],
    ['stops in the middle of its answer', (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"entry":[');
    }],
  ])('ends a call when splunkd %s with an AbortedError at once, not after its timeout', async (_n, answer) => {
    const server = createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const stop = new AbortController();
    const rest = new SplunkdClient({ serverUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sessionKey: 'k', timeoutMs: 20_000, signal: stop.signal });
    try {
      const call = rest.getPassword('sophos_central', 'c').catch((e: unknown) => e);
      setTimeout(() => stop.abort(), 100);
      const err = await call;
      expect(err).toBeInstanceOf(AbortedError);
      expect((err as Error).message).toBe('stopped during GET /servicesNS/nobody/TA-sophos-central/storage/passwords');
    } finally {
      await rest.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('SplunkdClient against the stand-in (HTTP)', () => {
  let splunkd: SplunkdStandIn;
  beforeAll(async () => {
    splunkd = await startSplunkd({ validateOnEdit: false });
  });
  afterAll(() => splunkd.stop());

  const client = (sessionKey = splunkd.sessionKey) => new SplunkdClient({ serverUri: splunkd.uri, sessionKey });

  it('creates, reads and, on 409, updates a password, always asking for JSON', async () => {
    const rest = client();
    try {
      expect(await rest.getPassword('sophos_central', 'client-1')).toBeUndefined();
      expect(await rest.storePassword('sophos_central', 'client-1', 'first')).toBe('created');
      expect(await rest.storePassword('sophos_central', 'client-1', 'second')).toBe('updated');
      await rest.storePassword('sophos_central_other', 'client-1', 'elsewhere');
      await rest.storePassword('sophos_central', 'client-10', 'near miss');
      expect(await rest.getPassword('sophos_central', 'client-1')).toBe('second');
      expect(splunkd.passwords.get('sophos_central:client-1:')).toEqual({ app: TA_APP, realm: 'sophos_central', username: 'client-1', password: 'second' });
    } finally {
      await rest.close();
    }
    const calls = splunkd.requests.filter((r) => r.path.includes('storage/passwords'));
    // The update goes to the name splunkd lists the entry by, encoded as in the listing's own `id` (splunk-addon.md §3).
    expect(calls.map((r) => `${r.method} ${r.status}`).slice(0, 5)).toEqual(['GET 200', 'POST 201', 'POST 409', 'GET 200', 'POST 200']);
    for (const r of calls) expect(r.method === 'GET' ? r.query.output_mode : r.form.output_mode).toBe('json');
    expect(calls[0]!.query.search).toBe('realm=sophos_central');
    expect(calls[4]!.path).toBe(`/servicesNS/nobody/${TA_APP}/storage/passwords/sophos_central%3Aclient-1%3A`);
  });

  it('stores, updates and reads back a password whose username holds a colon (a proxy account)', async () => {
    const rest = client();
    try {
      expect(await rest.storePassword('sophos_central_proxy', 'squid@proxy.example.com:3128', 'first')).toBe('created');
      expect(await rest.storePassword('sophos_central_proxy', 'squid@proxy.example.com:3128', 'second')).toBe('updated');
      expect(await rest.getPassword('sophos_central_proxy', 'squid@proxy.example.com:3128')).toBe('second');
    } finally {
      await rest.close();
    }
    expect(splunkd.passwords.get('sophos_central_proxy:squid@proxy.example.com\\:3128:')!.password).toBe('second');
  });

  it('edits only the posted fields of an input stanza, URL-encoding the name', async () => {
    splunkd.stanzas.set('prod eu/1', { app: 'search', params: { client_id: 'c', client_secret: 'clear', data: 'alerts' } });
    const rest = client();
    try {
      await rest.updateInput('search', 'prod eu/1', { client_secret: '********' });
      await expect(rest.updateInput(TA_APP, 'prod eu/1', { client_secret: '********' })).rejects.toThrow(/splunkd refused \(404\)/);
    } finally {
      await rest.close();
    }
    expect(splunkd.stanzas.get('prod eu/1')!.params).toEqual({ client_id: 'c', client_secret: '********', data: 'alerts' });
    expect(splunkd.requests.some((r) => r.path === '/servicesNS/nobody/search/data/inputs/sophos_central/prod%20eu%2F1')).toBe(true);
  });

  it('fails with a typed error that names the status but never the session key', async () => {
    const wrongKey = 'not-the-session-key-0123456789';
    const rest = client(wrongKey);
    const err = await rest.getPassword('sophos_central', 'x').catch((e: unknown) => e);
    await rest.close();
    expect(err).toBeInstanceOf(SplunkdError);
    expect((err as SplunkdError).status).toBe(401);
    expect((err as Error).message).toMatch(/^splunkd refused the session key \(401\) on GET \/servicesNS\/nobody\/TA-sophos-central\/storage\/passwords: call not properly authenticated$/);
    expect((err as Error).message).not.toContain(wrongKey);
    expect((err as Error).message).not.toContain(splunkd.sessionKey);
  });

  it('answers Atom XML when output_mode=json is absent, like splunkd', async () => {
    const res = await fetch(`${splunkd.uri}/servicesNS/nobody/${TA_APP}/storage/passwords`, { headers: { authorization: `Splunk ${splunkd.sessionKey}` } });
    expect(res.headers.get('content-type')).toBe('text/xml');
    const body = await res.text();
    expect(body).toContain('<feed xmlns="http://www.w3.org/2005/Atom"');
    expect(body).toContain('<s:key name="realm">sophos_central</s:key>');
  });

  it('stand-in: reads and deletes one entity by its realm:user: name', async () => {
    const auth = { authorization: `Splunk ${splunkd.sessionKey}` };
    const entity = `${splunkd.uri}/servicesNS/nobody/${TA_APP}/storage/passwords/sophos_central%3Aclient-10%3A`;
    const one = (await (await fetch(`${entity}?output_mode=json`, { headers: auth })).json()) as { entry: Array<{ name: string; content: { clear_password: string } }> };
    expect(one.entry.map((e) => [e.name, e.content.clear_password])).toEqual([['sophos_central:client-10:', 'near miss']]);
    expect((await fetch(entity, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(entity, { headers: auth })).status).toBe(404);
    expect((await fetch(entity)).status).toBe(401);
  });

  it('finds a secret past the first 30 entries of the realm, which a listing gives by default', async () => {
    const rest = client();
    try {
      for (let i = 0; i < 31; i++) await rest.storePassword('sophos_central_many', `many-${String(i).padStart(2, '0')}`, `secret-${i}`);
      expect(await rest.getPassword('sophos_central_many', 'many-30')).toBe('secret-30');
    } finally {
      await rest.close();
    }
    const auth = { authorization: `Splunk ${splunkd.sessionKey}` };
    const list = `${splunkd.uri}/servicesNS/nobody/${TA_APP}/storage/passwords?output_mode=json&search=realm%3Dsophos_central_many`;
    const listed = (await (await fetch(list, { headers: auth })).json()) as { entry: unknown[] };
    expect(listed.entry).toHaveLength(30);
  });

  it('stand-in: names a password as splunkd does, :username: without a realm and a colon inside a part as \\:', async () => {
    const auth = { authorization: `Splunk ${splunkd.sessionKey}`, 'content-type': 'application/x-www-form-urlencoded' };
    const create = async (body: string) => {
      const res = await fetch(`${splunkd.uri}/servicesNS/nobody/${TA_APP}/storage/passwords?output_mode=json`, { method: 'POST', headers: auth, body });
      expect(res.status).toBe(201);
      return ((await res.json()) as { entry: Array<{ name: string }> }).entry[0]!.name;
    };
    expect(await create('name=bob&password=pw')).toBe(':bob:');
    expect(await create('realm=a%3Ab&name=c&password=pw')).toBe('a\\:b:c:');
    // Distinct entries, which unescaped names would confuse.
    expect(await create('realm=a&name=b%3Ac&password=pw')).toBe('a:b\\:c:');
  });

  it('reports an unreachable splunkd clearly', async () => {
    const rest = new SplunkdClient({ serverUri: 'http://127.0.0.1:1', sessionKey: 'k' });
    await expect(rest.getPassword('r', 'u')).rejects.toThrow(/^cannot reach splunkd at http:\/\/127\.0\.0\.1:1 \(GET .*\): /);
    await rest.close();
  });
});

describe.skipIf(!hasOpenssl())('SplunkdClient over HTTPS with a Splunk-like default certificate', () => {
  let splunkd: SplunkdStandIn;
  beforeAll(async () => {
    splunkd = await startSplunkd({ https: true, validateOnEdit: false });
  });
  afterAll(() => splunkd.stop());

  it('trusts $SPLUNK_HOME/etc/auth/cacert.pem and accepts CN=SplunkServerDefaultCert on 127.0.0.1', async () => {
    expect(splunkd.uri).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, splunkHome: splunkd.splunkHome });
    expect(await rest.storePassword('sophos_central', 'tls-client', 'x')).toBe('created');
    expect(await rest.getPassword('sophos_central', 'tls-client')).toBe('x');
    await rest.close();
  });

  it('keeps chain validation: without Splunk CA the connection is refused, with a hint', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    await expect(rest.getPassword('sophos_central', 'x')).rejects.toThrow(/^cannot reach splunkd .*certificate.*the add-on verifies splunkd's certificate against Node's public CAs/);
    await rest.close();
  });
});

describe.skipIf(!hasOpenssl())('SplunkdClient over HTTPS with a certificate for another name', () => {
  let splunkd: SplunkdStandIn;
  beforeAll(async () => {
    // What an admin who hardens the management port installs: a certificate for the host's full name, which
    // hostname() may not return.
    splunkd = await startSplunkd({ https: true, certCommonName: `${hostname()}.corp.example`, validateOnEdit: false });
  });
  afterAll(() => splunkd.stop());

  it('accepts it on 127.0.0.1, where no certificate can name the address, since its chain is valid', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, splunkHome: splunkd.splunkHome });
    expect(await rest.storePassword('sophos_central', 'fqdn-client', 'x')).toBe('created');
    expect(await rest.getPassword('sophos_central', 'fqdn-client')).toBe('x');
    await rest.close();
  });

  it('still refuses it without the CA that signed it', async () => {
    const before = splunkd.requests.length;
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    await expect(rest.getPassword('sophos_central', 'x')).rejects.toThrow(/^cannot reach splunkd .*certificate/);
    await rest.close();
    expect(splunkd.requests).toHaveLength(before);
  });
});

describe('checkSplunkdIdentity', () => {
  const cert = (cn: string, san?: string) => ({ subject: { CN: cn }, ...(san ? { subjectaltname: san } : {}) }) as unknown as PeerCertificate;
  it.each([
    ['127.0.0.1', cert('SplunkServerDefaultCert'), true],
    ['::1', cert('SplunkServerDefaultCert'), true],
    ['localhost', cert('SplunkServerDefaultCert'), true],
    ['127.0.0.1', cert(hostname()), true],
    ['127.0.0.1', cert('other.example.com'), true],
    ['127.0.0.1', cert(`${hostname()}.corp.example`), true],
    ['splunk.example.com', cert('SplunkServerDefaultCert'), false],
    ['splunk.example.com', cert('splunk.example.com'), true],
    ['10.0.0.5', cert('x', 'IP Address:10.0.0.5'), true],
    [hostname(), cert('SplunkServerDefaultCert'), true],
  ])('%s with %o -> accepted %s', (host, c, accepted) => {
    expect(checkSplunkdIdentity(host, c) === undefined).toBe(accepted);
  });

  it("leaves the name check out on this host's own interface addresses, as on loopback", () => {
    const own = Object.values(networkInterfaces()).flatMap((i) => i ?? []).filter((i) => !i.internal);
    for (const { address } of own) {
      expect(checkSplunkdIdentity(address, cert('SplunkServerDefaultCert')), address).toBeUndefined();
      expect(checkSplunkdIdentity(address, cert('other.example.com')), address).toBeUndefined();
    }
    // An address that is not this host's still needs a certificate for it.
    expect(own.some((i) => i.address === '192.0.2.77')).toBe(false);
    expect(checkSplunkdIdentity('192.0.2.77', cert('SplunkServerDefaultCert'))).toBeInstanceOf(Error);
  });
});

describe('splunkdCa', () => {
  it('prefers server.conf sslRootCAPath (with $SPLUNK_HOME) over etc/auth/cacert.pem', () => {
    const home = mkdtempSync(join(tmpdir(), 'ta-ca-'));
    try {
      expect(splunkdCa(home)).toEqual({});
      mkdirSync(join(home, 'etc/auth/mycerts'), { recursive: true });
      writeFileSync(join(home, 'etc/auth/cacert.pem'), 'DEFAULT CA');
      expect(splunkdCa(home)).toEqual({ ca: 'DEFAULT CA', path: join(home, 'etc/auth/cacert.pem') });
      mkdirSync(join(home, 'etc/system/local'), { recursive: true });
      writeFileSync(join(home, 'etc/auth/mycerts/root.pem'), 'MY CA');
      writeFileSync(join(home, 'etc/system/local/server.conf'), '[general]\nserverName = x\n\n[sslConfig]\nsslRootCAPath = $SPLUNK_HOME/etc/auth/mycerts/root.pem\n');
      expect(splunkdCa(home)).toEqual({ ca: 'MY CA', path: join(home, 'etc/auth/mycerts/root.pem') });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("reads [sslConfig] across server.conf in splunkd's global precedence, and the older caCertFile/caPath", () => {
    const home = mkdtempSync(join(tmpdir(), 'ta-ca-'));
    const conf = (dir: string, body: string) => {
      mkdirSync(join(home, dir), { recursive: true });
      writeFileSync(join(home, dir, 'server.conf'), `[sslConfig]\n${body}\n`);
    };
    const pem = (name: string) => {
      mkdirSync(join(home, 'certs'), { recursive: true });
      writeFileSync(join(home, 'certs', name), name);
      return join(home, 'certs', name);
    };
    try {
      mkdirSync(join(home, 'etc/auth'), { recursive: true });
      writeFileSync(join(home, 'etc/auth/cacert.pem'), 'DEFAULT CA');
      conf('etc/system/default', 'sslVerifyServerCert = false');
      // The older setting, from an app's default: caCertFile in caPath.
      conf('etc/apps/zz_org_ssl/default', `caPath = ${join(home, 'certs')}\ncaCertFile = old.pem`);
      pem('old.pem');
      expect(splunkdCa(home)).toEqual({ ca: 'old.pem', path: join(home, 'certs/old.pem') });
      // A deployment app's local beats any app's default; the app first in ASCII order beats the next.
      conf('etc/apps/org_ssl/local', `sslRootCAPath = ${pem('org.pem')}`);
      conf('etc/apps/zz_org_ssl/local', `sslRootCAPath = ${pem('zz.pem')}`);
      expect(splunkdCa(home).path).toBe(join(home, 'certs/org.pem'));
      // system/local beats every app.
      conf('etc/system/local', `sslRootCAPath = $SPLUNK_HOME/certs/${'sys.pem'}`);
      pem('sys.pem');
      expect(splunkdCa(home)).toEqual({ ca: 'sys.pem', path: join(home, 'certs/sys.pem') });
      // A configured CA that cannot be read falls back to Splunk's default, not to the next setting.
      rmSync(join(home, 'certs/sys.pem'));
      expect(splunkdCa(home)).toEqual({ ca: 'DEFAULT CA', path: join(home, 'etc/auth/cacert.pem') });
      // Set empty in system/local, it is unset there, as splunkd reads it: the apps' values no longer count.
      conf('etc/system/local', 'sslRootCAPath =\ncaCertFile =');
      expect(splunkdCa(home)).toEqual({ ca: 'DEFAULT CA', path: join(home, 'etc/auth/cacert.pem') });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
