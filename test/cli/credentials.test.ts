import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, CredentialError } from '../../src/errors.js';
import { parseIni, parseSophosConfig, parseSplunkConfig } from '../../src/cli/ini-config.js';
import { promptLine, resolveHecToken, resolveSophosCredentials, type SecretIo } from '../../src/cli/credentials.js';
import { startSecretsManager, type SecretsManagerStandIn } from '../aws/secrets-manager.js';

const TOKEN = '11111111-2222-4333-8444-555555555555';

function io(env: Record<string, string> = {}, tty = false) {
  const warnings: string[] = [];
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (m: boolean) => unknown; raw?: boolean };
  if (tty) {
    stdin.isTTY = true;
    stdin.setRawMode = (m: boolean) => (stdin.raw = m);
  }
  const stderr = new PassThrough();
  let shown = '';
  stderr.on('data', (c: Buffer) => (shown += c.toString()));
  const value: SecretIo = { env, stdin, stderr, warn: (m) => warnings.push(m) };
  return { io: value, warnings, stdin, shown: () => shown };
}

const sophosIni = (body: string) => parseSophosConfig(parseIni(body, 't'), 't');

describe('ini parsing (configparser syntax)', () => {
  it('reads Sophos\'s own sample with "key:" separators, comments and empty values', () => {
    const cfg = sophosIni(`#This is the config file\n[aws]\nsecret_name:\nregion_name:\n[static]\nclient_id: abc\nclient_secret = s#e;c=r:et\n[page_size]\ninventory_ps:500\nalerts_ps: 100\n`);
    expect(cfg.static).toEqual({ clientId: 'abc', clientSecret: 's#e;c=r:et' });
    expect(cfg.pageSize).toEqual({ inventory: 500, alerts: 100 });
    expect(cfg.aws.secretName).toBe('');
  });

  it('lower-cases keys and keeps a value with colons (a URL)', () => {
    const s = parseIni('[splunk_hec]\nSPLUNK_URL: https://h:8088/services/collector\n', 't');
    expect(s.splunk_hec?.splunk_url).toBe('https://h:8088/services/collector');
  });

  it.each([
    ['[page_size]\ninventory_ps = 501\n', /inventory_ps must be a whole number from 1 to 500/],
    ['[page_size]\nalerts_ps = 1001\n', /alerts_ps must be a whole number from 1 to 1000/],
    ['[page_size]\nalerts_ps = ten\n', /alerts_ps/],
    ['client_id = x\n', /before any \[section\]/],
    ['[static]\nclient id with spaces and more text\n', /line 2 is not/],
  ])('rejects %j with one clear line', (text, re) => {
    let err: unknown;
    try {
      sophosIni(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  });

  it('does not echo a whole malformed line (it may hold a secret)', () => {
    expect(() => sophosIni('[static]\nsupersecretv alue without separator\n')).toThrow(/line 2 is not .*supersecretv\.\.\./);
  });

  it('reads splunk_config.ini: HEC URL, ack, channel, transform', () => {
    const cfg = parseSplunkConfig(
      parseIni(
        `[splunk_aws]\nsplunk_aws: 0\n[splunk_static]\ntoken: ${TOKEN}\n[splunk_hec]\nsplunk_url: https://splunk:8088\nsplunk_ack_enabled: 1\nverify_ack_result: 1\nchannel: ${TOKEN}\nack_batch_size: 5\n[splunk_transform]\nhost: h\nsource: s\nsourcetype: st_\n`,
        't',
      ),
      't',
    );
    expect(cfg.hec).toMatchObject({ url: 'https://splunk:8088/services/collector/event', ackEnabled: true, verifyAck: true, channel: TOKEN, ackBatchSize: 5, verifyTls: true });
    expect(cfg.transform).toEqual({ host: 'h', source: 's', sourcetype: 'st_' });
  });

  it('treats Sophos\'s placeholder URL as unset and rejects bad HEC settings', () => {
    expect(parseSplunkConfig(parseIni('[splunk_hec]\nsplunk_url: https://<your_splunk_url>.com:8088/services/collector\n', 't'), 't').hec).toBeUndefined();
    const bad = (t: string) => () => parseSplunkConfig(parseIni(t, 't'), 't');
    expect(bad('[splunk_hec]\nsplunk_url: ftp://x\n')).toThrow(/must start with https:\/\/ or http:\/\//);
    expect(bad('[splunk_hec]\nsplunk_url: https://x\nsplunk_ack_enabled: maybe\n')).toThrow(/splunk_ack_enabled must be 0 or 1/);
    expect(bad('[splunk_hec]\nsplunk_url: https://x\nverify_ack_result: 1\nsplunk_ack_enabled: 0\n')).toThrow(/needs splunk_ack_enabled = 1/);
    expect(bad('[splunk_hec]\nsplunk_url: https://x\nchannel: nope\n')).toThrow(/channel must be a GUID/);
  });
});

describe('Sophos credentials', () => {
  it('static: reads [static] and warns that it is for testing', async () => {
    const t = io();
    const cfg = sophosIni('[static]\nclient_id: id1\nclient_secret: sec1\n');
    await expect(resolveSophosCredentials('static', cfg, t.io)).resolves.toEqual({ clientId: 'id1', clientSecret: 'sec1' });
    expect(t.warnings.join()).toMatch(/testing only/);
  });

  it('static: empty [static] is a config error', async () => {
    await expect(resolveSophosCredentials('static', sophosIni('[static]\nclient_id:\n'), io().io)).rejects.toThrow(/\[static\] client_id and client_secret must both be set/);
  });

  it('env: reads SOPHOS_CENTRAL_CLIENT_ID/SECRET and names them when missing', async () => {
    const cfg = sophosIni('');
    await expect(resolveSophosCredentials('env', cfg, io({ SOPHOS_CENTRAL_CLIENT_ID: 'a', SOPHOS_CENTRAL_CLIENT_SECRET: 'b' }).io)).resolves.toEqual({ clientId: 'a', clientSecret: 'b' });
    await expect(resolveSophosCredentials('env', cfg, io({ SOPHOS_CENTRAL_CLIENT_ID: 'a' }).io)).rejects.toThrow(/SOPHOS_CENTRAL_CLIENT_SECRET/);
  });

  it('prompt: refuses when stdin is not a terminal', async () => {
    await expect(resolveSophosCredentials('prompt', sophosIni(''), io().io)).rejects.toThrow(CredentialError);
    await expect(resolveSophosCredentials('prompt', sophosIni(''), io().io)).rejects.toThrow(/needs a terminal/);
  });

  it('prompt: echoes the ID, hides the secret, handles backspace, restores the terminal', async () => {
    const t = io({}, true);
    const p = resolveSophosCredentials('prompt', sophosIni(''), t.io);
    t.stdin.write('my-idX\u007f\r');
    await new Promise((r) => setImmediate(r));
    t.stdin.write('hunter2\r');
    await expect(p).resolves.toEqual({ clientId: 'my-id', clientSecret: 'hunter2' });
    expect(t.shown()).toContain('my-id');
    expect(t.shown()).not.toContain('hunter2');
    expect((t.stdin as unknown as { raw: boolean }).raw).toBe(false);
  });

  it('prompt: Ctrl-C aborts', async () => {
    const t = io({}, true);
    const p = promptLine('x: ', false, t.io);
    t.stdin.write('ab\u0003');
    await expect(p).rejects.toThrow(/interrupted/);
  });
});

describe('AWS Secrets Manager (stand-in, through the AWS SDK)', () => {
  let sm: SecretsManagerStandIn;
  const saved = { ...process.env };
  beforeAll(async () => {
    sm = await startSecretsManager({
      'sophos/central': { cid: 'aws-id', csec: 'aws-secret' },
      'splunk/hec': { hec: TOKEN },
      'not-json': 'plain text',
    });
    Object.assign(process.env, sm.env());
  });
  afterAll(async () => {
    process.env = saved;
    await sm.stop();
  });
  const awsCfg = (name: string) =>
    sophosIni(`[aws]\nsecret_name: ${name}\nregion_name: eu-west-1\nclient_id_key: cid\nclient_secret_key: csec\n`);

  it('reads the client ID and secret by their keys, with a signed request', async () => {
    await expect(resolveSophosCredentials('aws', awsCfg('sophos/central'), io().io)).resolves.toEqual({ clientId: 'aws-id', clientSecret: 'aws-secret' });
    expect(sm.requests.at(-1)).toMatchObject({ target: 'secretsmanager.GetSecretValue', secretId: 'sophos/central', signed: true, region: 'eu-west-1' });
  });

  it('explains a missing secret, a missing key and a non-JSON secret without the value', async () => {
    await expect(resolveSophosCredentials('aws', awsCfg('nope'), io().io)).rejects.toThrow(/could not read secret "nope" in eu-west-1: .*ResourceNotFoundException/);
    await expect(resolveSophosCredentials('aws', awsCfg('splunk/hec'), io().io)).rejects.toThrow(/has no non-empty key "cid"/);
    const e = await resolveSophosCredentials('aws', awsCfg('not-json'), io().io).catch((x: Error) => x);
    expect(String(e)).toMatch(/not a JSON object/);
    expect(String(e)).not.toContain('plain text');
  });

  it('an incomplete [aws] section is a config error', async () => {
    await expect(resolveSophosCredentials('aws', sophosIni('[aws]\nsecret_name: x\n'), io().io)).rejects.toThrow(/\[aws\] secret_name, region_name, client_id_key and client_secret_key/);
  });

  it('HEC token from [splunk_aws]', async () => {
    const cfg = parseSplunkConfig(parseIni('[splunk_aws]\nsplunk_aws: 1\nsecret_name: splunk/hec\nregion_name: us-east-1\ntoken_key: hec\n', 't'), 't');
    await expect(resolveHecToken('auto', cfg, io().io)).resolves.toBe(TOKEN);
  });
});

describe('HEC token sources', () => {
  const cfg = (t: string) => parseSplunkConfig(parseIni(t, 't'), 't');
  it('auto prefers SPLUNK_HEC_TOKEN, then [splunk_static] (with a warning)', async () => {
    const other = '99999999-2222-4333-8444-555555555555';
    await expect(resolveHecToken('auto', cfg(`[splunk_static]\ntoken: ${TOKEN}\n`), io({ SPLUNK_HEC_TOKEN: other }).io)).resolves.toBe(other);
    const t = io();
    await expect(resolveHecToken('auto', cfg(`[splunk_static]\ntoken: ${TOKEN}\n`), t.io)).resolves.toBe(TOKEN);
    expect(t.warnings.join()).toMatch(/testing only/);
  });
  it('rejects a token that is not a GUID without echoing it, and says where to put one', async () => {
    const e = await resolveHecToken('auto', cfg('[splunk_static]\ntoken: not-a-guid-secret\n'), io().io).catch((x: Error) => x);
    expect(String(e)).toMatch(/not a GUID/);
    expect(String(e)).not.toContain('not-a-guid-secret');
    await expect(resolveHecToken('auto', cfg(''), io().io)).rejects.toThrow(/no HEC token: set SPLUNK_HEC_TOKEN/);
  });
});
