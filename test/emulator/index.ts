// The Sophos Central emulator: token host, global API host, one host per data region and an optional
// trap host, all on 127.0.0.1. Behaviour from shared/docs/sophos-central-api.md; README "Sophos Central
// emulator" lists the choices made where the real API is undocumented.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Item } from '../../src/central/types.js';
import { Generator, type TenantRecord } from './data.js';
import { FaultTable, RateLimiter, type FaultRule } from './faults.js';
import { seedHash } from './rng.js';
import {
  type ApiContext, type Reply, type TenantState, alertList, apiError, badRequest, endpointDelete, endpointGet, endpointList, forbidden,
  newTenantState, notAuthorized, notFound, siemList, tenantList,
} from './routes.js';

export type { FaultRule, FaultKind } from './faults.js';
export type { Item } from '../../src/central/types.js';
export type IdType = 'partner' | 'organization' | 'tenant';

export interface EmulatorOptions {
  seed?: number | string;
  tenants?: number;
  idType?: IdType;
  regions?: string[];
  endpointsPerTenant?: number;
  alertsPerTenant?: number;
  eventsPerTenant?: number;
  tokenTtlSeconds?: number;
  alertsMaxPageSize?: number;
  /**
   * The largest tenant-list pageSize answered (default 100); more gets a 400. The real maximum is not
   * documented (sophos-central-api.md §3, open question 3).
   */
  tenantsMaxPageSize?: number;
  /**
   * 'as-asked' (default): the alerts list follows `sort`. 'newest-first': it ignores `sort` and answers newest
   * first, the one order sophos-central-api.md §5 shows (`raisedAt:desc`), which the docs do not rule out.
   */
  alertsOrder?: 'as-asked' | 'newest-first';
  /** Initial emulator clock, epoch ms. */
  now?: number;
  /** A tenant whose apiHost is a trap listener on `localhost` (for a tenant credential: its whoami dataRegion). */
  maliciousApiHost?: boolean;
  /**
   * A fixed-window request budget per tenant; over it, 429 with Retry-After (the seconds to the window's end)
   * unless `retryAfter` is false. Sophos documents the header only for other APIs (sophos-central-api.md §7).
   */
  rateLimitPerTenant?: { requests: number; perMs: number; retryAfter?: boolean };
  /**
   * A SIEM `from_date` older than 24 hours (one in the future is always refused): refused with 400 (default) or
   * answered from the last 24 hours, as the docs say of a cursor. The docs say it "must be within last 24
   * hours" and leave open which (sophos-central-api.md §6, open question 4); the one report of a real answer
   * is a refusal (anchors.md, elastic/integrations #9140: "from_date set five months back and rejected").
   */
  siemStaleFromDate?: 'clamp' | 'reject';
  /** First port (auth); global, regions and trap follow. Default: random ports. */
  port?: number;
  /** 'frozen' (default): the clock moves only by advance/set, so tests are deterministic. 'wall': it also follows real time (the CLI). */
  clockMode?: 'frozen' | 'wall';
  /**
   * Real milliseconds every reply waits before it is sent: the round trip and server time of the real
   * service, which the loopback emulator otherwise answers in about a millisecond. Default 0.
   */
  latencyMs?: number;
}

export interface RequestRecord {
  listener: 'auth' | 'global' | `region:${string}` | 'trap';
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  hasToken: boolean;
  tenantId?: string;
  /** The HTTP status sent; 0 while pending and for dropped or stalled requests. */
  status: number;
  route: string;
}

export interface EmulatorTenant {
  id: string;
  name: string;
  dataRegion: string;
  apiHost: string;
}

