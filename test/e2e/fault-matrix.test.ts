// A reduced fault matrix for the modular input, run through the wrapper under the splunkd stand-in: each
// fault kind of the emulator, each route a run uses (token, whoami, tenant lists, data), the first, a middle
// and the last page, a fault that outlasts the retries, a tenant list broken off on its second page, tenant
// and organization credentials, and the per-tenant rate limit. modinput.test.ts covers faults on middle
// alert and SIEM pages; this covers the rest. Every run is checked for what it emitted against its health
// records and the requests the emulator saw; across runs, nothing is lost.
import { describe, expect, it } from 'vitest';
import type { TenantDataType } from '../../src/collect/collector.js';
import type { EmulatorOptions, FaultRule, RequestRecord } from '../emulator/index.js';
import { alertTruth, eventTruth, pageCount } from './truth.js';
import { checkpointText, health, REGIONS, SOURCETYPE, startWorld, tenantOf, type Collected, type DataType, type World } from './world.js';

const MIN = 60_000;

type Fault = Pick<FaultRule, 'kind' | 'retryAfterSeconds' | 'body'>;
/**
 * first / middle / last: one request, at that page, then retried; persistent: every request of one run
 * (the target tenant's, on a data route), after a clean run saved the checkpoints; list-page: every attempt
 * at the second page of the tenant list; rate-limit: no fault, the world's per-tenant limit.
 */
type Position = 'first' | 'middle' | 'last' | 'persistent' | 'list-page' | 'rate-limit';
/** What the faulted run reports: all ok, the run failing or broken off with `code`, or the target tenant failing with `code`. */
type Outcome = 'ok' | { run: 'error' | 'partial'; code: string } | { tenant: string };

interface Combo {
  data: DataType;
  route: string;
  at: Position;
  fault?: Fault;
  expect: Outcome;
}

// Small pages, so that a tenant has first, middle and last pages (SIEM pages are 200 at least).
const PAGE_SIZE: Record<DataType, number> = { alerts: 5, events: 200, endpoints: 5, tenants: 1 };
const DATA_ROUTES = new Set(['alerts', 'siem-events', 'endpoints']);
const SMALL = { regions: REGIONS, tenants: 3, alertsPerTenant: 36, eventsPerTenant: 250, endpointsPerTenant: 12, clockMode: 'wall' as const };
const START_DAYS = 30;
// A 1.5 s client timeout, so that a stalled request is retried within the test.
const ENV = { TA_SOPHOS_CENTRAL_HTTP_TIMEOUT_MS: '1500' };

