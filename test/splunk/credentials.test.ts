import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { resolveClientSecret } from '../../src/splunk/credentials.js';
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

describe('resolveClientSecret', () => {
  it('updates an existing stored secret when a new clear secret is typed into the stanza', async () => {
    splunkd.passwords.set('sophos_central:rotated:', { app: 'TA-sophos-central', realm: 'sophos_central', username: 'rotated', password: 'old' });
    splunkd.stanzas.set('rot', { app: 'TA-sophos-central', params: { client_id: 'rotated', client_secret: 'new-secret' } });
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    const params = { client_id: 'rotated', client_secret: 'new-secret', data: 'alerts', start_days: '7', interval: '300', index: 'sophos' };
    expect(await resolveClientSecret(stanza('rot', params), { clientId: 'rotated', clientSecret: 'new-secret' }, rest, logger)).toBe('new-secret');
    await rest.close();
    // The edit re-posts the stanza's own arguments, the secret masked; Splunk's own settings are left alone.
    const edit = splunkd.requests.find((r) => r.path.endsWith('/data/inputs/sophos_central/rot'))!;
    expect(edit.form).toEqual({ client_id: 'rotated', client_secret: '********', data: 'alerts', start_days: '7', output_mode: 'json' });
    expect(splunkd.passwords.get('sophos_central:rotated:')!.password).toBe('new-secret');
    expect(splunkd.stanzas.get('rot')!.params.client_secret).toBe('********');
    expect(lines[0]).toBe('INFO client_secret for client_id rotated updated in storage/passwords (realm sophos_central)');
  });

  it('keeps collecting with the clear secret, with a warning, when splunkd cannot store it', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: 'wrong-key' });
    const { lines, logger } = recorder();
    expect(await resolveClientSecret(stanza('x'), { clientId: 'c', clientSecret: 'clear' }, rest, logger)).toBe('clear');
    await rest.close();
    expect(lines).toEqual([expect.stringMatching(/^WARN could not store client_secret in storage\/passwords, so it stays in inputs\.conf for now: splunkd refused the session key \(401\)/)]);
    expect(lines.join()).not.toContain('wrong-key');
  });

  it('warns when the secret is stored but the stanza cannot be masked', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { lines, logger } = recorder();
    expect(await resolveClientSecret(stanza('gone'), { clientId: 'gone-client', clientSecret: 's' }, rest, logger)).toBe('s');
    await rest.close();
    expect(lines[1]).toMatch(/^WARN stored client_secret but could not mask it in sophos_central:\/\/gone; the next run tries again: splunkd refused \(404\)/);
  });

  it('reads a masked secret from storage/passwords, or fails with a ConfigError naming the client ID', async () => {
    const rest = new SplunkdClient({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey });
    const { logger } = recorder();
    expect(await resolveClientSecret(stanza('rot'), { clientId: 'rotated' }, rest, logger)).toBe('new-secret');
    const err = await resolveClientSecret(stanza('rot'), { clientId: 'nobody-stored-this' }, rest, logger).catch((e: unknown) => e);
    await rest.close();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('no secret stored for client_id nobody-stored-this; set client_secret in the input or on the setup page');
  });
});