export interface Emulator {
  authUrl: string;
  apiUrl: string;
  regionUrls: Record<string, string>;
  clientId: string;
  /** The secret the token endpoint accepts now. */
  readonly clientSecret: string;
  /** A new secret, as regenerating it in Sophos Central gives: the previous one gets no token from then on. */
  rotateSecret(): string;
  idType: IdType;
  tenants: EmulatorTenant[];
  /** A tenant that exists but is not under this credential: requests for it get 403. */
  foreignTenantId: string;
  /** The trap listener's URL (hostname `localhost`) when maliciousApiHost is set. */
  trapUrl?: string;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  requests: RequestRecord[];
  faults: { add(rule: FaultRule): void; clear(): void };
  addAlerts(tenantId: string, count: number, opts?: { raisedAt?: number }): Item[];
  addEvents(tenantId: string, count: number, opts?: { when?: number }): Item[];
  setEndpointLastSeen(tenantId: string, endpointId: string, lastSeenAt: number): void;
  expireTokens(): void;
  /**
   * Takes a tenant off the partner's or organization's tenant list, as when a customer leaves; the pages
   * after it shift up by one. Its data routes keep answering: the docs do not say when they stop.
   */
  removeTenant(tenantId: string): void;
  stop(): Promise<void>;
}

type Listener = RequestRecord['listener'];

interface TokenState {
  issuedClock: number;
  issuedWall: number;
  revoked: boolean;
}

const SECRET_QUERY_KEYS = new Set(['client_secret', 'access_token', 'refresh_token']);

/** Request headers for the log: lower-case names, secrets replaced. */
function redactHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const v = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'authorization') out[name] = /^bearer /i.test(v) ? 'Bearer <redacted>' : '<redacted>';
    else if (name === 'x-api-key' || name === 'cookie' || name === 'proxy-authorization') out[name] = '<redacted>';
    else out[name] = v;
  }
  return out;
}