// One world per group, its combinations one after the other (faults and request counts are per emulator), on
// fresh stanzas; the groups run side by side, five at a time (vitest's maxConcurrency), the longest first.
// Retry-After 0 keeps most faults that outlast six attempts quick; a truncated answer has the full backoff.
const GROUPS: Array<{ name: string; world: EmulatorOptions; combos: Combo[] }> = [
  {
    // whoami names the one tenant and its region; there is no tenant list.
    name: 'tenant credential',
    world: { ...SMALL, seed: 'matrix-tenant', idType: 'tenant' },
    combos: [
      { data: 'events', route: 'siem-events', at: 'persistent', fault: { kind: 'truncate' }, expect: { tenant: 'TA_ERR_NETWORK' } },
      { data: 'alerts', route: 'whoami', at: 'persistent', fault: { kind: 503, retryAfterSeconds: 0, body: 'empty' }, expect: { run: 'error', code: 'TA_ERR_SERVER' } },
      { data: 'events', route: 'siem-events', at: 'first', fault: { kind: 'expire-token' }, expect: 'ok' },
      { data: 'endpoints', route: 'endpoints', at: 'middle', fault: { kind: 'drop' }, expect: 'ok' },
    ],
  },
  {
    name: 'partner, events',
    world: { ...SMALL, seed: 'matrix-events' },
    combos: [
      { data: 'events', route: 'token', at: 'persistent', fault: { kind: 403 }, expect: { run: 'error', code: 'TA_ERR_BAD_CREDENTIALS' } },
      { data: 'events', route: 'siem-events', at: 'last', fault: { kind: 'stall' }, expect: 'ok' },
      { data: 'events', route: 'partner-tenants', at: 'persistent', fault: { kind: 503, retryAfterSeconds: 0, body: 'legacy' }, expect: { run: 'error', code: 'TA_ERR_SERVER' } },
    ],
  },
  {
    name: 'partner, alerts',
    world: { ...SMALL, seed: 'matrix-alerts' },
    combos: [
      { data: 'alerts', route: 'token', at: 'first', fault: { kind: 'drop' }, expect: 'ok' },
      { data: 'alerts', route: 'alerts', at: 'first', fault: { kind: 'truncate' }, expect: 'ok' },
      { data: 'alerts', route: 'alerts', at: 'last', fault: { kind: 500 }, expect: 'ok' },
      { data: 'alerts', route: 'alerts', at: 'persistent', fault: { kind: 403, body: 'empty' }, expect: { tenant: 'TA_ERR_FORBIDDEN' } },
    ],
  },
  {
    // Without Retry-After the client backs off for seconds: one data type only.
    name: 'rate limit of one request in 2 seconds per tenant, without Retry-After',
    world: { ...SMALL, seed: 'matrix-rl-nora', rateLimitPerTenant: { requests: 1, perMs: 2000, retryAfter: false } },
    combos: [{ data: 'events', route: 'siem-events', at: 'rate-limit', expect: 'ok' }],
  },
  {
    name: 'partner, endpoints',
    world: { ...SMALL, seed: 'matrix-endpoints' },
    combos: [
      { data: 'endpoints', route: 'whoami', at: 'first', fault: { kind: 429, retryAfterSeconds: 1 }, expect: 'ok' },
      { data: 'endpoints', route: 'endpoints', at: 'first', fault: { kind: 503 }, expect: 'ok' },
      { data: 'endpoints', route: 'endpoints', at: 'last', fault: { kind: 'expire-token' }, expect: 'ok' },
      { data: 'endpoints', route: 'endpoints', at: 'persistent', fault: { kind: 429, retryAfterSeconds: 0, body: 'legacy' }, expect: { tenant: 'TA_ERR_RATE_LIMITED' } },
    ],
  },
  {
    name: 'partner, tenants (one tenant a list page)',
    world: { ...SMALL, seed: 'matrix-tenants' },
    combos: [
      { data: 'tenants', route: 'token', at: 'first', fault: { kind: 'stall' }, expect: 'ok' },
      { data: 'tenants', route: 'partner-tenants', at: 'middle', fault: { kind: 502 }, expect: 'ok' },
      { data: 'tenants', route: 'partner-tenants', at: 'last', fault: { kind: 'truncate' }, expect: 'ok' },
      { data: 'tenants', route: 'partner-tenants', at: 'list-page', fault: { kind: 429, retryAfterSeconds: 0 }, expect: { run: 'partial', code: 'TA_ERR_RATE_LIMITED' } },
    ],
  },
  {
    name: 'rate limit of one request in 2 seconds per tenant, with Retry-After',
    world: { ...SMALL, seed: 'matrix-rl', rateLimitPerTenant: { requests: 1, perMs: 2000 } },
    combos: [{ data: 'alerts', route: 'alerts', at: 'rate-limit', expect: 'ok' }],
  },
  {
    // 101 tenants: the list has a second page (100 a page).
    name: 'partner, 101 tenants',
    world: { ...SMALL, seed: 'matrix-big', tenants: 101, alertsPerTenant: 3 },
    combos: [{ data: 'alerts', route: 'partner-tenants', at: 'list-page', fault: { kind: 403 }, expect: { run: 'partial', code: 'TA_ERR_FORBIDDEN' } }],
  },
  {
    name: 'organization credential',
    world: { ...SMALL, seed: 'matrix-org', idType: 'organization' },
    combos: [
      { data: 'tenants', route: 'whoami', at: 'first', fault: { kind: 'expire-token' }, expect: 'ok' },
      { data: 'alerts', route: 'organization-tenants', at: 'first', fault: { kind: 504 }, expect: 'ok' },
      // Every list request revokes the token it came with.
      { data: 'endpoints', route: 'organization-tenants', at: 'persistent', fault: { kind: 'expire-token' }, expect: { run: 'error', code: 'TA_ERR_FORBIDDEN' } },
    ],
  },
];

function label(c: Combo): string {
  const f = c.fault;
  const kind = f ? `${f.kind}${f.retryAfterSeconds === undefined ? '' : ` Retry-After ${f.retryAfterSeconds}`}${f.body ? ` ${f.body} body` : ''}` : '429s';
  return `${c.data}: ${kind} on ${c.route}, ${c.at}`;
}

