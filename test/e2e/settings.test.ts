// App-wide settings from the setup page (ta_sophos_central_settings.conf through splunkd REST): [proxy] proxy_url
// applies to every input that has none of its own, [logging] loglevel sets the log level unless
// TA_SOPHOS_CENTRAL_LOG_LEVEL overrides it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startConnectProxy, type ConnectProxy } from '../central/connect-proxy.js';
import { ids, SOURCETYPE, startWorld, type World } from './world.js';

let w: World;
let appProxy: ConnectProxy;
let stanzaProxy: ConnectProxy;
beforeAll(async () => {
  w = await startWorld({ seed: 'settings', tenants: 2, endpointsPerTenant: 3 });
  [appProxy, stanzaProxy] = await Promise.all([startConnectProxy(), startConnectProxy()]);
});
afterAll(async () => {
  await Promise.all([appProxy.stop(), stanzaProxy.stop()]);
  await w.stop();
});
beforeEach(() => {
  w.splunkd.settings.set('proxy', { proxy_url: '' });
  w.splunkd.settings.set('logging', { loglevel: 'INFO' });
});

const logLines = (stanza: string) =>
  readFileSync(join(w.splunkd.splunkHome, 'var', 'log', 'splunk', 'ta_sophos_central.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`stanza=sophos_central://${stanza} `));
const settingsReads = () => w.splunkd.requests.filter((r) => r.path === '/servicesNS/nobody/TA-sophos-central/configs/conf-ta_sophos_central_settings');

describe('app-wide settings read through splunkd REST at run start', () => {
  it('the stand-in serves and edits ta_sophos_central_settings like splunkd', async () => {
    const headers = { authorization: `Splunk ${w.splunkd.sessionKey}`, 'content-type': 'application/x-www-form-urlencoded' };
    const base = '/servicesNS/nobody/TA-sophos-central/configs/conf-ta_sophos_central_settings';
    const post = await w.splunkd.fetch(`${base}/logging`, { method: 'POST', headers, body: 'loglevel=WARN&output_mode=json' });
    expect(post.status).toBe(200);
    const list = (await (await w.splunkd.fetch(`${base}?output_mode=json`, { headers })).json()) as { entry: Array<{ name: string; content: Record<string, string> }> };
    expect(list.entry).toEqual([
      expect.objectContaining({ name: 'proxy', content: { proxy_url: '' } }),
      expect.objectContaining({ name: 'logging', content: { loglevel: 'WARN' } }),
    ]);
    expect((await w.splunkd.fetch(`${base}?output_mode=json`)).status).toBe(401);
  });

  it('loglevel DEBUG from the setup page adds debug lines to the log file; the environment variable still wins', async () => {
    w.splunkd.settings.set('logging', { loglevel: 'DEBUG' });
    const before = settingsReads().length;
    expect((await w.run('debug_app', w.params('endpoints'))).exitCode).toBe(0);
    expect(settingsReads().length).toBe(before + 1);
    expect(logLines('debug_app').some((l) => / DEBUG /.test(l))).toBe(true);
    expect((await w.run('debug_env', w.params('endpoints'), { env: { TA_SOPHOS_CENTRAL_LOG_LEVEL: 'INFO' } })).exitCode).toBe(0);
    expect(logLines('debug_env').some((l) => / DEBUG /.test(l))).toBe(false);
    expect(logLines('debug_env').some((l) => / INFO /.test(l))).toBe(true);
  });

  it("loglevel takes Python logging's names too, and an unknown one is named in a WARN line", async () => {
    w.splunkd.settings.set('logging', { loglevel: 'warning' });
    expect((await w.run('python_level', w.params('tenants'))).exitCode).toBe(0);
    expect(logLines('python_level')).toEqual([]);
    w.splunkd.settings.set('logging', { loglevel: 'VERBOSE' });
    const r = await w.run('unknown_level', w.params('tenants'));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(
      'WARN TA-sophos-central sophos_central://unknown_level: [logging] loglevel = VERBOSE in ta_sophos_central_settings.conf is not DEBUG, INFO, WARN(ING) or ERROR, so it is ignored',
    );
    expect(logLines('unknown_level').some((l) => / INFO .*starting tenants collection with TA-sophos-central .* on Node v\d+/.test(l))).toBe(true);
  });

  it('the app-wide proxy carries the traffic of an input without its own proxy_url', async () => {
    w.splunkd.settings.set('proxy', { proxy_url: appProxy.url });
    const r = await w.run('via_app_proxy', w.params('endpoints'));
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.endpoints)).toHaveLength(6);
    expect(appProxy.tunnels.length).toBeGreaterThan(0);
  });

  it("an input's own proxy_url wins over the app-wide one", async () => {
    w.splunkd.settings.set('proxy', { proxy_url: appProxy.url });
    const before = appProxy.tunnels.length;
    const r = await w.run('via_stanza_proxy', w.params('endpoints', { proxy_url: stanzaProxy.url }));
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.endpoints)).toHaveLength(6);
    expect(stanzaProxy.tunnels.length).toBeGreaterThan(0);
    expect(appProxy.tunnels.length).toBe(before);
  });

  it('a malformed app-wide proxy stops the run with one ERROR line naming the settings file, once the clear secret is stored and masked', async () => {
    w.splunkd.settings.set('proxy', { proxy_url: 'socks5://proxy:1080' });
    const r = await w.run('bad_app_proxy', w.params('tenants'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr.filter((l) => l.startsWith('ERROR'))).toEqual([expect.stringMatching(/ta_sophos_central_settings\.conf \[proxy\]: .*proxy_url must be http:\/\/host:port/)]);
    expect(w.splunkd.stanzas.get('bad_app_proxy')!.params.client_secret).toBe('********');
  });

  it('a malformed app-wide proxy does not concern an input with its own proxy_url, nor does a password in it', async () => {
    w.splunkd.settings.set('proxy', { proxy_url: 'socks5://proxy:1080' });
    const r = await w.run('own_proxy_bad_app', w.params('endpoints', { proxy_url: stanzaProxy.url }));
    expect(r.exitCode).toBe(0);
    expect(ids(r.records, SOURCETYPE.endpoints)).toHaveLength(6);
    w.splunkd.settings.set('proxy', { proxy_url: `http://squid:Pw0rd@${new URL(appProxy.url).host}` });
    const unused = await w.run('own_proxy_bad_app');
    expect(unused.exitCode).toBe(0);
    expect(unused.stderr.filter((l) => l.startsWith('WARN'))).toEqual([]);
  });
});
