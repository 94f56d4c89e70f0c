// The modular input end to end, as splunkd runs it: `bin/sophos_central.sh` executed directly (the bundle under plain
// node), the <input> document on stdin with the client secret typed into the stanza, which the input moves to the
// splunkd stand-in's storage/passwords and masks as on an input's first run (each row's run is a first run, from
// an empty checkpoint_dir), and the XML stream on stdout consumed and counted here without being kept. The
// emulator runs in its own process.
// The input's code cache, though, is the one an earlier run left, as on every run after an install's first: that
// first run, without one, is measured once on its own.
// Prints, for alerts and SIEM events at 100,000 and 1,000,000 items of one tenant, and for the largest size
// spread over several tenants (collected concurrently): events/s over the input process's whole life
// (start-up, auth and tenant discovery included), how long that start-up took until the first event reached
// stdout, events/s from then to the exit, its peak RSS, data requests against the fewest possible, and the emulator's CPU share; then the
// `--scheme` start-up time and, for reference, a bare `node -e 0` (all without this sandbox's
// NODE_EXTRA_CA_CERTS, see INPUT_ENV). Each row is run BENCH_RUNS times (3),
// since a shared 2-core VM varies by ±15% from run to run. Two more rows hold every emulator reply back by
// BENCH_LATENCY_MS (100): over a WAN a tenant's pages come one round trip apart (each page's key or cursor
// is in the page before), so these show what the tenant concurrency buys there, not what the CPU can do.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { codeCacheDir } from '../src/code-cache.js';
import { WRAPPER } from '../test/helpers/paths.js';
import { inputDocument, startSplunkd, TA_APP } from '../test/splunkd/index.js';

const SIZES = (process.env.BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
/** Runs per row: the row shows the run with the median rate, and the range over all of them. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Tenants of the extra row that spreads the largest size over several tenants (0: no such row). */
const SPREAD_TENANTS = Number(process.env.BENCH_SPREAD_TENANTS ?? 4);
/** The round trip of every request in the WAN rows, ms (0: no such rows). Not a measured Sophos figure. */
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 100);
const PAGE = 1000;
/**
 * The environment the input runs with: this machine's, less NODE_EXTRA_CA_CERTS. This sandbox sets that for
 * its own tools and splunkd does not; it makes every Node process parse the system CA bundle as it starts,
 * about 50 ms here (the bench prints both start-ups). The input needs no extra CA: it trusts Splunk's CA
 * for splunkd and Node's own roots for Sophos Central.
 */
const { NODE_EXTRA_CA_CERTS: SANDBOX_EXTRA_CA_CERTS, ...INPUT_ENV } = process.env;
/**
 * The input's code cache (src/code-cache.ts) as a host keeps it between runs: each run's stand-in SPLUNK_HOME is
 * new, so the cache is copied in before the run and back after it. Only an install's first run starts without it;
 * the bench measures that start once, on its own.
 */
const HOST_CODE_CACHE = join(mkdtempSync(join(tmpdir(), 'ta-bench-code-cache-')), 'code-cache');
const SOURCETYPE = { alerts: 'sophos:central:alerts', events: 'sophos:central:events' } as const;

interface EmulatorChild {
  child: ChildProcess;
  urls: { authUrl: string; apiUrl: string; clientId: string; clientSecret: string };
  /** CPU ms used so far, and data requests served so far. */
  stats(): Promise<{ cpuMs: number; requests: number }>;
}

async function emulatorChild(options: object): Promise<EmulatorChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'emulator-child.ts'), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return {
    child,
    urls: JSON.parse(line) as EmulatorChild['urls'],
    async stats() {
      child.send({ stats: true });
      const [reply] = (await once(child, 'message')) as [{ cpuMs: number; requests: number }];
      return reply;
    },
  };
}

/**
 * Counts occurrences of `pattern` in a byte stream, across chunk boundaries, keeping nothing else. It
 * stands in for splunkd reading the stream, so it stays cheap: each chunk is searched where it lies, and
 * only a pattern's length around each boundary is ever copied.
 */
