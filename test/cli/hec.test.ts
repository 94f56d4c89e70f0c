import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HecError } from '../../src/errors.js';
import { batchEvents, classifyHecResponse, HecClient, type HecClientOptions } from '../../src/cli/hec.js';
import type { Logger } from '../../src/log.js';
import { splitConcatenatedJson, startHec, type HecStandIn } from '../hec/server.js';

const logs: string[] = [];
const logger: Logger = { debug: () => {}, info: () => {}, warn: (m) => logs.push(m), error: (m) => logs.push(m) };
const ev = (i: number) => JSON.stringify({ time: 1700000000 + i, sourcetype: 'sophos:central:alerts', event: { id: `a${i}`, pad: 'x'.repeat(100) } });

let hec: HecStandIn | undefined;
let client: HecClient | undefined;
afterEach(async () => {
  await client?.close();
  await hec?.stop();
  hec = undefined;
  client = undefined;
});

function make(h: HecStandIn, o: Partial<HecClientOptions> = {}) {
  client = new HecClient({
    url: `${h.url}/services/collector/event`,
    token: h.token,
    ack: false,
    verifyAck: false,
    ackBatchSize: 10,
    verifyTls: true,
    maxBatchBytes: 1_000_000,
    logger,
    retryBaseMs: 5,
    ...o,
  });
  return client;
}

describe('pure HEC decisions', () => {
  it.each([
    [200, '{"text":"Success","code":0}', 'ok'],
    [200, '{"text":"Success","code":0,"ackId":7}', 'ok'],
    [500, '{"text":"Internal server error","code":8}', 'retry'],
    [503, '{"text":"Server is busy","code":9}', 'retry'],
    [503, '{"code":18}', 'retry'],
    [503, '{"code":19}', 'retry'],
    [503, '{"code":20}', 'retry'],
    [502, '<html>', 'retry'],
    [403, '{"text":"Token disabled","code":1}', 'fatal'],
    [401, '{"text":"Token is required","code":2}', 'fatal'],
    [401, '{"text":"Invalid authorization","code":3}', 'fatal'],
    [403, '{"text":"Invalid token","code":4}', 'fatal'],
    [400, '{"text":"Incorrect index","code":7}', 'fatal'],
    [400, '{"code":14}', 'fatal'],
    [404, 'not found', 'fatal'],
  ])('HTTP %i %s -> %s', (status, body, kind) => {
    expect(classifyHecResponse(status, body).kind).toBe(kind);
  });

  it('keeps ackId and explains the token codes', () => {
    expect(classifyHecResponse(200, '{"code":0,"ackId":7}')).toEqual({ kind: 'ok', ackId: 7 });
    expect(classifyHecResponse(401, '{"text":"Invalid authorization","code":3}')).toMatchObject({ message: expect.stringContaining('"Splunk <token>"') });
  });

  it('batches by bytes, never splitting an event, an oversized event alone', () => {
    const events = Array.from({ length: 50 }, (_, i) => ev(i));
    const batches = [...batchEvents(events, 1000)];
    expect(batches.every((b) => Buffer.byteLength(b.body) <= 1000)).toBe(true);
    expect(batches.reduce((n, b) => n + b.count, 0)).toBe(50);
    expect(batches.flatMap((b) => b.body.split('\n'))).toEqual(events);
    const big = 'y'.repeat(2000);
    expect([...batchEvents(['a', big, 'b'], 1000)].map((b) => b.count)).toEqual([1, 1, 1]);
  });

  it('the stand-in splits concatenated JSON, braces inside strings included', () => {
    expect(splitConcatenatedJson('{"a":"}{"}\n{"b":{"c":1}}{"d":2}')).toEqual([{ a: '}{' }, { b: { c: 1 } }, { d: 2 }]);
  });
});

