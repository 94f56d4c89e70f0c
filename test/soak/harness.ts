// Randomized soak of the modular input (alerts or events) against the emulator, through the splunkd stand-in:
// many runs with new and late items, clock jumps, faults, 403 streaks, and kill -9 or SIGTERM at random
// moments, then a check that every owed item arrived once or is covered by a data_gap, that every duplicate
// follows a kill -9 (at most a page per kill and tenant; a run stopped by SIGTERM finishes or drops its page
// and leaves none), that a stopped run exits in time with its stream closed, and that the secret is nowhere.
// `npm run soak` runs it (see README). The seed drives every decision the harness takes (items, clock,
// faults, kills, page sizes); where a kill lands and which request a fault rate hits depend on timing, so a
// seed replays the plan, not every byte.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultRule } from '../emulator/index.js';
import type { KillPlan } from '../splunkd/index.js';
import { hash, seedHash, unit } from '../emulator/rng.js';
import { emulatorClient } from '../helpers/central.js';
import { filesUnder } from '../helpers/files.js';
import { checkpointText, health, SOURCETYPE, startWorld, tenantOf, type Collected, type World } from '../e2e/world.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A run stopped by SIGTERM exits within this: STOP_GRACE_MS (5 s) for a write in hand, and a loaded machine's margin. */
const SIGTERM_EXIT_MS = 10 * SEC;

/** The seed's stream of floats in [0, 1): the emulator's stateless hash, drawn in order. */
function randomStream(seed: number): () => number {
  const base = seedHash(`soak-plan-${seed}`);
  let n = 0;
  return () => unit(hash(base, n++));
}

export type SoakData = 'alerts' | 'events';

export interface SoakOptions {
  data: SoakData;
  seed: number;
  iterations: number;
  /** Stop iterating after this much wall time (ms), whatever `iterations` says. */
  wallBudgetMs?: number;
  /** Probabilities. */
  pKill?: number;
  /** Of a run not killed with kill -9: stopped with SIGTERM instead. */
  pTerm?: number;
  pFault?: number;
  p403?: number;
  log?: string;
  aggressive?: boolean;
  varied?: boolean;
}

export interface SoakReport {
  seed: number;
  data: SoakData;
  iterations: number;
  kills: number;
  terms: number;
  faultedRuns: number;
  runs403: number;
  catchUpRuns: number;
  items: { owed: number; collected: number; inGaps: number };
  dataGaps: number;
  duplicates: number;
  problems: string[];
}

const ROUTE = { alerts: 'alerts', events: 'siem-events' } as const;

interface Gap {
  tenant: string;
  start: number;
  end: number;
  run: number;
  reason: string;
  /** Reported by a run killed later: the next run may report it again (its save may not have happened). */
  killed: boolean;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const rnd = randomStream(o.seed);
  const r = (a: number, b: number) => a + rnd() * (b - a);
  const ri = (a: number, b: number) => Math.floor(r(a, b + 1));
  const chance = (p: number) => rnd() < p;
  const choose = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const { data } = o;
  // A replayed seed starts its log afresh.
  if (o.log) writeFileSync(o.log, '');
  const log = (line: unknown) => {
    if (o.log) appendFileSync(o.log, `${JSON.stringify(line)}\n`);
  };
  const tenantsN = ri(3, 4);
  const startDays = 30;
  const world = {
    siemStaleFromDate: choose(['reject', 'clamp'] as const),
    latencyMs: choose([0, 0, 5, 20]),
    ...(chance(0.3) ? { rateLimitPerTenant: { requests: 10, perMs: 1000, retryAfter: true } } : {}),
  };
  const concurrency = o.varied ? choose(['1', '2', '4']) : '4';
  const w: World = await startWorld(
    {
      seed: `soak-${o.seed}`,
      tenants: tenantsN,
      regions: ['eu01', 'us01'],
      alertsPerTenant: 2000,
      eventsPerTenant: 1500,
      endpointsPerTenant: 2,
      clockMode: 'wall',
      ...(o.varied ? world : {}),
    },
    { TA_SOPHOS_CENTRAL_HTTP_TIMEOUT_MS: '1500' },
    { https: false, validateOnEdit: false },
  );
  const emu = w.emu;
  const secret = emu.clientSecret;
  const name = `soak_${data}`;
  const problems: string[] = [];
  const problem = (s: string) => {
    problems.push(s);
    log({ problem: s });
  };
  const tenantIds = emu.tenants.map((t) => t.id);
  /** Emulator time at the start of the run that first left a checkpoint for the tenant. */
  const firstCkpt = new Map<string, number>();
  /** Every ID seen by the emulator (events: with created_at), by tenant. */
  const eventSnap = new Map<string, { tenant: string; t: number }>();
  const seen = new Map<string, number>(); // id -> count
  const idTenant = new Map<string, string>();
  const firstRun = new Map<string, number>();
  const debt = new Map<string, number>(tenantIds.map((t) => [t, 0]));
  const gaps: Gap[] = [];
  let kills = 0;
  let terms = 0;
  let faultedRuns = 0;
  let runs403 = 0;
  let dupTotal = 0;
  let pageSize = data === 'alerts' ? ri(50, 100) : ri(200, 300);
  let streak: { tenant: string; left: number } | undefined;
  let runNo = 0;
  let lastWall = 500;

