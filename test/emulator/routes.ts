// The tenant-level and tenant-list API handlers: query parsing, filters and paging. They return a
// Reply and never touch sockets, so the listeners can apply faults around them.
import { randomUUID } from 'node:crypto';
import type { EndpointFacts, Generator, Health, TenantRecord } from './data.js';
import { HEALTH_VALUES } from './data.js';
import { type Pos, Series } from './series.js';
import { DAY, HOUR, iso, parseDateTime, parseTimeOrDuration } from './time.js';

export interface Reply {
  status: number;
  /** JSON text. */
  body: string;
  headers?: Record<string, string>;
}

/** The Central API error body (sophos-central-api.md §7, fixture error-404-notfound.json). */
export function apiError(status: number, error: string, message: string): Reply {
  return { status, body: JSON.stringify({ error, message, correlationId: randomUUID(), requestId: randomUUID() }) };
}

export const badRequest = (detail: string): Reply => apiError(400, 'badRequest', `Bad request. ${detail}`);
export const notAuthorized = (): Reply => apiError(401, 'notAuthorized', 'Not authorized.');
export const forbidden = (): Reply => apiError(403, 'forbidden', 'Forbidden.');
export const notFound = (): Reply => apiError(404, 'notFound', 'Resource not found.');

const ok = (body: string): Reply => ({ status: 200, body });

export const ENDPOINTS_MAX_PAGE = 500;
export const TENANTS_MAX_PAGE = 100;
export const SIEM_MAX_LIMIT = 1000;
const SIEM_DEFAULT_LIMIT = 200;
const DEFAULT_PAGE = 50;
/** Sophos Central keeps alerts 90 days and SIEM data 24 hours (sophos-central-api.md §5, §6). */
const ALERT_RETENTION = 90 * DAY;
const SIEM_RETENTION = 24 * HOUR;
/** A SIEM page that skips excluded types stops after this many items, so one request stays bounded. */
const SIEM_SCAN_LIMIT = 100_000;

export interface TenantState {
  deleted: Set<number>;
  lastSeen: Map<number, number>;
  alerts: Series;
  events: Series;
}

export interface ApiContext {
  gen: Generator;
  now(): number;
  alertsMaxPageSize: number;
  /** EmulatorOptions.alertsOrder. */
  alertsOrder: 'as-asked' | 'newest-first';
  state(tenant: TenantRecord): TenantState;
  /** What a SIEM `from_date` older than 24 hours gets (EmulatorOptions.siemStaleFromDate). */
  siemStaleFromDate: 'clamp' | 'reject';
}

type Query = Record<string, string>;

/** A positive integer parameter: undefined when absent, a Reply when invalid. */
function intParam(q: Query, name: string, max: number): number | Reply | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) return badRequest(`'${name}' must be a positive integer.`);
  if (Number(v) > max) return badRequest(`'${name}' must be at most ${max}.`);
  return Number(v);
}

const isReply = (x: unknown): x is Reply => typeof x === 'object' && x !== null && 'status' in x;

