// A proxy that asks for a password, given in an input's proxy_url as an admin types it: the password moves to
// storage/passwords on the first run and the stanza keeps only ********, as with client_secret.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../central/connect-proxy.js';
import { filesUnder } from '../helpers/files.js';
import { ids, SOURCETYPE, startWorld, type World } from './world.js';

// Reserved characters, %-encoded in the URL as they must be.
const PASSWORD = 'Pr0xy:p@ss/w%rd';
const ENCODED = encodeURIComponent(PASSWORD);

let w: World;
let proxy: ConnectProxy;
beforeAll(async () => {
  w = await startWorld({ seed: 'proxy-credentials', tenants: 2, endpointsPerTenant: 3 });
  proxy = await startConnectProxy({ requireAuth: `Basic ${Buffer.from(`squid:${PASSWORD}`).toString('base64')}` });
});
afterAll(async () => {
  await proxy.stop();
  await w.stop();
});

describe('a proxy password in proxy_url', () => {
  it('moves to storage/passwords on the first run, every later run still authenticates, and it is nowhere else', async () => {
    const hostPort = new URL(proxy.url).host;
    const first = await w.run('auth_proxy', w.params('endpoints', { proxy_url: `http://squid:${ENCODED}@${hostPort}` }));
    expect(first.exitCode).toBe(0);
    expect(ids(first.records, SOURCETYPE.endpoints)).toHaveLength(6);
    expect(w.splunkd.stanzas.get('auth_proxy')!.params).toMatchObject({ client_secret: '********', proxy_url: `http://squid:********@${hostPort}` });
    expect([...w.splunkd.passwords.values()].filter((p) => p.realm === 'sophos_central_proxy')).toEqual([
      { app: 'TA-sophos-central', realm: 'sophos_central_proxy', username: `squid@${hostPort}`, password: PASSWORD },
    ]);
    const tunnelsBefore = proxy.tunnels.length;
    // The stanza as splunkd now holds it: the password masked.
    const second = await w.run('auth_proxy');
    expect(second.exitCode).toBe(0);
    expect(ids(second.records, SOURCETYPE.endpoints)).toHaveLength(6);
    expect(proxy.tunnels.length).toBeGreaterThan(tunnelsBefore);
    const expected = `Basic ${Buffer.from(`squid:${PASSWORD}`).toString('base64')}`;
    expect(proxy.tunnels.every((t) => t.proxyAuthorization === expected)).toBe(true);

    const log = readFileSync(join(w.splunkd.splunkHome, 'var', 'log', 'splunk', 'ta_sophos_central.log'), 'utf8');
    expect(log).toContain(`the proxy_url password for squid@${hostPort} created in storage/passwords (realm sophos_central_proxy)`);
    const places: Record<string, string> = {
      stdout: first.stdout + second.stdout,
      stderr: [...first.stderr, ...second.stderr].join('\n'),
      log,
      checkpoints: filesUnder(w.splunkd.checkpointDir).map((f) => readFileSync(f, 'utf8')).join('\n'),
      stanzas: JSON.stringify([...w.splunkd.stanzas.values()]),
      'splunkd request log': JSON.stringify(w.splunkd.requests),
    };
    for (const [where, text] of Object.entries(places)) {
      expect(text.length, where).toBeGreaterThan(0);
      for (const form of [PASSWORD, ENCODED]) expect(text.includes(form), `proxy password in ${where}`).toBe(false);
    }
  });

  it('a stored password the proxy refuses fails the run with one ERROR line that says so and does not repeat it', async () => {
    const entry = [...w.splunkd.passwords.values()].find((p) => p.realm === 'sophos_central_proxy')!;
    const good = entry.password;
    entry.password = 'Wr0ng-Pr0xy-Passw0rd';
    const r = await w.run('auth_proxy');
    entry.password = good;
    expect(r.exitCode).toBe(1);
    const errors = r.stderr.filter((l) => l.startsWith('ERROR'));
    expect(errors).toEqual([expect.stringMatching(/the proxy refused the user and password in proxy_url: type them again correctly \(POST \/api\/v2\/oauth2\/token\)$/)]);
    expect(r.stderr.join('\n')).not.toContain('Wr0ng-Pr0xy-Passw0rd');
  });

  it("the app-wide proxy's 407 asks for the input's proxy_url, and a password typed into that file is warned about and, refused, named there", async () => {
    const hostPort = new URL(proxy.url).host;
    try {
      w.splunkd.settings.set('proxy', { proxy_url: `http://${hostPort}` });
      const bare = await w.run('app_proxy_bare', w.params('tenants'));
      expect(bare.exitCode).toBe(1);
      expect(bare.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([
        expect.stringMatching(/the proxy requires authentication: put its user and password into proxy_url, as user:password@ before host:port \(POST /),
      ]);
      w.splunkd.settings.set('proxy', { proxy_url: `http://squid:Wr0ng@${hostPort}` });
      const wrong = await w.run('app_proxy_wrong', w.params('tenants'));
      expect(wrong.exitCode).toBe(1);
      expect(wrong.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([
        expect.stringMatching(/the proxy refused the user and password in ta_sophos_central_settings\.conf \[proxy\] proxy_url: type them again correctly \(POST /),
      ]);
      expect(wrong.stderr.join('\n')).not.toContain('Wr0ng');
      // The file is readable by every Splunk user: a password there is used, and said to belong in the input.
      expect(wrong.stderr.filter((l) => l.startsWith('WARN'))).toEqual([
        expect.stringMatching(/ta_sophos_central_settings\.conf \[proxy\] proxy_url holds a proxy password in clear text, which any Splunk user can read: remove it there and give each input its proxy_url with the password/),
      ]);
      expect(bare.stderr.filter((l) => l.startsWith('WARN'))).toEqual([]);
    } finally {
      w.splunkd.settings.set('proxy', { proxy_url: '' });
    }
  });

  it('a masked password with nothing stored for that proxy account stops the run with one ERROR line naming the account', async () => {
    const r = await w.run('unknown_proxy_account', w.params('tenants', { proxy_url: 'http://someone:********@127.0.0.1:9' }));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(/no proxy password stored for someone@127\.0\.0\.1:9; type proxy_url again with the password in it, as user:password@ before host:port$/),
    ]);
  });

  it("a mistyped password in another input's proxy_url replaces nothing: that input alone fails, saying so; a changed password typed again replaces the stored one", async () => {
    const hostPort = new URL(proxy.url).host;
    const stored = () => [...w.splunkd.passwords.values()].find((p) => p.realm === 'sophos_central_proxy' && p.username === `squid@${hostPort}`)!.password;
    const typo = await w.run('typo_proxy', w.params('tenants', { proxy_url: `http://squid:Wr0ng-Typ0@${hostPort}` }));
    expect(typo.exitCode).toBe(1);
    expect(typo.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([
      expect.stringMatching(/the proxy refuses the password in the proxy_url typed into sophos_central:\/\/typo_proxy, so the different password stored for squid@127\.0\.0\.1:\d+, which other inputs with this proxy account use, is kept/),
    ]);
    expect(typo.stderr.join('\n')).not.toContain('Wr0ng-Typ0');
    expect(stored()).toBe(PASSWORD);
    expect(w.splunkd.stanzas.get('typo_proxy')!.params.proxy_url).toBe(`http://squid:Wr0ng-Typ0@${hostPort}`);
    // The input that stored the password still authenticates with it.
    expect((await w.run('auth_proxy')).exitCode).toBe(0);

    const changed = 'N3w-Pr0xy-Passw0rd';
    const before = proxy.requireAuth;
    proxy.requireAuth = `Basic ${Buffer.from(`squid:${changed}`).toString('base64')}`;
    try {
      const rotated = await w.run('typo_proxy', w.params('tenants', { proxy_url: `http://squid:${changed}@${hostPort}` }));
      expect(rotated.exitCode).toBe(0);
      expect(stored()).toBe(changed);
      expect(w.splunkd.stanzas.get('typo_proxy')!.params.proxy_url).toBe(`http://squid:********@${hostPort}`);
      // ... and every input of that proxy account reads the new one.
      expect((await w.run('auth_proxy')).exitCode).toBe(0);
    } finally {
      proxy.requireAuth = before;
      [...w.splunkd.passwords.values()].find((p) => p.username === `squid@${hostPort}`)!.password = PASSWORD;
    }
  });
});