function routeOf(listener: Listener, method: string, path: string): { route: string; id?: string } {
  if (listener === 'auth') return { route: method === 'POST' && path === '/api/v2/oauth2/token' ? 'token' : 'unknown' };
  if (listener === 'global') {
    if (method === 'GET' && path === '/whoami/v1') return { route: 'whoami' };
    const m = /^\/(partner|organization)\/v1\/tenants(?:\/([^/]+))?$/.exec(path);
    if (method === 'GET' && m) return m[2] ? { route: `${m[1]}-tenant`, id: decodeURIComponent(m[2]) } : { route: `${m[1]}-tenants` };
    return { route: 'unknown' };
  }
  if (method === 'GET' && path === '/endpoint/v1/endpoints') return { route: 'endpoints' };
  const ep = /^\/endpoint\/v1\/endpoints\/([^/]+)$/.exec(path);
  if (ep && (method === 'GET' || method === 'DELETE')) return { route: method === 'GET' ? 'endpoint' : 'endpoint-delete', id: decodeURIComponent(ep[1]!) };
  if (method === 'GET' && path === '/common/v1/alerts') return { route: 'alerts' };
  if (method === 'GET' && path === '/siem/v1/events') return { route: 'siem-events' };
  if (method === 'GET' && path === '/siem/v1/alerts') return { route: 'siem-alerts' };
  return { route: 'unknown' };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** id.sophos.com error body (sophos-central-api.md §1). Only invalid_client_secret is documented; the others follow OAuth2 names. */
function oauthError(status: number, errorCode: string, message: string): Reply {
  return { status, body: JSON.stringify({ errorCode, message, trackingId: randomUUID() }) };
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const seed = seedHash(opts.seed ?? 1);
  const idType: IdType = opts.idType ?? 'partner';
  const regions = opts.regions ?? ['eu01', 'us01'];
  if (regions.length === 0) throw new Error('startEmulator: regions must not be empty');
  const tenantCount = idType === 'tenant' ? 1 : opts.tenants ?? 3;
  if (!Number.isInteger(tenantCount) || tenantCount < 0 || tenantCount > 65535) throw new Error('startEmulator: tenants must be an integer from 0 to 65535');
  const ttlMs = (opts.tokenTtlSeconds ?? 3600) * 1000;
  const alertsMaxPageSize = opts.alertsMaxPageSize ?? 1000;
  const gen = new Generator({
    seed,
    now0: opts.now ?? Date.now(),
    endpointsPerTenant: opts.endpointsPerTenant ?? 50,
    alertsPerTenant: opts.alertsPerTenant ?? 200,
    eventsPerTenant: opts.eventsPerTenant ?? 500,
  });

  // Clock: frozen unless 'wall', in which case real time also moves it.
  let clockBase = gen.now0;
  let wallBase = Date.now();
  const wall = opts.clockMode === 'wall';
  const clock = {
    now: (): number => (wall ? clockBase + (Date.now() - wallBase) : clockBase),
    advance: (ms: number): void => { clockBase += ms; },
    set: (ms: number): void => { clockBase = ms; wallBase = Date.now(); },
  };

  const requests: RequestRecord[] = [];
  const faults = new FaultTable(seed);
  const latencyMs = opts.latencyMs ?? 0;
  const limiter = opts.rateLimitPerTenant ? new RateLimiter(opts.rateLimitPerTenant) : undefined;
  const tokens = new Map<string, TokenState>();
  const { clientId } = gen.credential();
  let { clientSecret } = gen.credential();
  const stalled = new Set<Socket>();

  // Listeners first: tenant apiHost values need their ports.
  const servers: Server[] = [];
  let nextPort = opts.port;
  async function listen(listener: Listener, host = '127.0.0.1', port?: number): Promise<number> {
    const server = createServer((req, res) => {
      handle(listener, req, res).catch((err: unknown) => {
        if (!res.headersSent) send(res, undefined, apiError(500, 'internalServerError', `Internal Server Error. ${String(err)}`));
      });
    });
    server.keepAliveTimeout = 5000;
    const p = port ?? (nextPort === undefined ? 0 : nextPort++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, host, () => resolve());
    });
    servers.push(server);
    return (server.address() as AddressInfo).port;
  }
  const authPort = await listen('auth');
  const globalPort = await listen('global');
  const regionUrls: Record<string, string> = {};
  for (const r of regions) regionUrls[r] = `http://127.0.0.1:${await listen(`region:${r}`)}`;
  let trapUrl: string | undefined;
  if (opts.maliciousApiHost) {
    const trapPort = await listen('trap');
    // `localhost` may resolve to ::1 first; listen there too so that a client that follows the host is seen.
    await listen('trap', '::1', trapPort).catch(() => undefined);
    trapUrl = `http://localhost:${trapPort}`;
  }
  const apiUrl = `http://127.0.0.1:${globalPort}`;

  const tenants: TenantRecord[] = [];
  for (let i = 0; i < tenantCount; i++) {
    const region = regions[i % regions.length]!;
    tenants.push(gen.tenant(i, region, regionUrls[region]!));
  }
  // Partner and organization lists gain one extra tenant on the trap; a tenant credential's own whoami
  // dataRegion points there instead.
  if (trapUrl && idType === 'tenant') tenants[0] = gen.tenant(0, regions[0]!, trapUrl);
  else if (trapUrl) tenants.push(gen.tenant(tenantCount, regions[0]!, trapUrl));
  const foreign = gen.tenant(0, regions[0]!, regionUrls[regions[0]!]!, true);
  const byId = new Map<string, TenantRecord>(tenants.map((t) => [t.id, t]));
  const states = new Map<number, TenantState>();
  const state = (t: TenantRecord): TenantState => {
    let s = states.get(t.index);
    if (!s) states.set(t.index, (s = newTenantState(gen, t)));
    return s;
  };
  const ctx: ApiContext = { gen, now: clock.now, alertsMaxPageSize, alertsOrder: opts.alertsOrder ?? 'as-asked', state, siemStaleFromDate: opts.siemStaleFromDate ?? 'reject' };

  const callerId = idType === 'partner' ? gen.partnerId() : idType === 'organization' ? gen.organizationId() : tenants[0]!.id;

  function tokenValid(token: string): boolean {
    const t = tokens.get(token);
    // A token ends after its lifetime on the emulator clock (tests advance it) or on the wall clock (long
    // real runs), whichever comes first; expireTokens() and the 'expire-token' fault end it at once.
    return !!t && !t.revoked && clock.now() < t.issuedClock + ttlMs && Date.now() < t.issuedWall + ttlMs;
  }

  function bearer(req: IncomingMessage): string | undefined {
    const m = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    return m?.[1];
  }

  function issueToken(): Reply {
    const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = clock.now();
    // JWT-shaped like the real one (COMM-AUTH); the signature is random, so tokens cannot be guessed.
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: clientId, iat: Math.floor(now / 1000), exp: Math.floor((now + ttlMs) / 1000), jti: randomUUID() })}.${randomBytes(32).toString('base64url')}`;
    tokens.set(token, { issuedClock: now, issuedWall: Date.now(), revoked: false });
    return {
      status: 200,
      body: JSON.stringify({
        access_token: token, errorCode: 'success', expires_in: ttlMs / 1000, message: 'OK',
        refresh_token: randomBytes(32).toString('hex'), token_type: 'bearer', trackingId: randomUUID(),
      }),
    };
  }

  function tokenRoute(req: IncomingMessage, body: string): Reply {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return oauthError(400, 'oauth.invalid_request', 'Bad Request');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'oauth.unsupported_grant_type', 'Bad Request');
    if (form.get('scope') !== 'token') return oauthError(400, 'oauth.invalid_scope', 'Bad Request');
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return oauthError(401, 'oauth.invalid_client_secret', 'Unauthorized');
    }
    return issueToken();
  }

  function whoami(): Reply {
    const apiHosts: Record<string, string> = { global: apiUrl };
    // Partner and organization whoami bodies carry only the global host (XSOAR whoami_partner.json).
    if (idType === 'tenant') apiHosts.dataRegion = tenants[0]!.apiHost;
    return { status: 200, body: JSON.stringify({ id: callerId, idType, apiHosts }) };
  }

  function globalRoute(req: IncomingMessage, route: string, id: string | undefined, query: Record<string, string>): Reply {
    if (route === 'whoami') return whoami();
    if (route === 'unknown') return notFound();
    const kind = route.startsWith('partner') ? 'partner' : 'organization';
    const header = req.headers[kind === 'partner' ? 'x-partner-id' : 'x-organization-id'];
    // A missing or wrong X-Partner-ID / X-Organization-ID is a 401 (COMM-ERR); so is the wrong kind of credential.
    if (idType !== kind || header !== callerId) return notAuthorized();
    if (id === undefined) return tenantList(query, tenants, opts.tenantsMaxPageSize);
    const t = byId.get(id);
    if (t) return { status: 200, body: t.json };
    return id === foreign.id ? forbidden() : notFound();
  }

  function tenantRoute(listener: Listener, req: IncomingMessage, route: string, id: string | undefined, query: Record<string, string>): Reply {
    const header = req.headers['x-tenant-id'];
    if (typeof header !== 'string' || header === '') return notAuthorized();
    if (header === foreign.id) return forbidden();
    const tenant = byId.get(header);
    if (!tenant) return notAuthorized();
    // A tenant credential reaches only its own tenant.
    if (idType === 'tenant' && tenant.id !== callerId) return forbidden();
    // Each region host holds only its own tenants' data. Asked about a tenant of another region, the
    // host can tell from the token that the caller may see the tenant but cannot serve it, so it denies
    // access (403) rather than pretending the tenant does not exist. The docs do not say what the real
    // service answers here; 403 is this emulator's choice (README), and the client never relies on it.
    const region = listener === 'trap' ? tenant.apiHost === trapUrl : listener === `region:${tenant.dataRegion}` && tenant.apiHost !== trapUrl;
    if (!region) return forbidden();
    if (limiter) {
      const wait = limiter.check(tenant.id);
      if (wait !== undefined) return tooMany(opts.rateLimitPerTenant!.retryAfter === false ? undefined : wait);
    }
    switch (route) {
      case 'endpoints': return endpointList(ctx, tenant, query);
      case 'endpoint': return endpointGet(ctx, tenant, id!, query);
      case 'endpoint-delete': return endpointDelete(ctx, tenant, id!);
      case 'alerts': return alertList(ctx, tenant, query);
      case 'siem-events': return siemList(ctx, tenant, query, 'events');
      case 'siem-alerts': return siemList(ctx, tenant, query, 'alerts');
      default: return notFound();
    }
  }

  /** `reply` with a Retry-After header when given seconds (429 and 503 send one only when set up so). */
  function withRetryAfter(reply: Reply, seconds: number | undefined): Reply {
    return seconds === undefined ? reply : { ...reply, headers: { 'retry-after': String(seconds) } };
  }

  /** 429; with Retry-After, the message documented with the header. */
  function tooMany(seconds: number | undefined): Reply {
    const message = seconds === undefined ? 'Too many requests.' : 'Too many requests. See Retry-After header.';
    return withRetryAfter(apiError(429, 'tooManyRequests', message), seconds);
  }

  function faultReply(rule: FaultRule): Reply {
    const reply = currentFaultReply(rule);
    if (rule.body === 'empty') return { ...reply, body: '' };
    if (rule.body !== 'legacy') return reply;
    // COMM-ERR shows this shape for 401 and 403 (403 with createdAt), `error` the reason phrase.
    const error = STATUS_CODES[rule.kind as number]!;
    const legacy = { error, correlationId: randomUUID(), requestId: randomUUID(), ...(rule.kind === 403 ? { createdAt: new Date(clock.now()).toISOString() } : {}) };
    return { ...reply, body: JSON.stringify(legacy) };
  }

  function currentFaultReply(rule: FaultRule): Reply {
    switch (rule.kind) {
      // The body a tenant outside the caller's reach gets (partner assistance off, trial ended: COMM-ERR).
      // A refusal of the request itself, for a reason the emulator does not otherwise produce.
      case 400: return badRequest('Injected fault.');
      case 403: return forbidden();
      case 429: return tooMany(rule.retryAfterSeconds);
      case 500: return apiError(500, 'internalServerError', 'Internal Server Error.');
      case 502: return apiError(502, 'badGateway', 'Bad Gateway.');
      case 503: return withRetryAfter(apiError(503, 'serviceUnavailable', 'Service Unavailable.'), rule.retryAfterSeconds);
      default: return apiError(504, 'gatewayTimeout', 'Gateway Timeout.');
    }
  }

  function send(res: ServerResponse, rec: RequestRecord | undefined, reply: Reply, truncate = false): void {
    const body = Buffer.from(reply.body, 'utf8');
    if (rec) rec.status = reply.status;
    // Date by the emulator's clock, not the wall clock Node would use: clients read Sophos's time from it.
    const date = new Date(clock.now()).toUTCString();
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': String(body.length), date, ...reply.headers });
    if (truncate) {
      // Full Content-Length, half the body, then the connection closes.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  async function handle(listener: Listener, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const { route, id } = routeOf(listener, method, url.pathname);
    const query: Record<string, string> = {};
    const logged: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      query[k] = v;
      logged[k] = SECRET_QUERY_KEYS.has(k) ? '<redacted>' : v;
    }
    const tenantHeader = req.headers['x-tenant-id'];
    const tenantId = typeof tenantHeader === 'string' ? tenantHeader : route.endsWith('-tenant') ? id : undefined;
    const rec: RequestRecord = {
      listener, method, path: url.pathname, query: logged, headers: redactHeaders(req),
      hasToken: req.headers.authorization !== undefined, status: 0, route,
    };
    if (tenantId !== undefined) rec.tenantId = tenantId;
    requests.push(rec);
    const body = route === 'token' ? await readBody(req) : (req.resume(), '');
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));

    const fault = faults.decide(route, tenantId);
    let truncate = false;
    if (fault) {
      switch (fault.kind) {
        case 'drop':
          req.socket.destroy();
          return;
        case 'stall': {
          const socket = req.socket;
          stalled.add(socket);
          socket.once('close', () => stalled.delete(socket));
          return;
        }
        case 'truncate':
          truncate = true;
          break;
        case 'expire-token': {
          const t = tokens.get(bearer(req) ?? '');
          if (t) t.revoked = true;
          break;
        }
        default:
          send(res, rec, faultReply(fault));
          return;
      }
    }

    let reply: Reply;
    if (listener === 'auth') {
      reply = route === 'token' ? tokenRoute(req, body) : oauthError(404, 'notFound', 'Not Found');
    } else {
      const token = bearer(req);
      if (token === undefined || !tokenValid(token)) reply = notAuthorized();
      else if (listener === 'global') reply = globalRoute(req, route, id, query);
      else if (route === 'unknown') reply = notFound();
      else reply = tenantRoute(listener, req, route, id, query);
    }
    send(res, rec, reply, truncate);
  }

  function tenantOf(tenantId: string): TenantRecord {
    const t = byId.get(tenantId);
    if (!t) throw new Error(`emulator: unknown tenant ${tenantId}`);
    return t;
  }

  return {
    authUrl: `http://127.0.0.1:${authPort}`,
    apiUrl,
    regionUrls,
    clientId,
    get clientSecret() {
      return clientSecret;
    },
    rotateSecret() {
      clientSecret = randomBytes(24).toString('base64url');
      return clientSecret;
    },
    idType,
    tenants: tenants.map((t) => ({ id: t.id, name: t.name, dataRegion: t.dataRegion, apiHost: t.apiHost })),
    foreignTenantId: foreign.id,
    ...(trapUrl ? { trapUrl } : {}),
    clock,
    requests,
    faults: { add: (rule) => faults.add(rule), clear: () => faults.clear() },
    addAlerts(tenantId, count, o = {}) {
      const tenant = tenantOf(tenantId);
      const series = state(tenant).alerts;
      const out: Item[] = [];
      for (let n = 0; n < count; n++) {
        const raisedAt = o.raisedAt ?? clock.now();
        const i = series.added.length;
        const json = gen.renderAlert(tenant, 1, i, raisedAt, false);
        series.add({ t: raisedAt, json, siem: gen.renderAlert(tenant, 1, i, raisedAt, true) });
        out.push(JSON.parse(json) as Item);
      }
      return out;
    },
    addEvents(tenantId, count, o = {}) {
      const tenant = tenantOf(tenantId);
      const series = state(tenant).events;
      const out: Item[] = [];
      for (let n = 0; n < count; n++) {
        // New events are ingested now, after everything already stored: created_at never goes backwards.
        const last = series.added[series.added.length - 1]?.t ?? -Infinity;
        const createdAt = Math.max(clock.now(), last);
        const i = series.added.length;
        const json = gen.renderEvent(tenant, 1, i, createdAt, o.when);
        series.add({ t: createdAt, json, type: gen.eventType(tenant, 1, i) });
        out.push(JSON.parse(json) as Item);
      }
      return out;
    },
    setEndpointLastSeen(tenantId, endpointId, lastSeenAt) {
      const tenant = tenantOf(tenantId);
      const p = gen.parseEndpointId(endpointId);
      if (!p || p.t !== tenant.index) throw new Error(`emulator: tenant ${tenantId} has no endpoint ${endpointId}`);
      state(tenant).lastSeen.set(p.j, lastSeenAt);
    },
    expireTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    removeTenant(tenantId) {
      const i = tenants.indexOf(tenantOf(tenantId));
      if (i >= 0) tenants.splice(i, 1);
    },
    async stop() {
      for (const s of stalled) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeAllConnections();
      })));
    },
  };
}