  const api = (client: ReturnType<typeof emulatorClient>, id: string) => client.forTenant({ ...emu.tenants.find((t) => t.id === id)!, raw: {} });

  /** Every SIEM event the emulator serves now (the last 24 h), recorded with its created_at. */
  const snapshotEvents = async () => {
    if (data !== 'events') return;
    const client = emulatorClient(emu);
    try {
      for (const id of tenantIds) {
        for await (const page of api(client, id).siemEventPages({ limit: 1000 })) {
          for (const e of page.items) eventSnap.set(e.id, { tenant: id, t: Date.parse(e.created_at as string) });
        }
      }
    } finally {
      await client.close();
    }
  };

  const checkSecret = (where: string, text: string) => {
    if (text.includes(secret)) problem(`client secret found in ${where}`);
  };

  const runOnce = async (label: string, opts: { kill?: KillPlan; clean?: boolean }) => {
    runNo++;
    const startEmu = emu.clock.now();
    const hadCkpt = new Map(tenantIds.map((t) => [t, checkpointText(w, name, data, t) !== undefined]));
    const params = runNo === 1 ? w.params(data, { start_days: String(startDays), page_size: String(pageSize), interval: '300', index: 'sophos', tenant_concurrency: concurrency }) : undefined;
    if (runNo > 1) w.splunkd.stanzas.get(name)!.params.page_size = String(pageSize);
    let res: Awaited<ReturnType<World['run']>> | undefined;
    let hung = false;
    const t0 = Date.now();
    try {
      res = await w.run(name, params, { ...(opts.kill ? { kill: opts.kill } : {}), timeoutMs: 240_000 });
    } catch (err) {
      hung = true;
      problem(`run ${runNo} (${label}): ${String(err)}`);
    }
    const wall = Date.now() - t0;
    if (!opts.kill) lastWall = wall;
    // SIGTERM before Node has its handler (start-up) ends it as a kill would: nothing collected by then.
    const killed = hung || res?.signal === 'SIGKILL' || res?.signal === 'SIGTERM';
    if (killed && !hung) kills++;
    // Stopped by SIGTERM, its handler in place: counted apart from the kills.
    const termed = !killed && opts.kill?.signal === 'SIGTERM' && res?.signalledMs !== undefined;
    if (termed) terms++;
    const recs: Collected[] = res?.records ?? [];
    if (res?.signal === 'SIGTERM' && recs.length > 0) problem(`run ${runNo} (${label}): SIGTERM killed the process after it wrote ${recs.length} events: no handler`);
    if (res) {
      checkSecret(`stdout of run ${runNo}`, res.stdout);
      checkSecret(`stderr of run ${runNo}`, res.stderr.join('\n'));
    }
    const summaries = health(recs, 'run_summary');
    const tenantRuns = health(recs, 'tenant_run');
    const runGaps = health(recs, 'data_gap');
    // What the API had dropped by the end of this run at most, or a restart by from_date (a minute inside the 24
    // hours) could no longer ask for: a gap reaching later calls lost what it still serves.
    const droppedBy = emu.clock.now() - DAY + MIN + 2 * SEC;
    for (const g of runGaps) {
      const gap: Gap = { tenant: (g.tenant as { id: string }).id, start: Date.parse(g.gap_start as string), end: Date.parse(g.gap_end as string), run: runNo, reason: String(g.reason), killed };
      if (data === 'events' && gap.end > droppedBy) problem(`run ${runNo} (${label}): data_gap of tenant ${gap.tenant} ends at ${String(g.gap_end)}, after what the API had dropped (${new Date(droppedBy).toISOString()}): ${gap.reason}`);
      // Each span is reported once: a tenant's gaps never overlap.
      const overlapping = gaps.find((o) => !o.killed && o.tenant === gap.tenant && gap.start < o.end && o.start < gap.end);
      if (overlapping) problem(`run ${runNo} (${label}): data_gap of tenant ${gap.tenant} (${String(g.gap_start)} to ${String(g.gap_end)}) overlaps one of run ${overlapping.run}: ${gap.reason}`);
      gaps.push(gap);
    }
    for (const g of health(recs, 'checkpoint_reset')) problem(`run ${runNo} (${label}): checkpoint_reset ${JSON.stringify(g)}`);
    if (res && !killed) {
      // A run stopped before it collected (reading its secret, waiting for the lock) writes no run_summary.
      if (termed ? summaries.length > 1 : summaries.length !== 1) problem(`run ${runNo} (${label}): ${summaries.length} run_summary records, exit ${res.exitCode}, stderr ${JSON.stringify(res.stderr.slice(-5))}`);
      if (termed && res.exitedMs - res.signalledMs! > SIGTERM_EXIT_MS) problem(`run ${runNo} (${label}): exited ${Math.round(res.exitedMs - res.signalledMs!)} ms after SIGTERM`);
      if (res.truncated) problem(`run ${runNo} (${label}): stream cut off inside an event`);
      const unprefixed = res.stderr.filter((l) => !/^(DEBUG|INFO|WARN|ERROR) /.test(l));
      if (unprefixed.length) problem(`run ${runNo} (${label}): stderr lines without severity (crash?): ${JSON.stringify(unprefixed.slice(0, 5))}`);
      const s = summaries[0];
      if (res.exitCode !== (s?.status === 'error' ? 1 : 0)) problem(`run ${runNo} (${label}): exit ${res.exitCode} with status ${String(s?.status)}`);
      if (!res.stdout.trimEnd().endsWith('</stream>') && res.stdout !== '') problem(`run ${runNo} (${label}): stream not closed`);
      if (opts.clean && s?.status !== 'ok') problem(`run ${runNo} (${label}): clean run status ${String(s?.status)} ${String(s?.error_code)} ${String(s?.error ?? '')}`);
    }
    // Items and duplicates, per tenant.
    const dups = new Map<string, number>();
    let items = 0;
    for (const x of recs) {
      if (x.sourcetype !== SOURCETYPE[data]) continue;
      items++;
      const id = String(x.event.id);
      const t = tenantOf(x);
      idTenant.set(id, t);
      const n = seen.get(id) ?? 0;
      if (n > 0) dups.set(t, (dups.get(t) ?? 0) + 1);
      seen.set(id, n + 1);
      if (!firstRun.has(id)) firstRun.set(id, runNo);
    }
    const tenantStatus = new Map(tenantRuns.map((t) => [(t.tenant as { id: string }).id, t.status as string]));
    for (const t of tenantIds) {
      const d = dups.get(t) ?? 0;
      dupTotal += d;
      const owed = debt.get(t)!;
      if (d > owed) problem(`run ${runNo} (${label}${killed ? ', killed' : ''}): tenant ${t}: ${d} duplicates, only ${owed} explained by earlier kills (page ${pageSize})`);
      let left = Math.max(0, owed - d);
      if (!killed && tenantStatus.get(t) === 'ok') left = 0;
      if (killed) left += pageSize;
      debt.set(t, left);
    }
    for (const t of tenantIds) {
      if (!firstCkpt.has(t) && !hadCkpt.get(t) && checkpointText(w, name, data, t) !== undefined) firstCkpt.set(t, startEmu);
    }
    const line = {
      run: runNo, label, emu: new Date(startEmu).toISOString(), page: pageSize, wallMs: wall, killed, termed, exit: res?.exitCode, items,
      dups: Object.fromEntries(dups), status: summaries[0]?.status, err: summaries[0]?.error_code,
      tenants: Object.fromEntries(tenantRuns.map((t) => [(t.tenant as { id: string }).id.slice(0, 8), `${String(t.status)}${t.error_code ? `:${String(t.error_code)}` : ''}/${String(t.events)}`])),
      gaps: runGaps.length,
    };
    log(line);
    return { res, items, killed, summary: summaries[0], tenantRuns };
  };