function counter(pattern: string) {
  const needle = Buffer.from(pattern);
  let tail = Buffer.alloc(0);
  let count = 0;
  return {
    feed(chunk: Buffer) {
      if (tail.length > 0) {
        // A match that straddles the boundary starts in the tail and ends in this chunk.
        const seam = Buffer.concat([tail, chunk.subarray(0, needle.length - 1)]);
        for (let at = seam.indexOf(needle); at >= 0 && at < tail.length; at = seam.indexOf(needle, at + 1)) count++;
      }
      for (let at = chunk.indexOf(needle); at >= 0; at = chunk.indexOf(needle, at + needle.length)) count++;
      // A chunk shorter than the pattern (a pipe may hand over any amount) extends the tail instead.
      const last = chunk.length >= needle.length - 1 ? chunk : Buffer.concat([tail, chunk]);
      tail = Buffer.from(last.subarray(Math.max(0, last.length - needle.length + 1)));
    },
    get count() {
      return count;
    },
  };
}

const TICKS_PER_SECOND = 100;

/**
 * Peak RSS (VmHWM, the kernel's high-water mark) and CPU time (utime + stime) of a process from /proc,
 * sampled until it exits. The CPU time shows what the input costs however loaded the machine is.
 */
function procSampler(pid: number) {
  let peakKb = 0;
  let cpuTicks = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
      // Fields 14 and 15 of /proc/<pid>/stat, counted after the parenthesised command name.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuTicks = Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone already: keep the last sample.
    }
  };
  const timer = setInterval(read, 10);
  return {
    stop() {
      clearInterval(timer);
      return { peakMb: peakKb / 1024, cpuSeconds: cpuTicks / TICKS_PER_SECOND };
    },
  };
}

/** What one row runs: a data type, its items spread over `tenants`, each reply held back `latencyMs`. */
interface Case {
  data: 'alerts' | 'events';
  items: number;
  tenants: number;
  latencyMs: number;
}

/** One run of a Case: what it measured. */
interface Row extends Case {
  events: number;
  seconds: number;
  /** From spawning the wrapper to the first event on stdout: Node start-up, modules, splunkd, token, whoami, tenants. */
  firstEventMs: number;
  rate: number;
  /** Events/s from the first event on stdout to the exit: the rate once start-up is paid. */
  rateAfterFirst: number;
  peakMb: number;
  cpuSeconds: number;
  requests: number;
  minimum: number;
  emulatorShare: number;
  exitCode: number | null;
}