/** Item IDs per tenant: what a first run must collect (endpoints and tenants are checked per snapshot). */
async function truthOf(w: World, data: DataType): Promise<Map<string, string[]>> {
  if (data === 'alerts') return alertTruth(w.emu, START_DAYS);
  if (data === 'events') return eventTruth(w.emu);
  return new Map();
}

async function ruleFor(w: World, c: Combo): Promise<FaultRule | undefined> {
  if (!c.fault) return undefined;
  const target = w.emu.tenants[0]!.id;
  const onData = DATA_ROUTES.has(c.route);
  const base: FaultRule = { route: c.route, ...c.fault, ...(onData ? { tenantId: target } : {}) };
  switch (c.at) {
    case 'first': return { ...base, nth: [1] };
    case 'middle': return { ...base, nth: [2] };
    case 'last': {
      // The tenants data type lists one tenant a page, every page full: the list ends with the empty page after them.
      const last = onData ? await pageCount(w.emu, c.data as TenantDataType, target, PAGE_SIZE[c.data], START_DAYS) : w.emu.tenants.length + 1;
      return { ...base, nth: [last] };
    }
    case 'persistent': return { ...base, rate: 1 };
    // nth counts requests on the route: the second page, then its five retries.
    case 'list-page': return { ...base, nth: [2, 3, 4, 5, 6, 7] };
    case 'rate-limit': return undefined;
  }
}

/** The requests of one run that `rule` counts. */
function matching(rule: FaultRule, reqs: RequestRecord[]): RequestRecord[] {
  return reqs.filter((q) => q.route === rule.route && (rule.tenantId === undefined || q.tenantId === rule.tenantId));
}

/** The requests of one run that `rule` answered with its fault (it was added just before the run). */
function faulted(rule: FaultRule, reqs: RequestRecord[]): RequestRecord[] {
  const on = matching(rule, reqs);
  return rule.nth ? on.filter((_, i) => rule.nth!.includes(i + 1)) : on;
}

/** Where the fault landed, by the page asked for: a retry asks for the same page, the next page for another. */
function positionErrors(c: Combo, rule: FaultRule, reqs: RequestRecord[], hits: RequestRecord[]): string[] {
  if (hits.length === 0) return ['the fault never fired'];
  const on = matching(rule, reqs);
  const page = (q: RequestRecord) => JSON.stringify(q.query);
  const hit = page(hits[0]!);
  const after = on.slice(on.indexOf(hits[0]!) + 1);
  const firstPage = hit === page(on[0]!);
  if ((c.at === 'middle' || c.at === 'last' || c.at === 'list-page') && firstPage) return [`fault meant for a later page hit the first (${hit})`];
  if (c.at === 'middle' && after.every((q) => page(q) === hit)) return ['fault meant for a middle page hit the last'];
  if (c.at === 'last' && after.some((q) => page(q) !== hit)) return ['fault meant for the last page had pages after it'];
  return [];
}

interface Seen {
  id: string;
  tenant: string;
}

const idOf = (tenantRun: Record<string, unknown>) => (tenantRun.tenant as { id: string }).id;

/**
 * One run of `stanza`, checked on its own: exit code and status agree, stderr lines carry a severity and no
 * secret, the health records count what was emitted and what the emulator saw, and the outcome is `want`.
 */
