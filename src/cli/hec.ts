// Splunk HTTP Event Collector client for the CLI's splunk outputs: many events per request (bounded
// bytes), retries with backoff on HEC's "busy/unhealthy" codes and on network errors, one clear fatal
// error for token and configuration problems, and optional indexer acknowledgement. `send` resolves only
// once HEC has accepted (and, with ack verification, indexed) every event handed to it.
import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { HecError } from '../errors.js';
import type { Logger } from '../log.js';

export interface HecClientOptions {
  url: string;
  token: string;
  /** Channel GUID; one is generated when ack is on and none is given. */
  channel?: string;
  ack: boolean;
  /** Wait until every batch is indexed before `send` resolves. */
  verifyAck: boolean;
  /** Batches sent before their acks are polled. */
  ackBatchSize: number;
  verifyTls: boolean;
  /** Extra trusted CAs (PEM), added to Node's defaults. */
  caPem?: string;
  maxBatchBytes: number;
  logger: Logger;
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  ackTimeoutMs?: number;
  timeoutMs?: number;
}

export interface HecStats {
  requests: number;
  retries: number;
  batches: number;
  events: number;
  bytes: number;
}

export type HecVerdict =
  | { kind: 'ok'; ackId?: number }
  | { kind: 'retry'; reason: string }
  | { kind: 'fatal'; message: string; hecCode?: number };

const RETRY_CODES = new Set([8, 9, 18, 19, 20]);
const TOKEN_CODES = new Set([1, 2, 3, 4, 21, 22]);
const ADVICE: Record<number, string> = {
  1: 'the HEC token is disabled in Splunk',
  2: 'no HEC token was sent',
  3: 'the Authorization header was refused (it must be "Splunk <token>")',
  4: 'the HEC token is not valid: check [splunk_static] token, [splunk_aws] or SPLUNK_HEC_TOKEN',
  7: 'the index is not allowed for this HEC token',
  10: 'HEC needs a channel: set [splunk_hec] channel or splunk_ack_enabled = 1',
  11: 'HEC refused the channel: [splunk_hec] channel must be a GUID',
  14: 'indexer acknowledgement is disabled on this HEC token: set [splunk_hec] splunk_ack_enabled = 0',
  16: 'query-string authorization is not enabled on this HEC',
  21: 'the HEC token is not valid',
  22: 'the HEC token is disabled in Splunk',
};

/** Pure: what to do with one HEC response. */
export function classifyHecResponse(status: number, bodyText: string): HecVerdict {
  let body: { code?: unknown; text?: unknown; ackId?: unknown } | undefined;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const code = typeof body?.code === 'number' ? body.code : undefined;
  const text = typeof body?.text === 'string' ? body.text : undefined;
  if (status >= 200 && status < 300 && (code === undefined || code === 0)) {
    return { kind: 'ok', ackId: typeof body?.ackId === 'number' ? body.ackId : undefined };
  }
  const label = `HTTP ${status}${code === undefined ? '' : `, HEC code ${code}`}${text ? ` "${text}"` : ''}`;
  if (code !== undefined && RETRY_CODES.has(code)) return { kind: 'retry', reason: label };
  if (code === undefined && (status >= 500 || status === 429 || status === 408)) return { kind: 'retry', reason: label };
  if (code !== undefined && ADVICE[code]) return { kind: 'fatal', hecCode: code, message: `HEC refused the events (${label}): ${ADVICE[code]}` };
  if (code !== undefined && TOKEN_CODES.has(code)) return { kind: 'fatal', hecCode: code, message: `HEC refused the token (${label})` };
  return { kind: 'fatal', hecCode: code, message: `HEC refused the events (${label})` };
}