async function runOnce(run: Case, codeCache: 'warm' | 'cold' = 'warm'): Promise<Row> {
  const { data, items: n, tenants, latencyMs } = run;
  const emulator = await emulatorChild({
    tenants,
    latencyMs,
    regions: ['eu01'],
    endpointsPerTenant: 1,
    alertsPerTenant: data === 'alerts' ? n / tenants : 0,
    eventsPerTenant: data === 'events' ? n / tenants : 0,
  });
  const env = { SOPHOS_CENTRAL_AUTH_URL: emulator.urls.authUrl, SOPHOS_CENTRAL_API_URL: emulator.urls.apiUrl };
  const splunkd = await startSplunkd({ env, validateOnEdit: false });
  const checkpointDir = mkdtempSync(join(tmpdir(), 'ta-bench-ckpt-'));
  const runCodeCache = codeCacheDir({ SPLUNK_HOME: splunkd.splunkHome })!;
  if (codeCache === 'warm' && existsSync(HOST_CODE_CACHE)) cpSync(HOST_CODE_CACHE, runCodeCache, { recursive: true });
  try {
    const params = {
      interval: '300',
      index: 'main',
      disabled: '0',
      data,
      client_id: emulator.urls.clientId,
      client_secret: emulator.urls.clientSecret,
      start_days: '90',
    };
    splunkd.stanzas.set('bench', { app: TA_APP, params });
    const doc = inputDocument({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, checkpointDir, stanzas: [{ name: 'bench', app: TA_APP, params }] });
    const before = await emulator.stats();
    const started = performance.now();
    // BENCH_INPUT_NODE_OPTIONS: node flags for the input process only, to try V8 settings.
    const nodeOptions = process.env.BENCH_INPUT_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_INPUT_NODE_OPTIONS } : {};
    const child = spawn(WRAPPER, [], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...INPUT_ENV, ...env, ...nodeOptions, SPLUNK_HOME: splunkd.splunkHome },
    });
    const proc = procSampler(child.pid!);
    const count = counter(`<sourcetype>${SOURCETYPE[data]}</sourcetype>`);
    let firstEventMs = NaN;
    // Events of the chunk that carried the first one: they arrived at firstEventMs, not after it.
    let eventsAtFirst = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      count.feed(chunk);
      if (Number.isNaN(firstEventMs) && count.count > 0) {
        firstEventMs = performance.now() - started;
        eventsAtFirst = count.count;
      }
    });
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (line.startsWith('ERROR')) errors.push(line);
    });
    child.stdin!.end(doc);
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    const seconds = (performance.now() - started) / 1000;
    const { peakMb, cpuSeconds } = proc.stop();
    const after = await emulator.stats();
    if (existsSync(runCodeCache)) {
      rmSync(HOST_CODE_CACHE, { recursive: true, force: true });
      cpSync(runCodeCache, HOST_CODE_CACHE, { recursive: true });
    }
    if (errors.length > 0) console.error(errors.slice(0, 3).join('\n'));
    return {
      ...run,
      events: count.count,
      seconds,
      firstEventMs,
      rate: count.count / seconds,
      rateAfterFirst: (count.count - eventsAtFirst) / (seconds - firstEventMs / 1000),
      peakMb,
      cpuSeconds,
      requests: after.requests - before.requests,
      // From the events delivered, not the items held: a run reads a window (the SIEM rows' from_date is ten
      // minutes inside the emulator's 24 hours of events), and a full page per request is the least possible.
      minimum: tenants * Math.max(1, Math.ceil(count.count / tenants / PAGE)),
      emulatorShare: (after.cpuMs - before.cpuMs) / (seconds * 1000),
      exitCode,
    };
  } finally {
    await splunkd.stop();
    rmSync(checkpointDir, { recursive: true, force: true });
    emulator.child.kill('SIGTERM');
    await once(emulator.child, 'exit');
  }
}

/** Wall time of `command args` run to completion, `runs` times; `ok` checks each run's stdout. */
function startupMs(
  runs: number,
  command: string,
  args: string[],
  ok: (stdout: string) => boolean,
  env: NodeJS.ProcessEnv = INPUT_ENV,
): { median: number; all: number[] } {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(command, args, { encoding: 'utf8', env });
    all.push(performance.now() - t0);
    if (r.status !== 0 || !ok(r.stdout)) throw new Error(`${[command, ...args].join(' ')} failed: ${r.stderr}`);
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, all };
}

/** The run with the median rate of one row, the rate range and the highest peak RSS. */
function summarise(runs: Row[]): { median: Row; minRate: number; maxRate: number; peakMb: number } {
  const byRate = [...runs].sort((a, b) => a.rate - b.rate);
  return {
    median: byRate[Math.floor(byRate.length / 2)]!,
    minRate: byRate[0]!.rate,
    maxRate: byRate[byRate.length - 1]!.rate,
    peakMb: Math.max(...runs.map((r) => r.peakMb)),
  };
}

const rate = (x: number): string => Math.round(x).toLocaleString('en-US');