  log({ start: { seed: o.seed, data, tenants: tenantsN, pageSize, world: o.varied ? world : {}, concurrency } });
  await snapshotEvents();
  const started = Date.now();
  let iterations = 0;
  for (let i = 0; i < o.iterations; i++) {
    if (o.wallBudgetMs !== undefined && Date.now() - started > o.wallBudgetMs) break;
    iterations++;
    // New items.
    let added = 0;
    if (i > 0 && chance(0.65)) {
      for (const t of tenantIds) {
        if (!chance(0.7)) continue;
        const n = ri(0, Math.round(pageSize * (data === 'alerts' ? 2.5 : 1.5)));
        if (data === 'alerts') {
          if (chance(0.35)) {
            // Late arrivals: raised up to 13 minutes ago, inside the 15-minute overlap.
            for (let k = 0; k < n; k++) emu.addAlerts(t, 1, { raisedAt: emu.clock.now() - ri(0, 13 * MIN) });
          } else emu.addAlerts(t, n);
        } else emu.addEvents(t, n);
        added += n;
      }
    }
    // Clock.
    if (i > 0 && chance(0.55)) {
      await snapshotEvents();
      const kind = rnd();
      let ms = kind < 0.4 ? ri(1, 120) * SEC : kind < 0.8 ? ri(2, 60) * MIN : ri(1, data === 'events' ? 3 : 5) * HOUR;
      // Aggressive: a tenant failing for long stretches, or the whole input down for a day (events: data_gap),
      // more often while a tenant fails, so that its position ages out during the failure.
      if (o.aggressive && streak && chance(0.5)) ms = ri(2, 9) * HOUR;
      if (o.aggressive && chance(streak ? 0.15 : 0.04)) ms = ri(20, 30) * HOUR + ri(0, 3600) * SEC;
      emu.clock.advance(ms);
    }
    if (chance(0.1)) pageSize = data === 'alerts' ? ri(50, 100) : ri(200, 300);
    // Faults.
    const rules: FaultRule[] = [];
    if (!streak && chance(o.p403 ?? 0.06)) streak = { tenant: choose(tenantIds), left: ri(1, o.aggressive ? 8 : 5) };
    if (streak) {
      rules.push({ route: ROUTE[data], kind: 403, rate: 1, tenantId: streak.tenant });
      runs403++;
    }
    if (chance(o.pFault ?? 0.4)) {
      const n = ri(1, 3);
      for (let k = 0; k < n; k++) {
        const route = choose([ROUTE[data], ROUTE[data], ROUTE[data], 'token', 'partner-tenants', '*']);
        const kind = choose([429, 500, 502, 503, 504, 'drop', 'stall', 'truncate', 'expire-token'] as const);
        const rate = kind === 'stall' ? r(0.02, 0.08) : r(0.03, route === ROUTE[data] ? 0.3 : 0.15);
        const rule: FaultRule = { route, kind, rate };
        if (kind === 429 || (kind === 503 && chance(0.5))) rule.retryAfterSeconds = ri(0, 1);
        if (route === ROUTE[data] && chance(0.3)) rule.tenantId = choose(tenantIds);
        rules.push(rule);
      }
    }
    if (rules.length > 0) faultedRuns++;
    // Kill -9, or SIGTERM as splunkd sends at shutdown and when an input is disabled.
    let kill: KillPlan | undefined;
    const signal = chance(o.pKill ?? 0.3) ? 'SIGKILL' : chance(o.pTerm ?? 0.15) ? 'SIGTERM' : undefined;
    if (signal) {
      kill = chance(0.5) ? { signal, afterMs: ri(signal === 'SIGTERM' ? 20 : 80, Math.max(300, Math.round(lastWall * 1.1))) } : { signal, afterEvents: ri(1, Math.max(5, added + tenantsN * 2 + (i === 0 ? 2000 : 0))) };
    }
    log({ iter: i, added, rules, kill, clock: new Date(emu.clock.now()).toISOString() });
    for (const rule of rules) emu.faults.add(rule);
    await runOnce(`iter ${i}`, kill ? { kill } : {});
    emu.faults.clear();
    if (streak && --streak.left <= 0) streak = undefined;
  }