/** Pure: groups serialised events into request bodies of at most maxBytes (an oversized event goes alone). */
export function* batchEvents(events: readonly string[], maxBytes: number): Generator<{ body: string; count: number }> {
  let parts: string[] = [];
  let size = 0;
  for (const ev of events) {
    const n = Buffer.byteLength(ev) + 1;
    if (parts.length > 0 && size + n > maxBytes) {
      yield { body: parts.join('\n'), count: parts.length };
      parts = [];
      size = 0;
    }
    parts.push(ev);
    size += n;
  }
  if (parts.length > 0) yield { body: parts.join('\n'), count: parts.length };
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/;

export class HecClient {
  readonly stats: HecStats = { requests: 0, retries: 0, batches: 0, events: 0, bytes: 0 };
  private readonly agent: Agent;
  private readonly channel?: string;
  private readonly ackUrl: string;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly ackTimeoutMs: number;

  constructor(private readonly opts: HecClientOptions) {
    const timeout = opts.timeoutMs ?? 60_000;
    this.agent = new Agent({
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: {
        rejectUnauthorized: opts.verifyTls,
        ...(opts.caPem ? { ca: [...rootCertificates, opts.caPem] } : {}),
      },
    });
    this.channel = opts.channel ?? (opts.ack ? randomUUID() : undefined);
    const u = new URL(opts.url);
    u.pathname = '/services/collector/ack';
    u.search = '';
    this.ackUrl = u.toString();
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 300_000;
  }

  /** Sends events (each one HEC event JSON object); resolves when all are accepted. */
  async send(events: readonly string[]): Promise<void> {
    const waiting: number[] = [];
    for (const batch of batchEvents(events, this.opts.maxBatchBytes)) {
      const ackId = await this.post(batch.body);
      this.stats.batches++;
      this.stats.events += batch.count;
      this.stats.bytes += Buffer.byteLength(batch.body);
      if (this.opts.verifyAck) {
        if (ackId === undefined) throw new HecError('HEC returned no ackId although acknowledgement is enabled: is useACK on for this token?', 200, undefined, true);
        waiting.push(ackId);
        if (waiting.length >= this.opts.ackBatchSize) await this.waitForAcks(waiting.splice(0));
      }
    }
    if (waiting.length > 0) await this.waitForAcks(waiting);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { authorization: `Splunk ${this.opts.token}`, 'content-type': 'application/json' };
    if (this.channel) h['x-splunk-request-channel'] = this.channel;
    return h;
  }

  private postTo(url: string, body: string): Promise<Dispatcher.ResponseData> {
    const { origin, pathname, search } = new URL(url);
    return this.agent.request({ origin, path: `${pathname}${search}`, method: 'POST', headers: this.headers(), body });
  }

  /** One POST with retries; returns the ackId, if any. */
  private async post(body: string): Promise<number | undefined> {
    const url = this.opts.url;
    for (let attempt = 1; ; attempt++) {
      let verdict: HecVerdict;
      try {
        this.stats.requests++;
        const res = await this.postTo(url, body);
        verdict = classifyHecResponse(res.statusCode, await res.body.text());
      } catch (err) {
        const code = String((err as { code?: unknown }).code ?? '');
        const cause = (err as { cause?: { code?: unknown } }).cause;
        const causeCode = String(cause?.code ?? '');
        if (TLS_CODES.test(code) || TLS_CODES.test(causeCode)) {
          throw new HecError(`TLS to ${new URL(url).host} failed (${causeCode || code}): trust its CA with [splunk_hec] ca_file, or fix the certificate`, undefined, undefined, true);
        }
        verdict = { kind: 'retry', reason: `network error ${causeCode || code || (err as Error).message}` };
      }
      if (verdict.kind === 'ok') return verdict.ackId;
      if (verdict.kind === 'fatal') throw new HecError(verdict.message, undefined, verdict.hecCode, true);
      if (attempt >= this.maxAttempts) {
        throw new HecError(`HEC at ${new URL(url).host} still failing after ${attempt} attempts: ${verdict.reason}`);
      }
      const delay = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
      this.stats.retries++;
      this.opts.logger.warn(`HEC ${verdict.reason}; retry ${attempt}/${this.maxAttempts - 1} in ${Math.round(delay)} ms`);
      await sleep(delay);
    }
  }

  private async waitForAcks(ids: number[]): Promise<void> {
    const deadline = Date.now() + this.ackTimeoutMs;
    let pending = ids;
    let pause = 100;
    for (;;) {
      const url = `${this.ackUrl}?channel=${encodeURIComponent(this.channel ?? '')}`;
      const res = await this.ackRequest(url, JSON.stringify({ acks: pending }));
      pending = pending.filter((id) => res[String(id)] !== true);
      if (pending.length === 0) return;
      if (Date.now() >= deadline) {
        throw new HecError(`${pending.length} HEC batch(es) not acknowledged by the indexers within ${Math.round(this.ackTimeoutMs / 1000)} s; they will be sent again next run`);
      }
      await sleep(pause);
      pause = Math.min(2000, pause * 2);
    }
  }

  private async ackRequest(url: string, body: string): Promise<Record<string, unknown>> {
    for (let attempt = 1; ; attempt++) {
      let verdict: HecVerdict;
      let parsed: { acks?: Record<string, unknown> } | undefined;
      try {
        this.stats.requests++;
        const res = await this.postTo(url, body);
        const text = await res.body.text();
        verdict = classifyHecResponse(res.statusCode, text);
        if (verdict.kind === 'ok') parsed = JSON.parse(text);
      } catch (err) {
        verdict = { kind: 'retry', reason: `network error ${String((err as { code?: unknown }).code ?? (err as Error).message)}` };
      }
      if (verdict.kind === 'ok') return parsed?.acks ?? {};
      if (verdict.kind === 'fatal') throw new HecError(verdict.message, undefined, verdict.hecCode, true);
      if (attempt >= this.maxAttempts) throw new HecError(`HEC ack endpoint still failing after ${attempt} attempts: ${verdict.reason}`);
      this.stats.retries++;
      await sleep(Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempt - 1)));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
