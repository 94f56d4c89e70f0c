// Failures that happen before Sophos Central answers: what the admin reads, and whether retrying is tried
// at all. Real servers on 127.0.0.1: an HTTPS one whose certificate Node does not trust, and an HTTP one
// that answers 200 with an HTML page, as a captive portal or a blocking proxy does.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';
import { networkAdvice } from '../../src/central/transport.js';
import { describeError, NetworkError } from '../../src/errors.js';
import { generateSplunkCerts, hasOpenssl } from '../splunkd/certs.js';
import { startEmulator } from '../emulator/index.js';
import { emulatorClient } from '../helpers/central.js';
import type { Logger } from '../../src/log.js';

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function tokenFailure(authUrl: string): Promise<{ err: unknown; line: string }> {
  const client = createCentralClient({ clientId: 'c1', clientSecret: 's3cr3t-value', authUrl, env: {}, maxAttempts: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
  const err = await client.whoami().catch((e: unknown) => e);
  await client.close();
  return { err, line: describeError(err) };
}

describe('network failures', () => {
  it.skipIf(!hasOpenssl())('an untrusted certificate fails at once, naming the host and NODE_EXTRA_CA_CERTS', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ta-tls-'));
    dirs.push(home);
    const { cert, key } = generateSplunkCerts(home, '127.0.0.1');
    let requests = 0;
    const port = await listen(
      createHttpsServer({ cert, key }, (_req, res) => {
        requests++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }),
    );
    const { err, line } = await tokenFailure(`https://127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(NetworkError);
    expect(line).toMatch(new RegExp(`^Sophos Central connection to https://127\\.0\\.0\\.1:${port} failed: [A-Z_]+ .*; the server's certificate is not trusted: .*NODE_EXTRA_CA_CERTS`));
    expect(line).not.toMatch(/after \d+ attempts/);
    expect(line).not.toContain('s3cr3t-value');
    expect(requests).toBe(0);
  });

  it('a 200 with an HTML page says what answered, and is retried like a truncated body', async () => {
    let requests = 0;
    const port = await listen(
      createHttpServer((_req, res) => {
        requests++;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html><head><title>Access blocked</title></head><body>Policy</body></html>');
      }),
    );
    const { err, line } = await tokenFailure(`http://127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(NetworkError);
    expect(line).toContain(`Sophos Central connection to http://127.0.0.1:${port} failed: a text/html body instead of JSON ("Access blocked") after 3 attempts; a proxy or captive portal may be answering for Sophos Central`);
    expect(requests).toBe(3);
  });

  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', /^the certificate is for another host name/],
    ['CERT_HAS_EXPIRED', /^the certificate is outside its validity dates: check this host's clock/],
    ['CERT_NOT_YET_VALID', /^the certificate is outside its validity dates/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /NODE_EXTRA_CA_CERTS/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', /NODE_EXTRA_CA_CERTS/],
  ])('%s is final, with the fix that suits it', (code, hint) => {
    const advice = networkAdvice(Object.assign(new Error('x'), { code }));
    expect(advice.final).toBe(true);
    expect(advice.hint).toMatch(hint);
  });

  it('a proxy 502 stays retryable, with its status; a connection refused has no advice', () => {
    expect(networkAdvice(new Error('Proxy response (502) !== 200 when HTTP Tunneling'))).toEqual({ proxyStatus: 502 });
    expect(networkAdvice(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toEqual({});
    expect(networkAdvice(new Error('Proxy response (403) !== 200 when HTTP Tunneling'))).toMatchObject({ final: true, hint: expect.stringMatching(/refused the tunnel \(403\)/) });
  });

  it('a proxy 407 is final, and its hint says where the proxy was set and whether it was given a user and password', () => {
    const refused = new Error('Proxy response (407) !== 200 when HTTP Tunneling');
    expect(networkAdvice(refused, { name: 'proxy_url', credentials: false })).toEqual({
      final: true,
      proxyStatus: 407,
      hint: 'the proxy requires authentication: put its user and password into proxy_url, as user:password@ before host:port',
    });
    expect(networkAdvice(refused, { name: 'the *_PROXY environment variable', credentials: true })).toEqual({
      final: true,
      proxyStatus: 407,
      hint: 'the proxy refused the user and password in the *_PROXY environment variable: type them again correctly',
    });
  });

  it('logs the first 20 retries of a client at INFO, says so once, and the rest at DEBUG', async () => {
    const emu = await startEmulator({ seed: 'retries', tenants: 5, alertsPerTenant: 3 });
    const lines: string[] = [];
    const logger: Logger = { debug: (m) => lines.push(`DEBUG ${m}`), info: (m) => lines.push(`INFO ${m}`), warn: (m) => lines.push(`WARN ${m}`), error: (m) => lines.push(`ERROR ${m}`) };
    const client = emulatorClient(emu, { logger, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
    try {
      emu.faults.add({ route: 'alerts', kind: 503, rate: 1, retryAfterSeconds: 0 });
      for (const t of emu.tenants) {
        const err = await (async () => {
          for await (const page of client.forTenant({ ...t, raw: {} }).alertPages()) void page;
        })().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Error);
      }
    } finally {
      await client.close();
      await emu.stop();
    }
    const retries = lines.filter((l) => / retry \d+\/5 in /.test(l));
    expect(retries).toHaveLength(25);
    expect(retries.filter((l) => l.startsWith('INFO'))).toHaveLength(20);
    expect(retries.slice(20).every((l) => l.startsWith('DEBUG'))).toBe(true);
    expect(lines.filter((l) => l.includes('further retries of this run are logged at DEBUG only'))).toHaveLength(1);
  });

  it('reads JSON that starts with a UTF-8 byte-order mark, as a Windows proxy may send it', async () => {
    const bom = '\uFEFF';
    const port = await listen(
      createHttpServer((req, res) => {
        const body = req.url!.startsWith('/api/v2/oauth2/token')
          ? { access_token: 'tok', token_type: 'bearer', expires_in: 3600 }
          : { id: 'p1', idType: 'partner', apiHosts: { global: `http://127.0.0.1:${port}` } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(bom + JSON.stringify(body));
      }),
    );
    const client = createCentralClient({ clientId: 'c1', clientSecret: 's', authUrl: `http://127.0.0.1:${port}`, apiUrl: `http://127.0.0.1:${port}`, env: {}, maxAttempts: 1 });
    expect(await client.whoami()).toMatchObject({ id: 'p1', idType: 'partner' });
    await client.close();
  });

  it('a cut-off JSON body stays a truncated body', async () => {
    const port = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"abc');
      }),
    );
    const { line } = await tokenFailure(`http://127.0.0.1:${port}`);
    expect(line).toContain('failed: truncated or unparsable JSON body after 3 attempts');
    expect(line).not.toContain('abc');
  });
});
