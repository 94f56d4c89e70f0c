import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SplunkdError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { type CheckSecret, clearSecretFields, resolveSecrets, type SecretStore, type SecretVerdict } from '../../src/splunk/credentials.js';
import { SplunkdClient } from '../../src/splunk/rest.js';
import { startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

let splunkd: SplunkdStandIn;
beforeAll(async () => {
  splunkd = await startSplunkd({ validateOnEdit: false });
});
afterAll(() => splunkd.stop());

function recorder() {
  const lines: string[] = [];
  const logger: Logger = { debug: (m) => lines.push(`DEBUG ${m}`), info: (m) => lines.push(`INFO ${m}`), warn: (m) => lines.push(`WARN ${m}`), error: (m) => lines.push(`ERROR ${m}`) };
  return { lines, logger };
}
const stanza = (inputName: string, params: Record<string, string> = {}) => ({ name: `sophos_central://${inputName}`, inputName, app: 'TA-sophos-central', params });

/** resolveSecrets against the stand-in, with a check that answers `verdict` and records what it was asked. */
async function resolveAnswering(def: ReturnType<typeof stanza>, config: Parameters<typeof resolveSecrets>[1], verdict: SecretVerdict) {
  const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
  const { lines, logger } = recorder();
  const asked: Array<[string, string | undefined]> = [];
  const check: CheckSecret = async (secret, proxyUrl) => {
    asked.push([secret, proxyUrl]);
    return verdict;
  };
  try {
    const result = await resolveSecrets(def, config, rest, logger, check).catch((e: unknown) => e);
    return { result, lines, asked };
  } finally {
    await rest.close();
  }
}

describe('resolveSecrets: the client secret', () => {
  it('updates an existing stored secret when a new clear secret is typed into the stanza', async () => {
    splunkd.passwords.set('sophos_central:rotated:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'rotated', password: 'old' });
    splunkd.stanzas.set('rot', { app: 'TA-sophos-central', params: { client_id: 'rotated', client_secret: 'new-secret' } });
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    const params = { client_id: 'rotated', client_secret: 'new-secret', data: 'alerts', start_days: '7', interval: '300', index: 'sophos' };
    expect(await resolveSecrets(stanza('rot', params), { clientId: 'rotated', clientSecret: 'new-secret' }, rest, logger)).toEqual({ clientSecret: 'new-secret' });
    await rest.close();
    // The edit posts the mask alone: an edit leaves what it does not post as it was, inherited values unpinned.
    const edit = splunkd.requests.find((r) => r.path.endsWith('/data/inputs/sophos_central/rot'))!;
    expect(edit.form).toEqual({ client_secret: '********', output_mode: 'json' });
    expect(splunkd.stanzas.get('rot')!.params.client_id).toBe('rotated');
    expect(splunkd.passwords.get('sophos_central:rotated:')!.password).toBe('new-secret');
    expect(splunkd.stanzas.get('rot')!.params.client_secret).toBe('********');
    expect(lines[0]).toBe('INFO client_secret for client_id rotated updated in storage/passwords (realm sophos_central)');
  });

  describe('a clear secret that differs from the one stored for its client ID (other inputs may use that one)', () => {
    const params = { client_id: 'shared', client_secret: 'typed', data: 'alerts' };
    const setUp = (name: string) => {
      splunkd.passwords.set('sophos_central:shared:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'shared', password: 'works' });
      splunkd.stanzas.set(name, { app: 'TA-sophos-central', params: { ...params } });
    };
    const resolveWith = (name: string, verdict: SecretVerdict) => resolveAnswering(stanza(name, params), { clientId: 'shared', clientSecret: 'typed' }, verdict);

    it('replaces it once Sophos Central accepts the new one (a rotated secret)', async () => {
      setUp('rotate');
      const { result, asked, lines } = await resolveWith('rotate', 'accepted');
      expect(asked).toEqual([['typed', undefined]]);
      expect(result).toEqual({ clientSecret: 'typed' });
      expect(splunkd.passwords.get('sophos_central:shared:')!.password).toBe('typed');
      expect(splunkd.stanzas.get('rotate')!.params.client_secret).toBe('********');
      expect(lines[0]).toBe('INFO client_secret for client_id shared updated in storage/passwords (realm sophos_central)');
    });

    it('keeps it, leaves the stanza unmasked and fails this stanza when Sophos Central refuses the new one (a typo)', async () => {
      setUp('typo');
      const { result } = await resolveWith('typo', 'refused');
      expect(result).toBeInstanceOf(ConfigError);
      expect((result as ConfigError).message).toBe(
        'Sophos Central refuses the client_secret typed into sophos_central://typo, so the different secret stored for client_id shared, which other ' +
          "inputs with this client ID use, is kept and this input's stays in inputs.conf: type the right secret, or ******** to use the stored one",
      );
      expect(splunkd.passwords.get('sophos_central:shared:')!.password).toBe('works');
      expect(splunkd.stanzas.get('typo')!.params.client_secret).toBe('typed');
    });

    it('refused, still stores and masks the stanza\'s proxy password, which nothing is wrong with', async () => {
      splunkd.passwords.set('sophos_central:shared:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'shared', password: 'works' });
      const proxyUrl = 'http://squid:hunter2@proxy.example:3128';
      const withProxy = { ...params, proxy_url: proxyUrl };
      splunkd.stanzas.set('typo-proxied', { app: 'TA-sophos-central', params: { ...withProxy } });
      const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
      const err = await resolveSecrets(stanza('typo-proxied', withProxy), { clientId: 'shared', clientSecret: 'typed', proxyUrl }, rest, recorder().logger, async () => 'refused').catch((e: unknown) => e);
      await rest.close();
      expect(err).toBeInstanceOf(ConfigError);
      const { params: saved } = splunkd.stanzas.get('typo-proxied')!;
      expect(saved.proxy_url).toBe('http://squid:********@proxy.example:3128');
      expect(saved.client_secret).toBe('typed');
      expect(splunkd.passwords.get('sophos_central_proxy:squid@proxy.example\\:3128:')!.password).toBe('hunter2');
      expect(splunkd.passwords.get('sophos_central:shared:')!.password).toBe('works');
    });

    it('keeps it for now, with a warning, and collects with the typed one when Sophos Central cannot be asked', async () => {
      setUp('offline');
      const { result, lines } = await resolveWith('offline', 'unknown');
      expect(result).toEqual({ clientSecret: 'typed', inClear: ['client_secret'] });
      expect(splunkd.passwords.get('sophos_central:shared:')!.password).toBe('works');
      expect(splunkd.stanzas.get('offline')!.params.client_secret).toBe('typed');
      expect(lines).toEqual([expect.stringMatching(/^WARN client_secret in sophos_central:\/\/offline differs from the secret stored for client_id shared and Sophos Central could not be asked whether it is right, so .* is kept for now; the next run asks again$/)]);
    });

    it('asks nothing when the typed secret is the stored one, or nothing is stored yet', async () => {
      splunkd.passwords.set('sophos_central:shared:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'shared', password: 'typed' });
      splunkd.stanzas.set('same', { app: 'TA-sophos-central', params: { ...params } });
      expect((await resolveWith('same', 'refused')).asked).toEqual([]);
      expect(splunkd.stanzas.get('same')!.params.client_secret).toBe('********');
      splunkd.passwords.delete('sophos_central:shared:');
      splunkd.stanzas.set('first', { app: 'TA-sophos-central', params: { ...params } });
      expect((await resolveWith('first', 'refused')).asked).toEqual([]);
      expect(splunkd.passwords.get('sophos_central:shared:')!.password).toBe('typed');
    });

    it("asks through the stanza's proxy, with the proxy password in clear", async () => {
      setUp('proxied');
      const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
      const asked: Array<string | undefined> = [];
      const proxyUrl = 'http://squid:p%40ss@proxy.example:3128';
      await resolveSecrets(stanza('proxied', { ...params, proxy_url: proxyUrl }), { clientId: 'shared', clientSecret: 'typed', proxyUrl }, rest, recorder().logger, async (_, proxy) => {
        asked.push(proxy);
        return 'accepted';
      });
      await rest.close();
      expect(asked).toEqual([proxyUrl]);
    });

    // splunkd starts the inputs of one client ID at once: another stores its secret after this run found none.
    it.each([
      ['refused', 'works', ConfigError],
      ['accepted', 'typed', Object],
    ] as const)('stored by another input after this run found none, it is judged the same way: %s, the store holds %j', async (verdict, kept, result) => {
      splunkd.passwords.delete('sophos_central:raced:');
      splunkd.stanzas.set(`raced-${verdict}`, { app: 'TA-sophos-central', params: {} });
      const real = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
      const rest: SecretStore = {
        getPassword: async (realm, user) => {
          const seen = await real.getPassword(realm, user);
          splunkd.passwords.set('sophos_central:raced:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'raced', password: 'works' });
          return seen;
        },
        storePassword: (...a) => real.storePassword(...a),
        updateInput: (...a) => real.updateInput(...a),
      };
      const check: CheckSecret = async (secret) => (secret === 'works' || verdict === 'accepted' ? 'accepted' : 'refused');
      const raced = { client_id: 'raced', client_secret: 'typed', data: 'alerts' };
      const out = await resolveSecrets(stanza(`raced-${verdict}`, raced), { clientId: 'raced', clientSecret: 'typed' }, rest, recorder().logger, check).catch((e: unknown) => e);
      await real.close();
      expect(out).toBeInstanceOf(result);
      expect(splunkd.passwords.get('sophos_central:raced:')!.password).toBe(kept);
    });
  });

  it('keeps collecting with the clear secret, with a warning, when splunkd cannot store it', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: 'wrong-key' });
    const { lines, logger } = recorder();
    expect(await resolveSecrets(stanza('x'), { clientId: 'c', clientSecret: 'clear' }, rest, logger)).toEqual({ clientSecret: 'clear', inClear: ['client_secret'] });
    await rest.close();
    expect(lines).toEqual([expect.stringMatching(/^WARN could not store client_secret in storage\/passwords, so it stays in inputs\.conf for now: splunkd refused the session key \(401\)/)]);
    expect(lines.join()).not.toContain('wrong-key');
  });

  it('warns when the secret is stored but the stanza cannot be masked', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    expect(await resolveSecrets(stanza('gone'), { clientId: 'gone-client', clientSecret: 's' }, rest, logger)).toEqual({ clientSecret: 's', inClear: ['client_secret'] });
    await rest.close();
    expect(lines[1]).toMatch(/^WARN stored client_secret but could not mask it in sophos_central:\/\/gone; the next run tries again: splunkd refused \(404\)/);
  });

  it('reads a masked secret from storage/passwords, or fails with a ConfigError naming the client ID', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { logger } = recorder();
    expect(await resolveSecrets(stanza('rot'), { clientId: 'rotated' }, rest, logger)).toEqual({ clientSecret: 'new-secret' });
    const err = await resolveSecrets(stanza('rot'), { clientId: 'nobody-stored-this' }, rest, logger).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('no secret stored for client_id nobody-stored-this; set client_secret in the input or on the setup page');
    // An empty password entry (a setup page saved with the field blank) is no secret either.
    splunkd.passwords.set('sophos_central:blank:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'blank', password: '' });
    const blank = await resolveSecrets(stanza('rot'), { clientId: 'blank' }, rest, logger).catch((e: unknown) => e);
    expect((blank as Error).message).toBe('no secret stored for client_id blank; set client_secret in the input or on the setup page');
    await rest.close();
  });
});

describe('resolveSecrets: a proxy password in proxy_url', () => {
  // Reserved characters in the password, %-encoded as a URL needs them.
  const password = 'p@ss:w/rd%!';
  const clearUrl = `http://squid:${encodeURIComponent(password)}@Proxy.Example.com:3128`;

  it('stores the password under the proxy account and masks it in the same edit as a clear client secret', async () => {
    splunkd.stanzas.set('via_proxy', { app: 'TA-sophos-central', params: {} });
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    const params = { client_id: 'proxied', client_secret: 'clear-secret', data: 'events', proxy_url: clearUrl };
    const before = splunkd.requests.length;
    const secrets = await resolveSecrets(stanza('via_proxy', params), { clientId: 'proxied', clientSecret: 'clear-secret', proxyUrl: clearUrl }, rest, logger);
    await rest.close();
    expect(secrets).toEqual({ clientSecret: 'clear-secret', proxyUrl: clearUrl });
    expect(splunkd.passwords.get('sophos_central_proxy:squid@proxy.example.com\\:3128:')).toEqual({
      app: 'TA-sophos-central',
      realm: 'sophos_central_proxy',
      username: 'squid@proxy.example.com:3128',
      password,
    });
    const edits = splunkd.requests.slice(before).filter((r) => r.path.endsWith('/data/inputs/sophos_central/via_proxy'));
    expect(edits.map((e) => e.form)).toEqual([
      { client_secret: '********', proxy_url: 'http://squid:********@Proxy.Example.com:3128', output_mode: 'json' },
    ]);
    expect(splunkd.stanzas.get('via_proxy')!.params.proxy_url).toBe('http://squid:********@Proxy.Example.com:3128');
    expect(lines).toEqual([
      'INFO client_secret for client_id proxied created in storage/passwords (realm sophos_central)',
      'INFO the proxy_url password for squid@proxy.example.com:3128 created in storage/passwords (realm sophos_central_proxy)',
      'INFO client_secret and the proxy_url password in sophos_central://via_proxy replaced by ********',
    ]);
  });

  it('masks only the proxy password when the client secret is already stored, leaving the rest of the stanza as it stands', async () => {
    splunkd.stanzas.set('proxy_only', { app: 'TA-sophos-central', params: { client_id: 'proxied', client_secret: '********', data: 'alerts', proxy_url: 'https://squid:other@proxy.example.com:3129' } });
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { logger } = recorder();
    const url = 'https://squid:other@proxy.example.com:3129';
    const params = { client_id: 'proxied', client_secret: '********', data: 'alerts', proxy_url: url };
    const secrets = await resolveSecrets(stanza('proxy_only', params), { clientId: 'proxied', proxyUrl: url }, rest, logger);
    await rest.close();
    expect(secrets).toEqual({ clientSecret: 'clear-secret', proxyUrl: url });
    expect(splunkd.stanzas.get('proxy_only')!.params).toEqual({ client_id: 'proxied', client_secret: '********', data: 'alerts', proxy_url: 'https://squid:********@proxy.example.com:3129' });
  });

  it('puts the stored password back into a masked proxy_url, %-encoded, or fails naming the proxy account', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    const masked = 'http://squid:********@Proxy.Example.com:3128';
    expect(await resolveSecrets(stanza('via_proxy'), { clientId: 'proxied', proxyUrl: masked }, rest, logger)).toEqual({ clientSecret: 'clear-secret', proxyUrl: clearUrl });
    const err = await resolveSecrets(stanza('via_proxy'), { clientId: 'proxied', proxyUrl: 'http://squid:********@elsewhere.example.com:3128' }, rest, logger).catch((e: unknown) => e);
    await rest.close();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('no proxy password stored for squid@elsewhere.example.com:3128; type proxy_url again with the password in it, as user:password@ before host:port');
    // Nothing was stored or masked on the way.
    expect(lines).toEqual([]);
  });

  it('masks only what it stored: a proxy password splunkd would not store stays in proxy_url, in clear, and is reported so', async () => {
    const { lines, logger } = recorder();
    const edits: Array<Record<string, string>> = [];
    const rest: SecretStore = {
      getPassword: async () => undefined,
      storePassword: async (realm) => {
        if (realm === 'sophos_central_proxy') throw new SplunkdError('splunkd failed (500) on storing a password', 500);
        return 'created';
      },
      updateInput: async (_app, _name, fields) => void edits.push(fields),
    };
    const out = await resolveSecrets(stanza('half'), { clientId: 'c', clientSecret: 'clear', proxyUrl: clearUrl }, rest, logger);
    expect(edits).toEqual([{ client_secret: '********' }]);
    expect(out).toEqual({ clientSecret: 'clear', proxyUrl: clearUrl, inClear: ['proxy_url'] });
    expect(lines).toEqual([
      'INFO client_secret for client_id c created in storage/passwords (realm sophos_central)',
      'WARN could not store the proxy_url password in storage/passwords, so it stays in inputs.conf for now: splunkd failed (500) on storing a password',
      'INFO client_secret in sophos_central://half replaced by ********',
    ]);
  });

  it('leaves a proxy_url without a password as it is', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    const before = splunkd.requests.length;
    expect(await resolveSecrets(stanza('via_proxy'), { clientId: 'proxied', proxyUrl: 'http://squid@proxy.example.com:3128' }, rest, logger)).toEqual({
      clientSecret: 'clear-secret',
      proxyUrl: 'http://squid@proxy.example.com:3128',
    });
    await rest.close();
    expect(lines).toEqual([]);
    expect(splunkd.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
  });
});

describe('resolveSecrets: a clear proxy password that differs from the one stored for its proxy account (other inputs may use that one)', () => {
  const account = 'sophos_central_proxy:guard@proxy.example.com\\:3128:';
  const typedUrl = 'http://guard:n3w-pw@proxy.example.com:3128';
  const params = { client_id: 'guarded', client_secret: '********', data: 'alerts', proxy_url: typedUrl };
  const setUp = (name: string) => {
    splunkd.passwords.set(account, { app: 'TA-sophos-central', realm: 'sophos_central_proxy', username: 'guard@proxy.example.com:3128', password: 'right' });
    splunkd.passwords.set('sophos_central:guarded:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'guarded', password: 'stored-secret' });
    splunkd.stanzas.set(name, { app: 'TA-sophos-central', params: { ...params } });
  };
  const resolveWith = (name: string, verdict: SecretVerdict, clientSecret?: string) => {
    const config = { clientId: 'guarded', proxyUrl: typedUrl, ...(clientSecret ? { clientSecret } : {}) };
    const stanzaParams = clientSecret ? { ...params, client_secret: clientSecret } : params;
    return resolveAnswering(stanza(name, stanzaParams), config, verdict);
  };

  it.each(['accepted', 'refused'] as const)(
    'replaces it once a request through the proxy with the new one gets an answer from Sophos Central (%s): a changed proxy password',
    async (verdict) => {
      setUp(`proxy-rotate-${verdict}`);
      const { result, asked, lines } = await resolveWith(`proxy-rotate-${verdict}`, verdict);
      // Asked with the stored client secret, through the proxy with the typed password.
      expect(asked).toEqual([['stored-secret', typedUrl]]);
      expect(result).toEqual({ clientSecret: 'stored-secret', proxyUrl: typedUrl });
      expect(splunkd.passwords.get(account)!.password).toBe('n3w-pw');
      expect(splunkd.stanzas.get(`proxy-rotate-${verdict}`)!.params.proxy_url).toBe('http://guard:********@proxy.example.com:3128');
      expect(lines[0]).toBe('INFO the proxy_url password for guard@proxy.example.com:3128 updated in storage/passwords (realm sophos_central_proxy)');
    },
  );

  it('keeps it, leaves proxy_url in clear and fails this stanza when the proxy refuses the new one (a typo)', async () => {
    setUp('proxy-typo');
    const { result } = await resolveWith('proxy-typo', 'proxy refused');
    expect(result).toBeInstanceOf(ConfigError);
    expect((result as ConfigError).param).toBe('proxy_url');
    expect((result as ConfigError).message).toBe(
      'the proxy refuses the password in the proxy_url typed into sophos_central://proxy-typo, so the different password stored for ' +
        "guard@proxy.example.com:3128, which other inputs with this proxy account use, is kept and this input's stays in inputs.conf: " +
        'type the right password, or ******** in its place to use the stored one',
    );
    expect((result as Error).message).not.toContain('n3w-pw');
    expect(splunkd.passwords.get(account)!.password).toBe('right');
    expect(splunkd.stanzas.get('proxy-typo')!.params.proxy_url).toBe(typedUrl);
  });

  it('refused, still stores and masks a new client secret typed with it, asking Sophos Central once for both', async () => {
    setUp('proxy-typo-secret');
    splunkd.passwords.delete('sophos_central:guarded:');
    const { result, asked } = await resolveWith('proxy-typo-secret', 'proxy refused', 'new-secret');
    expect(result).toBeInstanceOf(ConfigError);
    // Nothing stored for the client ID: created without asking; the proxy password is asked about once.
    expect(asked).toEqual([['new-secret', typedUrl]]);
    expect(splunkd.passwords.get('sophos_central:guarded:')!.password).toBe('new-secret');
    expect(splunkd.stanzas.get('proxy-typo-secret')!.params).toMatchObject({ client_secret: '********', proxy_url: typedUrl });
    expect(splunkd.passwords.get(account)!.password).toBe('right');
  });

  it('both different from the stored ones: one question answers for the two, and a 407 keeps both stored ones', async () => {
    setUp('proxy-both');
    const { result, asked, lines } = await resolveWith('proxy-both', 'proxy refused', 'other-secret');
    expect(asked).toEqual([['other-secret', typedUrl]]);
    expect((result as ConfigError).param).toBe('proxy_url');
    expect(splunkd.passwords.get('sophos_central:guarded:')!.password).toBe('stored-secret');
    expect(splunkd.passwords.get(account)!.password).toBe('right');
    // The client secret could not be judged behind the proxy's 407: kept for now, with a warning.
    expect(lines).toEqual([expect.stringMatching(/^WARN client_secret in sophos_central:\/\/proxy-both differs from the secret stored for client_id guarded and Sophos Central could not be asked/)]);
  });

  it('keeps it for now, with a warning, and collects through the typed one when the proxy cannot be asked', async () => {
    setUp('proxy-offline');
    const { result, lines } = await resolveWith('proxy-offline', 'unknown');
    expect(result).toEqual({ clientSecret: 'stored-secret', proxyUrl: typedUrl, inClear: ['proxy_url'] });
    expect(splunkd.passwords.get(account)!.password).toBe('right');
    expect(splunkd.stanzas.get('proxy-offline')!.params.proxy_url).toBe(typedUrl);
    expect(lines).toEqual([
      'WARN the proxy_url password in sophos_central://proxy-offline differs from the one stored for guard@proxy.example.com:3128 and the proxy could not be ' +
        'asked whether it is right, so the different password stored for guard@proxy.example.com:3128, which other inputs with this proxy account use, is kept for now; the next run asks again',
    ]);
  });

  it('asks nothing when the typed password is the stored one', async () => {
    setUp('proxy-same');
    splunkd.passwords.get(account)!.password = 'n3w-pw';
    const { result, asked } = await resolveWith('proxy-same', 'proxy refused');
    expect(asked).toEqual([]);
    expect(result).toEqual({ clientSecret: 'stored-secret', proxyUrl: typedUrl });
    expect(splunkd.stanzas.get('proxy-same')!.params.proxy_url).toBe('http://guard:********@proxy.example.com:3128');
  });

  it('stored by another input after this run found none, it is judged as a stored one: a 407 keeps the other input\'s', async () => {
    setUp('proxy-raced');
    splunkd.passwords.delete(account);
    const real = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const rest: SecretStore = {
      getPassword: async (realm, user) => {
        const seen = await real.getPassword(realm, user);
        if (realm === 'sophos_central_proxy') {
          splunkd.passwords.set(account, { app: 'TA-sophos-central', realm, username: user, password: 'right' });
        }
        return seen;
      },
      storePassword: (...a) => real.storePassword(...a),
      updateInput: (...a) => real.updateInput(...a),
    };
    const check: CheckSecret = async (_, proxyUrl) => (proxyUrl === typedUrl ? 'proxy refused' : 'accepted');
    const out = await resolveSecrets(stanza('proxy-raced', params), { clientId: 'guarded', proxyUrl: typedUrl }, rest, recorder().logger, check).catch((e: unknown) => e);
    await real.close();
    expect(out).toBeInstanceOf(ConfigError);
    expect(splunkd.passwords.get(account)!.password).toBe('right');
  });
});

describe('clearSecretFields: the secrets a .conf stanza holds in clear', () => {
  it.each([
    ['no stanza', undefined, []],
    ['a masked secret', { client_secret: '********' }, []],
    ['an empty secret', { client_secret: '' }, []],
    ['a clear secret', { client_secret: 's3cret', data: 'alerts' }, ['client_secret']],
    ['a proxy_url with a clear password', { proxy_url: 'http://u:p%40ss@proxy:3128' }, ['proxy_url']],
    ['a proxy_url with the mask', { proxy_url: 'http://u:********@proxy:3128' }, []],
    ['a proxy_url without a password', { proxy_url: 'http://proxy:3128' }, []],
    ['a proxy_url the input would refuse', { proxy_url: 'not a url' }, []],
    ['both in clear', { client_secret: 's3cret', proxy_url: 'https://u:p@proxy:8443' }, ['client_secret', 'proxy_url']],
  ])('%s', (_what, stanza, fields) => {
    expect(clearSecretFields(stanza)).toEqual(fields);
  });
});