async function checkedRun(
  w: World,
  c: Combo,
  stanza: string,
  params: Record<string, string> | undefined,
  want: Outcome,
  rule: FaultRule | undefined,
  bad: (msg: string) => void,
): Promise<{ tenantRuns: Array<Record<string, unknown>>; emitted: Collected[]; reqs: RequestRecord[] }> {
  const before = w.emu.requests.length;
  const r = await w.run(stanza, params);
  const reqs = w.emu.requests.slice(before);
  const emitted = r.records.filter((x) => x.sourcetype === SOURCETYPE[c.data]);
  const tenantRuns = health(r.records, 'tenant_run');
  const summaries = health(r.records, 'run_summary');
  if (summaries.length !== 1) {
    bad(`${summaries.length} run_summary records`);
    return { tenantRuns, emitted, reqs };
  }
  const s = summaries[0]!;
  if (r.exitCode !== (s.status === 'error' ? 1 : 0)) bad(`exit ${r.exitCode} with status ${String(s.status)}`);
  const unprefixed = r.stderr.filter((l) => !/^(DEBUG|INFO|WARN|ERROR) /.test(l));
  if (unprefixed.length) bad(`stderr lines without severity: ${JSON.stringify(unprefixed.slice(0, 3))}`);
  if ([r.stdout, ...r.stderr].some((l) => l.includes(w.emu.clientSecret))) bad('client secret in stdout or stderr');
  const errorLines = r.stderr.filter((l) => l.startsWith('ERROR'));
  if (s.status !== 'ok' && errorLines.length === 0) bad(`status ${String(s.status)} with no ERROR line`);
  if (s.status === 'ok' && errorLines.length > 0) bad(`status ok with ${errorLines[0]}`);

  // A busy machine can hold a request or its answer past the client's 1.5 s timeout: the emulator logged what
  // it sent (or never saw the request), the client saw a timeout. Each timeout may so stand for a request or
  // an error the emulator did not log, hide a 429, or end a fault that outlasts the retries in TA_ERR_TIMEOUT.
  // Truncated answers, logged as 200s, are errors too.
  const truncated = rule?.kind === 'truncate' ? new Set(faulted(rule, reqs)) : new Set<RequestRecord>();
  const timedOut = (rec: Record<string, unknown>) => String(rec.error ?? '').includes('did not answer within');
  const retriedTimeouts = (scope: string) => r.stderr.filter((l) => l.includes(`${scope}: timed out; retry`)).length;
  const countsAgree = (what: string, rec: Record<string, unknown>, seen: RequestRecord[], late: number) => {
    const limited = seen.filter((q) => q.status === 429).length;
    const failures = seen.filter((q) => q.status !== 200 || truncated.has(q)).length;
    const [requests, rateLimited, errors] = [rec.requests as number, rec.rate_limited as number, rec.errors as number];
    if (requests < seen.length || requests > seen.length + late) bad(`${what} requests=${requests}, the emulator saw ${seen.length}, the client timed out ${late} times`);
    if (rateLimited > limited || rateLimited < limited - late) bad(`${what} rate_limited=${rateLimited}, the emulator sent ${limited} 429s, the client timed out ${late} times`);
    if (errors < failures || errors > failures + late) bad(`${what} errors=${errors}, the emulator failed ${failures} of ${seen.length} requests, the client timed out ${late} times`);
  };
  const codeIs = (rec: Record<string, unknown> | undefined, code: string) => rec?.error_code === code || (rec?.error_code === 'TA_ERR_TIMEOUT' && timedOut(rec));
  countsAgree('run_summary', s, reqs, retriedTimeouts('') + [s, ...tenantRuns].filter(timedOut).length);
  if (s.events !== emitted.length) bad(`run_summary events=${String(s.events)}, ${emitted.length} emitted`);

  const ok = tenantRuns.filter((t) => t.status === 'ok');
  const failed = tenantRuns.filter((t) => t.status === 'error');
  if (c.data === 'tenants') {
    const status = s.error_code === undefined ? 'ok' : emitted.length > 0 ? 'partial' : 'error';
    if (s.status !== status) bad(`status ${String(s.status)} with error_code ${String(s.error_code)} and ${emitted.length} tenants`);
    if (s.status === 'ok' && emitted.length !== w.emu.tenants.length) bad(`status ok with ${emitted.length} of ${w.emu.tenants.length} tenants`);
  } else {
    if (s.tenants !== tenantRuns.length || s.tenants_ok !== ok.length || s.tenants_failed !== failed.length) {
      bad(`run_summary tenants ${String(s.tenants)}/${String(s.tenants_ok)}/${String(s.tenants_failed)}, tenant_run ${tenantRuns.length}/${ok.length}/${failed.length}`);
    }
    const status = s.error_code !== undefined || failed.length > 0 ? (ok.length > 0 ? 'partial' : 'error') : 'ok';
    if (s.status !== status) bad(`status ${String(s.status)} with error_code ${String(s.error_code)}, ${ok.length} ok, ${failed.length} failed`);
    for (const t of tenantRuns) {
      const id = idOf(t);
      const mine = emitted.filter((x) => tenantOf(x) === id);
      if (t.events !== mine.length) bad(`tenant_run ${id} events=${String(t.events)}, ${mine.length} emitted`);
      countsAgree(`tenant_run ${id}`, t, reqs.filter((q) => q.tenantId === id), retriedTimeouts(`(tenant ${id})`) + (timedOut(t) ? 1 : 0));
      if (t.status === 'ok' && t.retries !== t.errors) bad(`tenant_run ${id} ok with retries=${String(t.retries)}, errors=${String(t.errors)}`);
      if (t.status === 'error' && (typeof t.error_code !== 'string' || typeof t.error !== 'string')) bad(`tenant_run ${id} error without error_code and error`);
      if (c.data === 'endpoints') {
        const times = new Set(r.events.filter((e) => e.sourcetype === SOURCETYPE.endpoints && (JSON.parse(e.data) as { tenant: { id: string } }).tenant.id === id).map((e) => e.time));
        if (times.size > 1 || (times.size === 1 && !times.has(t.snapshot_time as number))) bad(`tenant ${id}: endpoint times ${[...times].join()} vs snapshot_time ${String(t.snapshot_time)}`);
        const ids = new Set(mine.map((x) => String(x.event.id)));
        if (t.status === 'ok' && (ids.size !== mine.length || ids.size !== SMALL.endpointsPerTenant)) bad(`tenant ${id} ok with ${mine.length} endpoints (${ids.size} distinct) of ${SMALL.endpointsPerTenant}`);
      }
    }
    const sum = tenantRuns.reduce((a, t) => a + (t.events as number), 0);
    if (sum !== emitted.length) bad(`tenant_run events sum to ${sum}, ${emitted.length} emitted`);
  }

  if (want === 'ok') {
    if (s.status !== 'ok') bad(`expected ok, got ${String(s.status)} ${String(s.error_code)} (tenants failing: ${failed.map((t) => String(t.error_code)).join()})`);
  } else if ('run' in want) {
    if (s.status !== want.run || !codeIs(s, want.code)) bad(`expected ${want.run} ${want.code}, got ${String(s.status)} ${String(s.error_code)}`);
  } else {
    const target = w.emu.tenants[0]!.id;
    const t = tenantRuns.find((x) => idOf(x) === target);
    if (t?.status !== 'error' || !codeIs(t, want.tenant)) bad(`expected tenant ${target} error ${want.tenant}, got ${String(t?.status)} ${String(t?.error_code)}`);
    if (failed.length !== 1) bad(`expected one tenant failing, got ${failed.length}`);
    const status = tenantRuns.length === 1 ? 'error' : 'partial';
    if (s.status !== status) bad(`expected status ${status}, got ${String(s.status)}`);
  }
  return { tenantRuns, emitted, reqs };
}