export default async function run(): Promise<void> {
  console.log('\n## modinput.bench.ts: the modular input as splunkd runs it (bin/sophos_central.sh, <input> on stdin, XML stream counted)');
  console.log(`Each row: the median of ${RUNS} runs by events/s, the range of events/s over them, and the highest peak RSS of them.`);
  console.log('events/s is over the whole process; "after 1st" from the first event on stdout to the exit, once start-up is paid.');
  const rows: Case[] = [];
  for (const data of ['alerts', 'events'] as const) for (const items of SIZES) rows.push({ data, items, tenants: 1, latencyMs: 0 });
  if (SPREAD_TENANTS > 1) rows.push({ data: 'alerts', items: Math.max(...SIZES), tenants: SPREAD_TENANTS, latencyMs: 0 });
  if (LATENCY_MS > 0) {
    for (const tenants of new Set([1, Math.max(1, SPREAD_TENANTS)])) {
      rows.push({ data: 'alerts', items: Math.min(...SIZES), tenants, latencyMs: LATENCY_MS });
    }
  }
  // An install's first run, which compiles the input without a code cache (and leaves one for every later run).
  const cold = await runOnce({ data: 'alerts', items: Math.min(...SIZES), tenants: 1, latencyMs: 0 }, 'cold');
  // Round after round over every row, rather than one row's runs back to back: a slow spell of the machine
  // then costs each row a run instead of costing one row all of them.
  const runs: Row[][] = rows.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, row] of rows.entries()) runs[i]!.push(await runOnce(row));
  }
  console.log(
    'data    tenants     items    events     time  1st event   events/s (range)          after 1st  events/CPU-s  peak RSS  requests (min)  emulator CPU   exit',
  );
  for (const [i, { latencyMs }] of rows.entries()) {
    if (latencyMs > 0 && rows[i - 1]?.latencyMs !== latencyMs) {
      console.log(`Over a WAN: every request answered ${latencyMs} ms late (an assumed round trip, BENCH_LATENCY_MS)`);
    }
    const { median: r, minRate, maxRate, peakMb } = summarise(runs[i]!);
    console.log(
      `${r.data.padEnd(7)} ${String(r.tenants).padStart(7)} ${String(r.items).padStart(9)} ${String(r.events).padStart(9)} ${r.seconds.toFixed(2).padStart(6)} s ` +
        `${`${r.firstEventMs.toFixed(0)} ms`.padStart(9)} ` +
        `${rate(r.rate).padStart(10)} (${rate(minRate)}-${rate(maxRate)})`.padEnd(27) +
        `${rate(r.rateAfterFirst).padStart(9)} ${rate(r.events / r.cpuSeconds).padStart(13)} ${`${peakMb.toFixed(0)} MB`.padStart(9)} ${`${r.requests} (${r.minimum})`.padStart(15)} ` +
        `${`${(r.emulatorShare * 100).toFixed(0)}% of a core`.padStart(14)}   ${r.exitCode}`,
    );
  }
  console.log(
    `Each run starts with the code cache an earlier run left, as every run after an install's first does. That first run, without one ` +
      `(alerts, ${cold.items} items): 1st event after ${cold.firstEventMs.toFixed(0)} ms, ${rate(cold.rate)} events/s.`,
  );
  const times = (t: { median: number; all: number[] }) => `median ${t.median.toFixed(0)} ms over ${t.all.length} runs (${t.all.map((m) => m.toFixed(0)).join(', ')})`;
  const scheme = startupMs(9, WRAPPER, ['--scheme'], (out) => out.includes('<scheme>'));
  console.log(`--scheme through bin/sophos_central.sh: ${times(scheme)}`);
  // The floor under every start-up figure above: this machine's Node doing nothing.
  const bare = startupMs(9, process.execPath, ['-e', '0'], () => true);
  console.log(`Node start-up alone (node -e 0), for reference: ${times(bare)}`);
  if (SANDBOX_EXTRA_CA_CERTS !== undefined) {
    const withCa = startupMs(9, process.execPath, ['-e', '0'], () => true, process.env);
    console.log(`The same with this machine's NODE_EXTRA_CA_CERTS, which the input runs without: ${times(withCa)}`);
  }
  rmSync(dirname(HOST_CODE_CACHE), { recursive: true, force: true });
}
