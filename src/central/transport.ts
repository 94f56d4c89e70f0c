// Every HTTP exchange with Sophos Central goes through `Transport.send`: token, concurrency caps,
// a deadline per attempt, retries with backoff or Retry-After, and the mapping of failures to the
// typed errors of src/errors.ts. Secrets (client secret, tokens) never reach a message or a log line.

import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import {
  AbortedError,
  BadCredentialsError,
  BadRequestError,
  CentralError,
  type CentralErrorFacts,
  ForbiddenError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  ServerError,
  TimeoutError,
  describeError,
} from '../errors.js';
import { linkedSignal } from '../abort.js';
import type { Logger } from '../log.js';
import { monotonicMs } from '../monotonic.js';
import { VERSION } from '../version.js';
import { type BaseUrls, checkRegionHost } from './hosts.js';
import { proxyFor, redactProxyUrl } from './proxy.js';
import { isRetryableStatus, nextDelay, parseRetryAfter, type RetryPolicy } from './retry.js';
import { Semaphore } from './semaphore.js';
import type { RequestStats } from './types.js';

interface TransportOptions {
  base: BaseUrls;
  clientId: string;
  clientSecret: string;
  proxyUrl?: string;
  /** Where proxyUrl was set, named when a proxy refuses the credentials in it (default `proxy_url`). */
  proxyName?: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  policy: RetryPolicy;
  concurrency: { total: number; perTenant: number };
  logger?: Logger;
  signal?: AbortSignal;
  /** Waits between attempts; tests pass one that records the delay and returns at once. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random: () => number;
  now: () => number;
}

/** What one tenant's requests share: its concurrency cap, its counters and its 429 pause. */
export interface TenantLane {
  tenantId: string;
  slots: Semaphore;
  stats: RequestStats;
  /** No request for this tenant starts before this time (set by a 429 with Retry-After). */
  notBefore: number;
}

interface SendRequest {
  method: 'GET' | 'POST' | 'DELETE';
  origin: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Form body (token request only). */
  form?: string;
  /** Send the bearer token (every call except the token request). */
  auth: boolean;
  /** Retried automatically on 5xx, 429, timeouts and dropped connections. */
  idempotent: boolean;
  lane?: TenantLane;
  /** A 404 resolves to NOT_FOUND instead of throwing NotFoundError. */
  allowNotFound?: boolean;
  /** The token request: 400/401/403 mean a bad client ID or secret. */
  isTokenRequest?: boolean;
  /**
   * A cheaper stand-in for JSON.parse of a 2xx body (list pages, see page-scan.ts): when it returns a
   * value, that is passed on as `scanned` and the body is not parsed; undefined falls back to JSON.parse.
   * Given the text and the bytes it was decoded from.
   */
  scan?: (text: string, bytes: Uint8Array) => object | undefined;
  /**
   * Told a 2xx body's text as soon as it has arrived, before it is scanned or parsed; returns whether it sent
   * a request meanwhile (the next page, see pages.ts), which is then let out before the scan takes the thread.
   */
  onText?: (text: string) => boolean;
  /**
   * Cancels this request alone, in flight or waiting to retry (a page loop that ended while its next page was
   * on the way); it then rejects with AbortedError. The transport's own stop (SIGTERM, close()) applies as well.
   */
  signal?: AbortSignal;
}

type Outcome =
  /** `date`: the response's Date header, the server's clock when it answered (epoch ms). */
  | { kind: 'ok'; status: number; body: unknown; text: string; scanned?: object; date?: number }
  | { kind: 'status'; status: number; body: unknown; retryAfterMs?: number }
  /** `final`: retrying cannot help (an untrusted certificate, a proxy refusing the tunnel); `hint`: what to do. */
  | { kind: 'network'; cause: unknown; detail: string; final?: boolean; hint?: string; proxyStatus?: number }
  | { kind: 'timeout' };

/**
 * A 2xx answer: its parsed body (none when scanned), its text, its Date (epoch ms), and when it was asked for
 * (by this client's clock, before any wait or retry).
 */
type Reply = { body: unknown; text: string; scanned?: object; date?: number; askedAt: number };

/** Event-loop turns a request just sent needs to reach its socket (see letRequestsOut). */
const DISPATCH_TURNS = 3;

/**
 * Resolves once a request just sent has reached its socket. It goes out only once its chain of awaits (token,
 * two semaphores, undici's dispatch) has run, and work that holds the thread meanwhile (encoding or scanning a
 * page) would hold it back for as long. One turn was not enough; three let it out (measured at 1,000,000 events).
 */
export async function letRequestsOut(): Promise<void> {
  for (let turn = 0; turn < DISPATCH_TURNS; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** What `send` resolves to for a 404 when the caller allowed one. */
export const NOT_FOUND = Symbol('not found');

/**
 * Retries logged at INFO per client (one run of one input); later ones go to DEBUG. During an outage a
 * partner's thousand tenants would otherwise add thousands of lines to splunkd.log every run, and the
 * health records count every retry anyway.
 */
const RETRY_INFO_LINES = 20;

const TOKEN_PATH = '/api/v2/oauth2/token';
/** Refresh this long before the token expires (the official SIEM script uses the same margin). */
const TOKEN_EARLY_REFRESH_MS = 120_000;
/**
 * How long a token request that failed for want of the token service (5xx, 429, time-out, network) is
 * remembered, and how long after a 401 that a new token did not cure the token is checked before it is thrown
 * away for another 401. Each failed token request has already spent its retries; without the hold, every later
 * tenant of a run started a retry cycle of its own against the token service (a partner's 500 tenants: hundreds
 * of token requests and minutes of back-off), and every tenant refused with 401 (a 401 also means a wrong
 * X-Tenant-ID) threw the shared token away.
 */
const TOKEN_HOLD_MS = 60_000;
/** whoami: the client's first call, and the transport's check of a token (tokenWorks). */
export const WHOAMI_PATH = '/whoami/v1';

export class Transport {
  private readonly agent: Agent;
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly proxies = new Map<string, ProxyAgent>();
  private readonly total: Semaphore;
  private token?: { value: string; refreshAt: number; expiresAt: number };
  private pendingToken?: Promise<string>;
  private credentialsRefused?: BadCredentialsError;
  /** The last token request's failure (not the credentials'), failed again at once until `until` (TOKEN_HOLD_MS). */
  private tokenFailure?: { error: unknown; until: number };
  /** Until then a 401 on the current token may be a tenant's refusal: the token is checked first (TOKEN_HOLD_MS). */
  private uncured401Until = 0;
  /** The check of a token in progress (tokenWorks), shared by the 401s that wait for it. */
  private tokenCheck?: { token: string; works: Promise<boolean> };
  private retryLines = 0;
  /** Every token issued to this process, so that none can slip into an error message. */
  private readonly secrets = new Set<string>();
  /** Requests that belong to no tenant: token, whoami and tenant lists. */
  readonly globalStats: RequestStats = { requests: 0, retries: 0, rateLimited: 0, errors: 0 };
  /** This host's clock minus Sophos's, from the Date header of the latest answer (ms, at most a little high); undefined before one. */
  clockSkewMs: number | undefined;
  /** Sophos's time by the Date of the latest answer (plus its Age), and the monotonic time its headers came. */
  private lastDate: { time: number; at: number } | undefined;

  /**
   * Sophos's clock now: the Date of its latest answer and the monotonic time since, which a step of this host's
   * clock (NTP) since that answer does not move, as it moves the skew's reading of it. Undefined before an answer.
   */
  sophosNow(): number | undefined {
    return this.lastDate && this.lastDate.time + (monotonicMs() - this.lastDate.at);
  }

  private measured(skew: number, answeredAt: number, at: number): void {
    this.clockSkewMs = skew;
    this.lastDate = { time: answeredAt - skew, at };
  }

  /**
   * Aborted by the caller's signal (SIGTERM) or by close(): waits end and requests in flight are cut short,
   * so nothing still reading (the tenant list read ahead of a run that stopped) retries on a closed client.
   */
  private readonly stop = new AbortController();
  private closed = false;

  constructor(private readonly opts: TransportOptions) {
    this.total = new Semaphore(opts.concurrency.total);
    this.secrets.add(opts.clientSecret);
    this.agent = new Agent(this.agentOptions());
    // Every request in flight, waiting for a slot or sleeping before a retry listens here: as many as the
    // tenants at work queue, not a leak, and Node's warning past 10 would reach splunkd.log as an ERROR.
    setMaxListeners(0, this.stop.signal);
    if (opts.signal?.aborted) this.stop.abort();
    else opts.signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  private agentOptions(): Agent.Options {
    return {
      connections: this.opts.concurrency.total,
      keepAliveTimeout: 30_000,
      connect: { timeout: this.opts.timeoutMs },
      headersTimeout: this.opts.timeoutMs,
      bodyTimeout: this.opts.timeoutMs,
    };
  }

  newLane(tenantId: string): TenantLane {
    return {
      tenantId,
      slots: new Semaphore(this.opts.concurrency.perTenant),
      stats: { requests: 0, retries: 0, rateLimited: 0, errors: 0 },
      notBefore: 0,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    await Promise.all([this.agent.close(), ...[...this.proxies.values()].map((p) => p.close())]);
  }

  /** Sends a request with retries; resolves to the parsed JSON body (undefined when empty, NOT_FOUND for an allowed 404). */
  async send(req: SendRequest): Promise<unknown> {
    const reply = await this.sendForText(req);
    return reply === NOT_FOUND ? reply : reply.body;
  }

  /** `send`, also keeping the body's text (list pages slice their items' JSON from it, see item-text.ts). */
  async sendForText(req: SendRequest): Promise<Reply | typeof NOT_FOUND> {
    if (req.auth && req.origin !== this.opts.base.apiUrl) {
      // Defence in depth: TenantApi only exists for checked hosts, but never let a token leave otherwise.
      checkRegionHost(req.origin, this.opts.base, req.lane?.tenantId);
    }
    if (req.signal === undefined) return this.sendWith(req, this.stop.signal);
    const cut = linkedSignal(this.stop.signal, req.signal);
    try {
      return await this.sendWith(req, cut.signal);
    } finally {
      cut.dispose();
    }
  }

  /** sendForText, every wait and attempt of it ended by `signal`. */
  private async sendWith(req: SendRequest, signal: AbortSignal): Promise<Reply | typeof NOT_FOUND> {
    const started = this.opts.now();
    let reauthenticated = false;
    // Counted as the retry leaves (attempt): the wait, the token or a slot it needs may end it first.
    let retrying = false;
    for (let attempt = 1; ; attempt++) {
      this.throwIfAborted(signal);
      const lane = req.lane;
      const stats = lane?.stats ?? this.globalStats;
      if (lane && lane.notBefore > this.opts.now()) await this.wait(lane.notBefore - this.opts.now(), signal);
      // Token work is shared with other requests (a renewal and its retries, a whoami): a request whose own
      // signal ends stops waiting for it and leaves it to them.
      const token = req.auth ? await this.untilAborted(this.bearer(), signal) : undefined;
      const outcome = await this.attemptWithSlots(req, token, signal, retrying);
      retrying = false;
      countFailure(stats, outcome, req.allowNotFound);

      if (outcome.kind === 'ok') return { ...outcome, askedAt: started };
      if (outcome.kind === 'status' && outcome.status === 404 && req.allowNotFound) return NOT_FOUND;

      if (outcome.kind === 'status' && outcome.status === 401 && token !== undefined) {
        if (!reauthenticated && (await this.untilAborted(this.renewAfter401(token), signal))) {
          // An expired or revoked token: one fresh token and one more try, for any method, since a
          // 401 means the API refused the request before acting on it.
          reauthenticated = true;
          retrying = true;
          attempt--;
          continue;
        }
        // Refused with its fresh token, which another request has since renewed: that token was revoked too, so
        // this 401 says nothing about the request. One more attempt with the current token, as any retry counts.
        if (reauthenticated && this.token?.value !== token && attempt < this.opts.policy.maxAttempts) {
          retrying = true;
          continue;
        }
        if (reauthenticated && this.token?.value === token) {
          // Refused with its fresh token, still the current one: revoked again before anything renewed it, or a 401
          // about the request (a tenant the credential cannot reach). whoami tells which.
          if (attempt < this.opts.policy.maxAttempts && !(await this.untilAborted(this.tokenWorks(token), signal))) {
            if (this.token?.value === token) this.token = undefined;
            retrying = true;
            continue;
          }
          this.uncured401Until = this.opts.now() + TOKEN_HOLD_MS;
        }
      }
      let retryAfterMs: number | undefined;
      const rateLimited = outcome.kind === 'status' && outcome.status === 429;
      if (outcome.kind === 'status' && (rateLimited || outcome.status === 503)) retryAfterMs = outcome.retryAfterMs;
      // 4xx other than 408/429 (bad credentials included) is final: retrying cannot help.
      const retryable =
        req.idempotent && (outcome.kind === 'status' ? isRetryableStatus(outcome.status) : !(outcome.kind === 'network' && outcome.final));
      const wait = retryable
        ? nextDelay({ attempt, elapsedMs: this.opts.now() - started, retryAfterMs, rateLimited }, this.opts.policy, this.opts.random)
        : undefined;
      if (wait === undefined) throw this.toError(req, outcome, attempt);

      retrying = true;
      // A Retry-After, or a 429 without one, is about the tenant, not this request: its other requests (the
      // next page asked for ahead, the second slot) hold back as well instead of drawing more 429s.
      if (lane && (retryAfterMs !== undefined || rateLimited)) {
        lane.notBefore = Math.max(lane.notBefore, this.opts.now() + (retryAfterMs ?? wait));
      }
      const line = `Sophos Central ${req.method} ${req.path}${lane ? ` (tenant ${lane.tenantId})` : ''}: ${describeOutcome(outcome)}; retry ${attempt}/${this.opts.policy.maxAttempts - 1} in ${wait} ms`;
      if (++this.retryLines <= RETRY_INFO_LINES) this.opts.logger?.info(line);
      else this.opts.logger?.debug(line);
      if (this.retryLines === RETRY_INFO_LINES) {
        this.opts.logger?.info(`further retries of this run are logged at DEBUG only; the tenant_run health records count them all`);
      }
      await this.wait(wait, signal);
    }
  }

  private async attemptWithSlots(req: SendRequest, token: string | undefined, signal: AbortSignal, retry = false): Promise<Outcome> {
    // Tenant slot first, so a tenant waiting for its own turn holds no global slot.
    try {
      await req.lane?.slots.acquire(signal);
    } catch (err) {
      throw this.stopped(err, signal);
    }
    try {
      await this.total.acquire(signal);
      try {
        return await this.attempt(req, token, signal, retry);
      } finally {
        this.total.release();
      }
    } catch (err) {
      throw this.stopped(err, signal);
    } finally {
      req.lane?.slots.release();
    }
  }

  /** One request on the wire; `retry` when it repeats an earlier attempt, for the health counts. */
  private async attempt(req: SendRequest, token: string | undefined, signal: AbortSignal, retry = false): Promise<Outcome> {
    // Cancelled between a slot's grant (which no longer listens) and here: nothing goes out.
    this.throwIfAborted(signal);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.opts.timeoutMs);
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': `TA-sophos-central/${VERSION}`,
      ...req.headers,
    };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (req.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const search = req.query ? new URLSearchParams(req.query).toString() : '';
    // Counted as it leaves, not by its outcome: one cut short in flight (a stop, a cancelled page) reached the API too.
    const stats = req.lane?.stats ?? this.globalStats;
    stats.requests++;
    if (retry) stats.retries++;
    try {
      const res = await this.dispatcherFor(req.origin).request({
        origin: req.origin,
        path: search ? `${req.path}?${search}` : req.path,
        method: req.method,
        headers,
        body: req.form,
        signal: controller.signal,
      });
      // When the headers came: Sophos dates an answer as it starts it, and a large page may take seconds more.
      const answeredAt = this.opts.now();
      const headersAt = monotonicMs();
      const bytes = Buffer.from(await res.body.arrayBuffer());
      // UTF-8 without its byte-order mark, as undici's text() gives it; the bytes are kept for the scan.
      const text = bytes.toString('utf8', hasBom(bytes) ? 3 : 0);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const date = headerDate(res.headers.date);
      // An upper bound: Date is rounded down to the second, and the headers took time to arrive. Only from
      // answers Sophos gave (see below for errors): one may come from a proxy, with the proxy's clock. One a
      // cache kept is dated when Sophos sent it, `Age` seconds ago (some proxies send `Age: 0` on every answer).
      const skew = date === undefined ? undefined : answeredAt - date - ageMs(res.headers.age);
      if (skew !== undefined && ok) this.measured(skew, answeredAt, headersAt);
      if (ok && req.onText?.(text)) await letRequestsOut();
      if (req.scan && ok) {
        const scanned = req.scan(text, bytes);
        if (scanned !== undefined) return { kind: 'ok', status: res.statusCode, body: undefined, text, scanned, date };
      }
      let body: unknown;
      let parsed = true;
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          parsed = false;
        }
      }
      if (ok) {
        if (!parsed) return { kind: 'network', cause: undefined, ...unparsableBody(res.headers['content-type'], text) };
        return { kind: 'ok', status: res.statusCode, body, text, date };
      }
      // An error with Sophos's own body (its correlationId, sophos-central-api.md §7) is Sophos's answer too: a
      // from_date refused as too old is planned again with the skew it was refused at, not an older one.
      if (skew !== undefined && typeof (body as { correlationId?: unknown } | undefined)?.correlationId === 'string') this.measured(skew, answeredAt, headersAt);
      return {
        kind: 'status',
        status: res.statusCode,
        body,
        // A date is on the server's clock: measured from its Date where there is one, so a skewed host clock
        // neither cuts the wait short nor stretches it.
        retryAfterMs: parseRetryAfter(res.headers['retry-after'], date ?? this.opts.now()),
      };
    } catch (err) {
      if (signal.aborted) throw this.aborted();
      const code = (err as { code?: unknown } | null)?.code;
      if (timedOut || (typeof code === 'string' && code.endsWith('_TIMEOUT'))) return { kind: 'timeout' };
      return { kind: 'network', cause: err, detail: networkDetail(err), ...networkAdvice(err, this.proxySource(req.origin)) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Whether the proxy for `origin` was given a user and password, and where to correct them (for a failure's hint). */
  private proxySource(origin: string): ProxySource | undefined {
    const proxy = proxyFor(new URL(origin), this.opts.proxyUrl, this.opts.env);
    if (proxy === undefined) return undefined;
    const credentials = URL.canParse(proxy) && new URL(proxy).username !== '';
    if (!this.opts.proxyUrl) return { name: 'the *_PROXY environment variable', credentials };
    // Credentials go into proxy_url (the app-wide proxy takes none); refused ones are corrected where they were set.
    return { name: credentials ? (this.opts.proxyName ?? 'proxy_url') : 'proxy_url', credentials };
  }

  private dispatcherFor(origin: string): Dispatcher {
    let dispatcher = this.dispatchers.get(origin);
    if (dispatcher) return dispatcher;
    const proxy = proxyFor(new URL(origin), this.opts.proxyUrl, this.opts.env);
    if (proxy === undefined) {
      dispatcher = this.agent;
    } else {
      let agent = this.proxies.get(proxy);
      if (!agent) {
        agent = new ProxyAgent({ ...this.agentOptions(), uri: proxy });
        this.proxies.set(proxy, agent);
        this.opts.logger?.debug(`Sophos Central traffic to ${origin} goes through proxy ${redactProxyUrl(proxy)}`);
      }
      dispatcher = agent;
    }
    this.dispatchers.set(origin, dispatcher);
    return dispatcher;
  }

  /** The current token, fetching one when there is none or it is about to expire; concurrent callers share one request. */
  private bearer(): Promise<string> {
    if (this.credentialsRefused) return Promise.reject(this.credentialsRefused);
    const now = this.opts.now();
    const current = this.token;
    if (current && now < current.refreshAt) return Promise.resolve(current.value);
    const failure = this.tokenFailure !== undefined && now < this.tokenFailure.until ? this.tokenFailure : undefined;
    if (current && now < current.expiresAt) {
      // Refreshed early in the background: the still-valid token goes on serving requests meanwhile, and
      // until it expires if the token service is down; that must not fail requests it can make.
      if (!failure && !this.pendingToken) {
        this.sharedToken().catch((err: unknown) => {
          if (!this.stop.signal.aborted && !(err instanceof BadCredentialsError)) {
            this.opts.logger?.warn(`Could not renew the Sophos Central token ahead of its expiry (${describeError(err)}); the current one serves until it expires`);
          }
        });
      }
      return Promise.resolve(current.value);
    }
    if (failure) return Promise.reject(failure.error);
    return this.sharedToken();
  }

  private sharedToken(): Promise<string> {
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  /**
   * After a 401 on `used`: whether to try again, with a new token. A token already replaced by a concurrent
   * caller is simply retried with its successor. The current one is dropped, unless 401s lately outlived a new
   * token (TOKEN_HOLD_MS): then this one may be a tenant's refusal too, and whoami asks whether the token still
   * works; only a token that does not is dropped, so one that really ended is never kept.
   */
  private async renewAfter401(used: string): Promise<boolean> {
    if (this.token?.value !== used) return true;
    if (this.opts.now() < this.uncured401Until && (await this.tokenWorks(used))) return false;
    if (this.token?.value === used) this.token = undefined;
    return true;
  }

  /**
   * Whether the API still takes `token`: one whoami, not retried, shared while it runs. Only a 401 says no; a
   * whoami that fails otherwise (429, 5xx, a time-out) proves nothing, and the token is kept, as it would be
   * without asking. A yes is not remembered: a token that ends a moment later must not be kept on its word.
   */
  private tokenWorks(token: string): Promise<boolean> {
    if (this.tokenCheck?.token === token) return this.tokenCheck.works;
    const whoami: SendRequest = { method: 'GET', origin: this.opts.base.apiUrl, path: WHOAMI_PATH, auth: true, idempotent: true };
    const works = this.attemptWithSlots(whoami, token, this.stop.signal).then(
      (outcome) => {
        countFailure(this.globalStats, outcome);
        return !(outcome.kind === 'status' && outcome.status === 401);
      },
    );
    const check = { token, works };
    this.tokenCheck = check;
    const done = (): void => {
      if (this.tokenCheck === check) this.tokenCheck = undefined;
    };
    works.then(done, done);
    return works;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.opts.clientId,
      client_secret: this.opts.clientSecret,
      scope: 'token',
    }).toString();
    let body: unknown;
    try {
      body = await this.send({
        method: 'POST',
        origin: this.opts.base.authUrl,
        path: TOKEN_PATH,
        form,
        auth: false,
        idempotent: true,
        isTokenRequest: true,
      });
    } catch (err) {
      if (err instanceof BadCredentialsError) this.credentialsRefused = err;
      else if (!this.stop.signal.aborted) this.tokenFailure = { error: err, until: this.opts.now() + TOKEN_HOLD_MS };
      throw err;
    }
    const { access_token: value, expires_in: expiresIn } = (body ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (typeof value !== 'string' || value === '') {
      throw new CentralError('The Sophos Central token service answered without an access_token', {
        request: `POST ${TOKEN_PATH}`,
      });
    }
    this.secrets.add(value);
    const lifetimeMs = (typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : 3600) * 1000;
    // Early refresh, but never more than half the lifetime early (short-lived tokens in tests).
    const refreshIn = Math.max(lifetimeMs - TOKEN_EARLY_REFRESH_MS, lifetimeMs / 2);
    const now = this.opts.now();
    this.token = { value, refreshAt: now + refreshIn, expiresAt: now + lifetimeMs };
    this.tokenFailure = undefined;
    return value;
  }

  /** `work`, or AbortedError once `signal` ends this request's wait for it; the work goes on for the others. */
  private untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
    // The stop ends the shared work itself.
    if (signal === this.stop.signal) return work;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.aborted());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      // Also handles `work`: a renewal no request awaits any more must not become an unhandled rejection.
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async wait(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await this.opts.sleep(ms, signal);
    } catch (err) {
      throw this.stopped(err, signal);
    }
  }

  /** `err`, or AbortedError when it came of `signal` (SIGTERM, close(), the request's own): what a caller should see. */
  private stopped(err: unknown, signal: AbortSignal): unknown {
    return signal.aborted ? this.aborted() : err;
  }

  /** Throws the AbortedError a request would once the transport or `signal` is stopped. */
  throwIfStopped(signal?: AbortSignal): void {
    this.throwIfAborted(this.stop.signal);
    if (signal) this.throwIfAborted(signal);
  }

  private throwIfAborted(signal: AbortSignal): void {
    if (signal.aborted) throw this.aborted();
  }

  private aborted(): AbortedError {
    return new AbortedError(this.closed ? 'Stopped: the Sophos Central client was closed' : 'Stopped: the Sophos Central request was cancelled');
  }

  /** Removes every secret this transport knows from text that came from a server. */
  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (secret) out = out.split(secret).join('<redacted>');
    return out;
  }

  private toError(req: SendRequest, outcome: Exclude<Outcome, { kind: 'ok' }>, attempts: number): CentralError {
    const facts: CentralErrorFacts = { request: `${req.method} ${req.path}`, tenantId: req.lane?.tenantId };
    const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
    if (outcome.kind === 'timeout') {
      return new TimeoutError(`Sophos Central at ${req.origin} did not answer within ${this.opts.timeoutMs} ms${tries}`, facts);
    }
    if (outcome.kind === 'network') {
      const hint = outcome.hint ? `; ${outcome.hint}` : '';
      return new NetworkError(`Sophos Central connection to ${req.origin} failed: ${this.redact(outcome.detail)}${tries}${hint}`, {
        ...facts,
        cause: outcome.cause,
        proxyStatus: outcome.proxyStatus,
      });
    }
    const body = (outcome.body ?? {}) as Record<string, unknown>;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? this.redact(v).slice(0, 200) : undefined);
    Object.assign(facts, {
      status: outcome.status,
      sophosError: str(body.error) ?? str(body.errorCode),
      correlationId: str(body.correlationId),
      requestId: str(body.requestId) ?? str(body.trackingId),
    });
    const said = str(body.message);
    const detail = said ? `: ${said.replace(/\s+/g, ' ')}` : '';
    const status = outcome.status;
    if (req.isTokenRequest && (status === 400 || status === 401 || status === 403)) {
      return new BadCredentialsError(
        `Sophos Central refused the API credential (client ID ${this.opts.clientId})${detail}; check the client ID and secret`,
        facts,
      );
    }
    if (status === 401 || status === 403) {
      return new ForbiddenError(`Sophos Central denied access${detail}; the credential may not reach this tenant or API`, facts);
    }
    if (status === 404) return new NotFoundError(`Sophos Central found no such resource${detail}`, facts);
    if (status === 429) {
      return new RateLimitedError(`Sophos Central kept rate-limiting the requests${tries}${detail}`, {
        ...facts,
        retryAfterMs: outcome.retryAfterMs,
      });
    }
    if (status >= 500) return new ServerError(`Sophos Central had a server error${tries}${detail}`, facts);
    return new BadRequestError(`Sophos Central rejected the request${detail}`, facts);
  }
}

/** Counts an attempt's failure (a 404 the caller allowed is none); the attempt itself was counted as it left. */
function countFailure(stats: RequestStats, outcome: Outcome, allowNotFound = false): void {
  if (outcome.kind === 'ok' || (outcome.kind === 'status' && outcome.status === 404 && allowNotFound)) return;
  stats.errors++;
  if (outcome.kind === 'status' && outcome.status === 429) stats.rateLimited++;
}

/** A Date header (IMF-fixdate, one-second resolution) as epoch ms; undefined when absent or unreadable. */
function headerDate(value: string | string[] | undefined): number | undefined {
  const at = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? undefined : at;
}

/** Whether a body starts with UTF-8's byte-order mark. */
function hasBom(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function describeOutcome(outcome: Exclude<Outcome, { kind: 'ok' }>): string {
  if (outcome.kind === 'timeout') return 'timed out';
  if (outcome.kind === 'network') return outcome.detail;
  return `HTTP ${outcome.status}${outcome.retryAfterMs === undefined ? '' : `, Retry-After ${outcome.retryAfterMs} ms`}`;
}

/**
 * A 2xx body that is not JSON. Both are retried (a block page may lift), but an HTML page is most likely
 * someone else answering, and its title usually says who.
 */
function unparsableBody(contentType: string | string[] | undefined, text: string): { detail: string; hint?: string } {
  const type = String(contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type.includes('json')) return { detail: 'truncated or unparsable JSON body' };
  const title = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(text)?.[1]?.trim();
  return {
    detail: `a ${type} body instead of JSON${title ? ` ("${title}")` : ''}`,
    hint: 'a proxy or captive portal may be answering for Sophos Central',
  };
}

const CERT_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** Whether a request's proxy URL carries a user and password, and the setting to correct them in (for messages). */
export interface ProxySource {
  name: string;
  credentials: boolean;
}

/** The `Age` header in ms: how long a cache held the answer (RFC 9111 §5.1), 0 when absent or unreadable. */
function ageMs(age: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(age) ? age[0] : age);
  return Number.isInteger(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

/** undici's ProxyAgent when the proxy answers CONNECT with anything but 200. */
const PROXY_REFUSED = /^Proxy response \((\d{3})\) !== 200/;

/**
 * Failures no retry can mend, with what usually fixes them: a certificate Node does not trust (a
 * TLS-inspecting proxy, most often) and a proxy that refuses the tunnel. A proxy's 5xx stays retryable.
 */
export function networkAdvice(err: unknown, proxy?: ProxySource): { final?: boolean; hint?: string; proxyStatus?: number } {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { final: true, hint: 'the certificate is for another host name: a TLS-inspecting proxy, or a URL naming the wrong host' };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { final: true, hint: "the certificate is outside its validity dates: check this host's clock, or the proxy's certificate" };
  }
  if (typeof code === 'string' && CERT_ERROR.test(code)) {
    return {
      final: true,
      hint: "the server's certificate is not trusted: if a TLS-inspecting proxy is in the way, add its CA with NODE_EXTRA_CA_CERTS in splunkd's environment",
    };
  }
  const matched = err instanceof Error ? PROXY_REFUSED.exec(err.message)?.[1] : undefined;
  if (matched === undefined) return {};
  const proxyStatus = Number(matched);
  if (proxyStatus === 407) {
    const where = proxy?.name ?? 'proxy_url';
    if (proxy?.credentials) return { final: true, proxyStatus, hint: `the proxy refused the user and password in ${where}: type them again correctly` };
    // Spelled out without a URL: the log's redaction would blank a user:password@ after ://.
    return { final: true, proxyStatus, hint: `the proxy requires authentication: put its user and password into ${where}, as user:password@ before host:port` };
  }
  if (proxyStatus < 500) return { final: true, proxyStatus, hint: `the proxy refused the tunnel (${proxyStatus}): allow the Sophos Central hosts in its policy` };
  return { proxyStatus };
}

function networkDetail(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal });
}