/** Runs one combination on a fresh stanza of `w`; returns what went wrong, each line naming the run. */
async function runCombo(w: World, c: Combo, stanza: string): Promise<string[]> {
  const problems: string[] = [];
  const target = w.emu.tenants[0]!.id;
  const resumes = c.data === 'alerts' || c.data === 'events';
  const truth = await truthOf(w, c.data);
  const want = new Set([...truth.values()].flat());
  if (resumes && want.size === 0) return ['the world has no items in the window'];
  const seen: Seen[] = [];
  /** Runs in which each tenant stopped short: each may repeat one page of that tenant next run. */
  const interrupted = new Map<string, number>();
  let params: Record<string, string> | undefined = w.params(c.data, { start_days: String(START_DAYS), page_size: String(PAGE_SIZE[c.data]) });

  const run = async (name: string, expected: Outcome, rule?: FaultRule) => {
    const res = await checkedRun(w, c, stanza, params, expected, rule, (msg) => problems.push(`${name} run: ${msg}`));
    params = undefined;
    for (const t of res.tenantRuns) if (t.status !== 'ok') interrupted.set(idOf(t), (interrupted.get(idOf(t)) ?? 0) + 1);
    seen.push(...res.emitted.map((x) => ({ id: String(x.event.id), tenant: tenantOf(x) })));
    return res;
  };
  // New items between runs: each run after the first has something to collect.
  const addItems = () => {
    const now = w.emu.clock.now();
    for (const t of w.emu.tenants) {
      if (c.data === 'alerts') for (const a of w.emu.addAlerts(t.id, 2, { raisedAt: now - 2 * MIN })) want.add(a.id);
      if (c.data === 'events') for (const e of w.emu.addEvents(t.id, 3)) want.add(e.id);
    }
  };
  const checkpoints = () => new Map(c.data === 'tenants' ? [] : w.emu.tenants.map((t) => [t.id, checkpointText(w, stanza, c.data as TenantDataType, t.id)]));

  const rule = await ruleFor(w, c);
  if (c.at === 'persistent') {
    await run('clean', 'ok');
    const saved = checkpoints();
    addItems();
    w.emu.faults.add(rule!);
    const res = await run('faulted', c.expect, rule);
    w.emu.faults.clear();
    if (faulted(rule!, res.reqs).length === 0) problems.push('faulted run: the fault never fired');
    // A failing tenant's checkpoint stays byte for byte while the others collect; a failing run moves none.
    const after = checkpoints();
    const failsAlone = typeof c.expect === 'object' && 'tenant' in c.expect;
    for (const [id, text] of saved) {
      if (text === undefined) problems.push(`clean run saved no checkpoint for ${id}`);
      const moved = after.get(id) !== text;
      if (moved && (!failsAlone || id === target)) problems.push(`faulted run moved the checkpoint of ${id}`);
      if (!moved && failsAlone && id !== target) problems.push(`faulted run collected ${id} but left its checkpoint`);
    }
    await run('recovery', 'ok');
  } else {
    if (rule) w.emu.faults.add(rule);
    const res = await run('faulted', c.expect, rule);
    w.emu.faults.clear();
    if (rule) problems.push(...positionErrors(c, rule, res.reqs, faulted(rule, res.reqs)).map((m) => `faulted run: ${m}`));
    if (c.at === 'rate-limit' && !res.reqs.some((q) => q.status === 429)) problems.push('faulted run: the rate limit never answered 429');
    if (c.at === 'list-page') {
      // Tenants past the break were not collected, so they have no checkpoint yet.
      const listed = new Set(res.tenantRuns.map(idOf));
      const unlisted = c.data === 'tenants' ? [] : [...checkpoints()].filter(([id]) => !listed.has(id));
      if (c.data !== 'tenants' && unlisted.length === 0) problems.push('faulted run: every tenant was collected despite the broken list');
      for (const [id, text] of unlisted) if (text !== undefined) problems.push(`faulted run: unlisted tenant ${id} has a checkpoint`);
    }
    // A second run finds what the faulted run's checkpoints left: only a fault on the data pages or on the
    // list can have left them wrong.
    if ((resumes && DATA_ROUTES.has(c.route)) || c.at === 'list-page') {
      addItems();
      await run('recovery', 'ok');
    }
  }

  if (resumes) {
    const have = new Set(seen.map((x) => x.id));
    const missing = [...want].filter((id) => !have.has(id));
    if (missing.length) problems.push(`${missing.length} of ${want.size} items never collected, e.g. ${missing[0]}`);
    const repeats = new Map<string, number>();
    const once = new Set<string>();
    for (const x of seen) {
      if (once.has(x.id)) repeats.set(x.tenant, (repeats.get(x.tenant) ?? 0) + 1);
      once.add(x.id);
    }
    for (const [tenant, n] of repeats) {
      const bound = (interrupted.get(tenant) ?? 0) * PAGE_SIZE[c.data];
      if (n > bound) problems.push(`tenant ${tenant}: ${n} items collected twice, at most ${bound} allowed`);
    }
  }
  return problems;
}

describe.concurrent('fault matrix: every fault kind and route, nothing lost, health records true', () => {
  for (const g of GROUPS) {
    it(`${g.name}: ${g.combos.length} combination${g.combos.length > 1 ? 's' : ''}`, async () => {
      // splunkd's side is not what this tests (the other end-to-end tests have it as startWorld makes it): plain
      // HTTP, since a certificate is two RSA keys made synchronously, stalling the emulators of the other groups,
      // and no validation of the masking edit, another process per stanza.
      const w = await startWorld(g.world, ENV, { https: false, validateOnEdit: false });
      try {
        const problems: string[] = [];
        for (const [i, c] of g.combos.entries()) problems.push(...(await runCombo(w, c, `m${i}`)).map((p) => `${label(c)}: ${p}`));
        expect(problems).toEqual([]);
      } finally {
        await w.stop();
      }
    }, 120_000);
  }
});