describe('HecClient against the HEC stand-in', () => {
  it('sends many events per request, within the byte bound, with the Splunk token header', async () => {
    hec = await startHec();
    const c = make(hec, { maxBatchBytes: 4096 });
    await c.send(Array.from({ length: 200 }, (_, i) => ev(i)));
    expect(hec.events.map((e) => (e.event as { id: string }).id)).toEqual(Array.from({ length: 200 }, (_, i) => `a${i}`));
    expect(hec.requests.length).toBeGreaterThan(1);
    expect(hec.requests.length).toBeLessThan(20);
    expect(hec.requests.every((r) => r.bytes <= 4096 && r.auth === 'Splunk <redacted>')).toBe(true);
  });

  it.each([8, 9, 18, 19, 20, 'drop', 'http502'] as const)('recovers from %s without loss or duplicates', async (kind) => {
    hec = await startHec();
    hec.faults.add({ kind, nth: [1, 2] });
    const c = make(hec, { maxBatchBytes: 2048 });
    await c.send(Array.from({ length: 40 }, (_, i) => ev(i)));
    const ids = hec.events.map((e) => (e.event as { id: string }).id);
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `a${i}`));
    expect(c.stats.retries).toBe(2);
  });

  it('gives up after maxAttempts with a non-fatal error', async () => {
    hec = await startHec();
    hec.faults.add({ kind: 9 });
    const err = await make(hec, { maxAttempts: 3 }).send([ev(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HecError);
    expect((err as HecError).fatal).toBe(false);
    expect(String((err as Error).message)).toMatch(/still failing after 3 attempts: HTTP 503, HEC code 9/);
  });

  it.each([
    ['invalid', 4, /HEC code 4.*not valid/],
    ['disabled', 1, /HEC code 1.*disabled/],
  ] as const)('token %s -> fatal code %i, token not in the message', async (state, code, re) => {
    hec = await startHec();
    hec.setToken(state);
    const err = (await make(hec).send([ev(1)]).catch((e: unknown) => e)) as HecError;
    expect(err.fatal).toBe(true);
    expect(err.hecCode).toBe(code);
    expect(err.message).toMatch(re);
    expect(err.message).not.toContain(hec.token);
    expect(hec.events).toHaveLength(0);
  });

  it('a wrong token is fatal code 4; missing "Splunk " prefix would be code 3 (stand-in check)', async () => {
    hec = await startHec();
    const err = (await make(hec, { token: '99999999-1111-4222-8333-444444444444' }).send([ev(1)]).catch((e: unknown) => e)) as HecError;
    expect(err.hecCode).toBe(4);
    const res = await fetch(`${hec.url}/services/collector/event`, { method: 'POST', headers: { authorization: hec.token }, body: ev(1) });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 3 });
  });

  it('indexer ack: waits for every batch to be acknowledged on its channel', async () => {
    hec = await startHec({ ack: true });
    hec.ackDelayPolls = 2;
    const channel = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const c = make(hec, { ack: true, verifyAck: true, ackBatchSize: 3, channel, maxBatchBytes: 1024 });
    await c.send(Array.from({ length: 30 }, (_, i) => ev(i)));
    const posts = hec.requests.filter((r) => r.path.endsWith('/event'));
    const acks = hec.requests.filter((r) => r.path.endsWith('/ack'));
    expect(posts.length).toBeGreaterThan(3);
    expect(acks.length).toBeGreaterThanOrEqual(Math.ceil(posts.length / 3) * 3);
    expect(hec.requests.every((r) => r.channel === channel)).toBe(true);
    expect(hec.events).toHaveLength(30);
  });

  it('ack enabled without a channel set generates one; ack on a token without useACK is fatal code 14', async () => {
    hec = await startHec({ ack: true });
    await make(hec, { ack: true, verifyAck: true }).send([ev(1)]);
    expect(hec.requests[0]?.channel).toMatch(/^[0-9a-f-]{36}$/);
    await client?.close();
    await hec.stop();
    hec = await startHec({ ack: false });
    const err = (await make(hec, { ack: true, verifyAck: true }).send([ev(1)]).catch((e: unknown) => e)) as HecError;
    expect(err.message).toMatch(/no ackId/);
  });

  it('TLS: refuses an untrusted certificate with one clear line, accepts it with the CA file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hec-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    hec = await startHec({ tls: { key, cert } });
    const err = (await make(hec).send([ev(1)]).catch((e: unknown) => e)) as HecError;
    expect(err.fatal).toBe(true);
    expect(err.message).toMatch(/TLS to 127\.0\.0\.1:\d+ failed .*ca_file/);
    await client?.close();
    await make(hec, { caPem: cert }).send([ev(2)]);
    expect(hec.events).toHaveLength(1);
  });
});