  // Catch up: no faults, clock moved past the one-minute lag, runs until nothing new comes.
  await snapshotEvents();
  emu.clock.advance(3 * MIN);
  let catchUp = 0;
  let settled = false;
  while (!settled && catchUp < 10) {
    const c = await runOnce(`catch-up ${catchUp++}`, { clean: true });
    settled = c.items === 0 && c.summary?.status === 'ok' && !c.tenantRuns.some((t) => t.paused);
  }
  if (!settled) problem(`${catchUp} runs without faults did not catch up`);
  await snapshotEvents();
  const finalEmu = emu.clock.now();

  // What was owed.
  const owed = new Map<string, { tenant: string; t: number }>();
  for (const t of tenantIds) {
    if (!firstCkpt.has(t)) problem(`tenant ${t} never got a checkpoint`);
  }
  if (data === 'alerts') {
    const client = emulatorClient(emu);
    try {
      for (const t of tenantIds) {
        const from = (firstCkpt.get(t) ?? finalEmu) - startDays * DAY + 5 * MIN;
        for await (const page of api(client, t).alertPages({ from: new Date(from).toISOString(), to: new Date(finalEmu - 5 * MIN).toISOString(), pageSize: 1000 })) {
          for (const a of page.items) owed.set(a.id, { tenant: t, t: Date.parse(a.raisedAt as string) });
        }
      }
    } finally {
      await client.close();
    }
  } else {
    for (const [id, e] of eventSnap) {
      const from = (firstCkpt.get(e.tenant) ?? finalEmu) - DAY + MIN + 5 * MIN;
      if (e.t >= from) owed.set(id, e);
    }
  }
  let inGaps = 0;
  let collected = 0;
  const lost: string[] = [];
  for (const [id, e] of owed) {
    if (seen.has(id)) {
      collected++;
      continue;
    }
    if (gaps.some((g) => g.tenant === e.tenant && e.t >= g.start - SEC && e.t < g.end + SEC)) {
      inGaps++;
      continue;
    }
    lost.push(`${id} (tenant ${e.tenant}, time ${new Date(e.t).toISOString()})`);
  }
  // Gaps that claim as lost items which did arrive: a false alarm, noted, not a loss.
  const itemTimes = data === 'events' ? eventSnap : owed;
  for (const g of gaps) {
    let falsely = 0;
    const runs: Record<number, number> = {};
    for (const [id, e] of itemTimes) {
      if (e.tenant === g.tenant && e.t >= g.start && e.t < g.end && seen.has(id)) {
        falsely++;
        const fr = firstRun.get(id)!;
        runs[fr] = (runs[fr] ?? 0) + 1;
      }
    }
    log({ gap: { ...g, startIso: new Date(g.start).toISOString(), endIso: new Date(g.end).toISOString(), collectedInside: falsely, firstCollectedInRuns: runs } });
    // Collected in the gap's own run or later: the API still served what the record calls lost.
    const after = Object.entries(runs).filter(([run]) => Number(run) >= g.run).reduce((a, [, n]) => a + n, 0);
    if (after > 0) problem(`data_gap of run ${g.run} for tenant ${g.tenant} (${new Date(g.start).toISOString()} to ${new Date(g.end).toISOString()}) calls lost ${after} events that were collected in that run or later`);
  }
  if (lost.length) problem(`${lost.length} of ${owed.size} owed items never collected nor covered by a data_gap, e.g. ${lost.slice(0, 5).join('; ')}`);
  // IDs collected that the emulator never had (wrong tenant, corrupted): not expected.
  for (const [id, t] of idTenant) {
    const e = owed.get(id) ?? eventSnap.get(id);
    if (e && e.tenant !== t) problem(`item ${id} collected under tenant ${t}, emulator has it under ${e.tenant}`);
  }
  // Secrets in files under SPLUNK_HOME (logs, checkpoints).
  for (const f of filesUnder(w.splunkd.splunkHome)) {
    const text = readFileSync(f, 'latin1');
    if (text.includes(secret)) problem(`client secret in file ${f.slice(w.splunkd.splunkHome.length)}`);
  }
  const report: SoakReport = {
    seed: o.seed, data, iterations, kills, terms, faultedRuns, runs403, catchUpRuns: catchUp,
    items: { owed: owed.size, collected, inGaps }, dataGaps: gaps.length, duplicates: dupTotal, problems,
  };
  log({ report });
  await w.stop();
  return report;
}

export function logPath(data: string, seed: number): string {
  const dir = join(tmpdir(), 'ta-sophos-central-soak');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${data}-${seed}.jsonl`);
}