function list(v: string | undefined): string[] {
  return v === undefined ? [] : v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

// ---- tenant lists (page-number paging) ----

export function tenantList(q: Query, tenants: TenantRecord[], maxSize = TENANTS_MAX_PAGE): Reply {
  const page = intParam(q, 'page', Number.MAX_SAFE_INTEGER);
  if (isReply(page)) return page;
  const size = intParam(q, 'pageSize', maxSize);
  if (isReply(size)) return size;
  const current = page ?? 1;
  const pageSize = size ?? Math.min(DEFAULT_PAGE, maxSize);
  const items = tenants.slice((current - 1) * pageSize, current * pageSize).map((t) => t.json);
  // total and items only when asked for (pageTotal=true), as the Postman collection describes.
  const pages = q.pageTotal === 'true'
    ? { current, size: pageSize, total: Math.ceil(tenants.length / pageSize), items: tenants.length, maxSize }
    : { current, size: pageSize, maxSize };
  return ok(`{"items":[${items.join(',')}],"pages":${JSON.stringify(pages)}}`);
}

// ---- endpoints (key paging) ----

const VIEWS = new Set(['basic', 'summary', 'full']);
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Endpoint page keys are opaque base64 (the real format is unknown), so clients must URL-encode them. */
function endpointKey(j: number): string {
  return Buffer.from(`EP_KEY|${j}|`).toString('base64');
}

function parseEndpointKey(key: string): number | undefined {
  const m = /^EP_KEY\|(\d+)\|$/.exec(Buffer.from(key, 'base64').toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** A partial response: only the listed fields (dotted paths reach into objects). */
function pickFields(json: string, fields: string[]): string {
  const src = JSON.parse(json) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const path of fields) {
    const parts = path.split('.');
    let from: unknown = src;
    for (const p of parts) from = typeof from === 'object' && from !== null ? (from as Record<string, unknown>)[p] : undefined;
    if (from === undefined) continue;
    let to = out;
    for (const p of parts.slice(0, -1)) to = (to[p] ??= {}) as Record<string, unknown>;
    to[parts[parts.length - 1]!] = from;
  }
  return JSON.stringify(out);
}

function renderEndpointView(ctx: ApiContext, tenant: TenantRecord, f: EndpointFacts, view: string, fields: string[]): string {
  if (fields.length > 0) return pickFields(ctx.gen.renderEndpoint(tenant, f, true, ctx.now()), fields);
  if (view === 'basic') return `{"id":"${f.id}","type":"${f.type}","tenant":{"id":"${tenant.id}"},"hostname":"${f.hostname}"}`;
  return ctx.gen.renderEndpoint(tenant, f, view === 'full', ctx.now());
}

export function endpointList(ctx: ApiContext, tenant: TenantRecord, q: Query): Reply {
  const size = intParam(q, 'pageSize', ENDPOINTS_MAX_PAGE);
  if (isReply(size)) return size;
  const pageSize = size ?? DEFAULT_PAGE;
  const view = q.view ?? 'summary';
  if (!VIEWS.has(view)) return badRequest(`'view' must be one of basic, summary, full.`);
  let start = 0;
  if (q.pageFromKey !== undefined) {
    const j = parseEndpointKey(q.pageFromKey);
    if (j === undefined) return badRequest(`'pageFromKey' is not a valid page key.`);
    start = j;
  }
  const health = list(q.healthStatus);
  if (health.some((h) => !HEALTH_VALUES.includes(h as Health))) return badRequest(`'healthStatus' values must be among ${HEALTH_VALUES.join(', ')}.`);
  const now = ctx.now();
  let before: number | undefined;
  let after: number | undefined;
  if (q.lastSeenBefore !== undefined && (before = parseTimeOrDuration(q.lastSeenBefore, now)) === undefined) {
    return badRequest(`'lastSeenBefore' must be a date-time or an ISO-8601 duration such as -P90D.`);
  }
  if (q.lastSeenAfter !== undefined && (after = parseTimeOrDuration(q.lastSeenAfter, now)) === undefined) {
    return badRequest(`'lastSeenAfter' must be a date-time or an ISO-8601 duration such as -P90D.`);
  }
  const idList = list(q.ids);
  if (idList.some((id) => !UUID.test(id))) return badRequest(`'ids' must be a comma-separated list of UUIDs.`);
  const fields = list(q.fields);

  const st = ctx.state(tenant);
  // With ids, only those endpoints are candidates; otherwise every index of the tenant.
  const candidates = idList.length > 0
    ? [...new Set(idList.map((id) => ctx.gen.parseEndpointId(id.toLowerCase())).filter((p) => p?.t === tenant.index).map((p) => p!.j))].sort((a, b) => a - b)
    : undefined;
  const healthSet = health.length > 0 ? new Set(health) : undefined;
  const matches = (j: number): EndpointFacts | undefined => {
    if (st.deleted.has(j)) return undefined;
    const f = ctx.gen.endpointFacts(tenant, j, st.lastSeen.get(j));
    if (healthSet && !healthSet.has(f.health)) return undefined;
    if (before !== undefined && !(f.lastSeenAt < before)) return undefined; // exclusive
    if (after !== undefined && !(f.lastSeenAt >= after)) return undefined; // inclusive
    return f;
  };
  const total = candidates ? candidates.length : ctx.gen.endpoints;
  const indexAt = (n: number): number => (candidates ? candidates[n]! : n);
  let n = candidates ? candidates.findIndex((j) => j >= start) : start;
  if (n < 0) n = total;

  const items: string[] = [];
  let nextKey: string | undefined;
  for (; n < total; n++) {
    const j = indexAt(n);
    const f = matches(j);
    if (!f) continue;
    if (items.length === pageSize) {
      nextKey = endpointKey(j);
      break;
    }
    items.push(renderEndpointView(ctx, tenant, f, view, fields));
  }
  const pages: Record<string, unknown> = {};
  if (q.pageFromKey !== undefined) pages.fromKey = q.pageFromKey;
  if (nextKey !== undefined) pages.nextKey = nextKey;
  pages.size = pageSize;
  if (q.pageTotal === 'true') {
    let count = 0;
    for (let m = 0; m < total; m++) if (matches(indexAt(m))) count++;
    pages.total = Math.ceil(count / pageSize);
    pages.items = count;
  }
  pages.maxSize = ENDPOINTS_MAX_PAGE;
  return ok(`{"items":[${items.join(',')}],"pages":${JSON.stringify(pages)}}`);
}

function findEndpoint(ctx: ApiContext, tenant: TenantRecord, id: string): number | undefined {
  const p = ctx.gen.parseEndpointId(id.toLowerCase());
  if (!p || p.t !== tenant.index || ctx.state(tenant).deleted.has(p.j)) return undefined;
  return p.j;
}

export function endpointGet(ctx: ApiContext, tenant: TenantRecord, id: string, q: Query): Reply {
  const j = findEndpoint(ctx, tenant, id);
  if (j === undefined) return notFound();
  const view = q.view ?? 'summary';
  if (!VIEWS.has(view)) return badRequest(`'view' must be one of basic, summary, full.`);
  const f = ctx.gen.endpointFacts(tenant, j, ctx.state(tenant).lastSeen.get(j));
  return ok(renderEndpointView(ctx, tenant, f, view, list(q.fields)));
}

export function endpointDelete(ctx: ApiContext, tenant: TenantRecord, id: string): Reply {
  const j = findEndpoint(ctx, tenant, id);
  if (j === undefined) return notFound();
  ctx.state(tenant).deleted.add(j);
  return ok('{"deleted":true}');
}

// ---- Common alerts (key paging over raisedAt) ----

/** Alert keys are numeric strings like the real ones ("2000432653939"): 13-digit time, source, index. */
function alertKey(p: Pos): string {
  return `${String(p.t).padStart(13, '0')}${p.s}${p.i}`;
}

function parseAlertKey(key: string): Pos | undefined {
  const m = /^(\d{13})([01])(\d{1,9})$/.exec(key);
  return m ? { t: Number(m[1]), s: Number(m[2]), i: Number(m[3]) } : undefined;
}

export function alertList(ctx: ApiContext, tenant: TenantRecord, q: Query): Reply {
  const size = intParam(q, 'pageSize', ctx.alertsMaxPageSize);
  if (isReply(size)) return size;
  const pageSize = size ?? DEFAULT_PAGE;
  let from: number | undefined;
  let to: number | undefined;
  if (q.from !== undefined && (from = parseDateTime(q.from)) === undefined) return badRequest(`'from' must be an ISO-8601 date-time.`);
  if (q.to !== undefined && (to = parseDateTime(q.to)) === undefined) return badRequest(`'to' must be an ISO-8601 date-time.`);
  // The default order is not documented; newest first follows the Postman example (raisedAt:desc),
  // so a client that forgets sort=raisedAt:asc notices.
  const sort = q.sort ?? 'raisedAt:desc';
  if (sort !== 'raisedAt:asc' && sort !== 'raisedAt:desc' && sort !== 'raisedAt') return badRequest(`'sort' must be raisedAt:asc or raisedAt:desc.`);
  const asc = sort !== 'raisedAt:desc' && ctx.alertsOrder === 'as-asked';
  let key: Pos | undefined;
  if (q.pageFromKey !== undefined && (key = parseAlertKey(q.pageFromKey)) === undefined) return badRequest(`'pageFromKey' is not a valid page key.`);

  const now = ctx.now();
  const lower = Math.max(from ?? -Infinity, now - ALERT_RETENTION);
  const upper = Math.min(to ?? Infinity, now + 1); // exclusive; nothing raised after the emulator's now is visible
  const series = ctx.state(tenant).alerts;
  const items: string[] = [];
  let next: Pos | undefined;
  const visit = (p: Pos, added: { json: string } | undefined): boolean => {
    if (p.t < lower || p.t >= upper) return false;
    if (items.length === pageSize) {
      next = p;
      return false;
    }
    items.push(added ? added.json : ctx.gen.renderAlert(tenant, 0, p.i, p.t, false));
    return true;
  };
  if (asc) {
    const start = { t: Math.max(lower, -8e15), s: 0, i: 0 };
    series.ascending(key && key.t >= start.t ? key : start, visit);
  } else {
    const start = { t: Math.min(upper, 8e15) - 1, s: 1, i: Number.MAX_SAFE_INTEGER };
    series.descending(key && key.t <= start.t ? key : start, visit);
  }
  const pages: Record<string, unknown> = {};
  if (q.pageFromKey !== undefined) pages.fromKey = q.pageFromKey;
  if (next) pages.nextKey = alertKey(next);
  pages.size = pageSize;
  pages.maxSize = ctx.alertsMaxPageSize;
  return ok(`{"items":[${items.join(',')}],"pages":${JSON.stringify(pages)}}`);
}

// ---- SIEM (cursor paging over created_at, 24 h retention) ----

/** Same format as the cursors in Sophos's SIEM script tests (base64 of "V2_CURSOR|<ISO time>"), plus the exact position. */
export function siemCursor(p: Pos): string {
  return Buffer.from(`V2_CURSOR|${iso(p.t)}|${p.s}|${p.i}`).toString('base64');
}

/** A cursor of this emulator, or one in the documented form alone (`V2_CURSOR|<ISO time>`), which resumes at that time. */
export function parseSiemCursor(cursor: string): Pos | undefined {
  const m = /^V2_CURSOR\|([^|]+)(?:\|([01])\|(\d{1,9}))?$/.exec(Buffer.from(cursor, 'base64').toString('latin1'));
  const t = m ? parseDateTime(m[1]!) : undefined;
  if (!m || t === undefined) return undefined;
  return m[2] === undefined ? { t, s: 0, i: 0 } : { t, s: Number(m[2]), i: Number(m[3]) };
}

export function siemList(ctx: ApiContext, tenant: TenantRecord, q: Query, kind: 'events' | 'alerts'): Reply {
  // limit: "default is 200, max is 1000". Over the maximum is rejected rather than clamped, like every
  // other over-cap page size here, so that a client exceeding a documented limit is caught in tests.
  const limit = intParam(q, 'limit', SIEM_MAX_LIMIT);
  if (isReply(limit)) return limit;
  const max = limit ?? SIEM_DEFAULT_LIMIT;
  const now = ctx.now();
  const oldest = now - SIEM_RETENTION;
  let start: Pos;
  if (q.cursor !== undefined) {
    const c = parseSiemCursor(q.cursor);
    if (!c) return badRequest(`'cursor' is not a valid cursor.`);
    start = c;
  } else if (q.from_date !== undefined) {
    if (!/^\d{1,12}$/.test(q.from_date)) return badRequest(`'from_date' must be a Unix timestamp in seconds.`);
    start = { t: Number(q.from_date) * 1000, s: 0, i: 0 };
    // A from_date ahead of the clock is not "within last 24 hours" either; answered, it would hand out a
    // cursor past events still to come, so a client that sent one would lose them without an error.
    if (start.t > now || (start.t < oldest && ctx.siemStaleFromDate === 'reject')) return badRequest(`'from_date' must be within last 24 hours.`);
  } else {
    start = { t: oldest, s: 0, i: 0 };
  }
  // "Response will default to last 24 hours if cursor is not within last 24 hours": a cursor or
  // from_date that is too old resumes at now-24h rather than failing, so a collector sees a gap.
  if (start.t < oldest) start = { t: oldest, s: 0, i: 0 };
  const excluded = new Set(kind === 'events' ? list(q.exclude_types) : []);
  const st = ctx.state(tenant);
  const series = kind === 'events' ? st.events : st.alerts;
  const items: string[] = [];
  let cursor = start;
  let hasMore = false;
  let scanned = 0;
  series.ascending(start, (p, added) => {
    if (p.t > now) return false;
    if (items.length === max || scanned === SIEM_SCAN_LIMIT) {
      hasMore = true;
      return false;
    }
    scanned++;
    cursor = { t: p.t, s: p.s, i: p.i + 1 };
    if (kind === 'alerts') {
      items.push(added ? added.siem! : ctx.gen.renderAlert(tenant, 0, p.i, p.t, true));
    } else if (excluded.size === 0 || !excluded.has(added ? added.type! : ctx.gen.eventType(tenant, 0, p.i))) {
      items.push(added ? added.json : ctx.gen.renderEvent(tenant, 0, p.i, p.t));
    }
    return true;
  });
  return ok(`{"items":[${items.join(',')}],"has_more":${hasMore},"next_cursor":"${siemCursor(cursor)}"}`);
}

export function newTenantState(gen: Generator, tenant: TenantRecord): TenantState {
  return {
    deleted: new Set(),
    lastSeen: new Map(),
    alerts: new Series(gen.alerts, (k) => gen.alertTime(tenant.index, k)),
    events: new Series(gen.events, (k) => gen.eventTime(tenant.index, k)),
  };
}
