// `sophos-central cleanup plan|apply` (interfaces.md, "Stale-device clean-up"). The main CLI
// dispatches `cleanup` here; this module owns the flags, the table and the exit code.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createCentralClient } from '../central/client.js';
import type { CentralClient } from '../central/types.js';
import { xdgStateDir } from '../cli/state.js';
import { AUTH_MODES, defaultConfigPath, loadSophosConfig, resolveSophosCredentials, type AuthMode, type SophosCredentials } from '../cli/credentials.js';
import { ConfigError, describeError, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { applyPlan, DEFAULT_DELAY_MS, DEFAULT_MAX_DELETES, describeApplySummary, type ApplySummary } from './apply.js';
import { JsonLinesAudit, localActor } from './audit.js';
import { OpenTickets, parseAdCsv, parseTickets, parseVipList, readInputFile } from './inputs.js';
import { Ledger } from './ledger.js';
import { buildPlan, DEFAULT_DISABLED_OU, readPlan, writePlan, type Plan } from './plan.js';

export const DEFAULT_MAX_PLAN_AGE_HOURS = 24;

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What the command needs from outside; tests replace parts of it. */
export interface CleanupDeps {
  credentials(auth: AuthMode, configPath: string | undefined, io: CommandIo): Promise<SophosCredentials>;
  client(credentials: SophosCredentials, env: NodeJS.ProcessEnv): CentralClient;
  now(): number;
  sleep?(ms: number): Promise<void>;
}

export const defaultDeps: CleanupDeps = {
  async credentials(auth, configPath, io) {
    const env = io.env ?? process.env;
    const path = configPath ?? defaultConfigPath('sophos_config.ini', env, io.cwd ?? process.cwd());
    const config = loadSophosConfig(path, { required: configPath !== undefined || auth === 'static' || auth === 'aws' });
    return resolveSophosCredentials(auth, config, {
      env,
      stdin: process.stdin,
      stderr: process.stderr,
      warn: (m) => io.stderr.write(`WARN ${m}\n`),
    });
  },
  client: (c, env) => createCentralClient({ clientId: c.clientId, clientSecret: c.clientSecret, env }),
  now: Date.now,
};

const USAGE = `usage:
  sophos-central cleanup plan --auth <static|aws|env|prompt> --inactive-days <N> --ad <ad.csv> [--disabled-ou <text>]
      [--vip <vip.txt>] [--tickets <tickets.csv>] [--ledger <ledger.jsonl>] --out <plan.json> [--config <sophos_config.ini>]
  sophos-central cleanup apply <plan.json> --auth <static|aws|env|prompt> [--execute] [--max-deletes <N>]
      [--ledger <ledger.jsonl>] [--audit <audit.jsonl>] [--delay-ms <N>] [--max-plan-age-hours <N>] [--config <sophos_config.ini>]
`;

/** Runs `cleanup <argv...>` and returns the exit code; errors become one line on stderr. */
export async function runCleanupCommand(argv: string[], io: CommandIo, deps: CleanupDeps = defaultDeps): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'plan') return await planCommand(rest, io, deps);
    if (sub === 'apply') return await applyCommand(rest, io, deps);
    if (sub === '--help' || sub === '-h') {
      io.stdout.write(USAGE);
      return EXIT_OK;
    }
    if (sub === undefined) throw new ConfigError('cleanup needs a command: "plan" or "apply" (see sophos-central cleanup --help)');
    throw new ConfigError(`unknown cleanup command "${sub}": use "plan" or "apply" (see sophos-central cleanup --help)`);
  } catch (err) {
    io.stderr.write(`ERROR ${describeError(err)}\n`);
    return EXIT_FAILURE;
  }
}

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new ConfigError(`unexpected argument "${parsed.positionals[positionals]}"`);
    return parsed;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${(err as Error).message.split('\n')[0]} (see sophos-central cleanup --help)`);
  }
}

function authMode(value: unknown): AuthMode {
  if (typeof value !== 'string') throw new ConfigError(`--auth is required: one of ${AUTH_MODES.join(', ')}`, 'auth');
  if (!(AUTH_MODES as readonly string[]).includes(value)) throw new ConfigError(`--auth must be one of ${AUTH_MODES.join(', ')}, not "${value}"`, 'auth');
  return value as AuthMode;
}

function integer(value: unknown, flag: string, min: number, dflt?: number): number {
  if (value === undefined) {
    if (dflt === undefined) throw new ConfigError(`${flag} is required`, flag);
    return dflt;
  }
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < min) throw new ConfigError(`${flag} must be a whole number of at least ${min}, not "${String(value)}"`, flag);
  return n;
}

function required(value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${flag} is required`, flag);
  return value;
}

/** Default state files: $XDG_STATE_HOME/ta-sophos-central/ (the ledger must survive upgrades). */
function statePath(io: CommandIo, file: string): string {
  return join(xdgStateDir(io.env ?? process.env), file);
}

async function planCommand(args: string[], io: CommandIo, deps: CleanupDeps): Promise<number> {
  const { values } = parse(
    args,
    {
      auth: { type: 'string' },
      'inactive-days': { type: 'string' },
      ad: { type: 'string' },
      'disabled-ou': { type: 'string' },
      vip: { type: 'string' },
      tickets: { type: 'string' },
      ledger: { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
    },
    0,
  );
  const auth = authMode(values.auth);
  const inactiveDays = integer(values['inactive-days'], '--inactive-days', 1);
  const adPath = required(values.ad, '--ad');
  const out = required(values.out, '--out');
  const disabledOu = typeof values['disabled-ou'] === 'string' && values['disabled-ou'].trim() ? values['disabled-ou'] : DEFAULT_DISABLED_OU;

  // Every local file is read and checked before any credential is asked for or any request sent.
  const ad = parseAdCsv(await readInputFile(adPath, 'AD CSV'), adPath);
  const vip = typeof values.vip === 'string' ? parseVipList(await readInputFile(values.vip, 'VIP list')) : new Set<string>();
  const tickets = typeof values.tickets === 'string' ? parseTickets(await readInputFile(values.tickets, 'tickets CSV'), values.tickets) : new OpenTickets();
  const ledger = await Ledger.open(typeof values.ledger === 'string' ? values.ledger : statePath(io, 'cleanup-ledger.jsonl'));

  const creds = await deps.credentials(auth, values.config as string | undefined, io);
  const client = deps.client(creds, io.env ?? process.env);
  let plan: Plan;
  try {
    plan = await buildPlan({ client, inactiveDays, ad, disabledOu, vip, tickets, ledger, now: deps.now() });
  } finally {
    await client.close();
  }
  await writePlan(out, plan);
  io.stdout.write(renderPlanTable(plan));
  io.stdout.write(`plan written to ${out}; review it, then run: sophos-central cleanup apply ${out} --auth ${auth}\n`);
  return EXIT_OK;
}

async function applyCommand(args: string[], io: CommandIo, deps: CleanupDeps): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      auth: { type: 'string' },
      execute: { type: 'boolean' },
      'max-deletes': { type: 'string' },
      ledger: { type: 'string' },
      audit: { type: 'string' },
      'delay-ms': { type: 'string' },
      'max-plan-age-hours': { type: 'string' },
      config: { type: 'string' },
    },
    1,
  );
  const planPath = required(positionals[0], 'the plan file (sophos-central cleanup apply <plan.json>)');
  const auth = authMode(values.auth);
  const execute = values.execute === true;
  const maxDeletes = integer(values['max-deletes'], '--max-deletes', 0, DEFAULT_MAX_DELETES);
  const delayMs = integer(values['delay-ms'], '--delay-ms', 0, DEFAULT_DELAY_MS);
  const maxAgeHours = integer(values['max-plan-age-hours'], '--max-plan-age-hours', 1, DEFAULT_MAX_PLAN_AGE_HOURS);
  const plan = await readPlan(planPath, deps.now(), maxAgeHours * 3_600_000);
  const ledger = await Ledger.open(typeof values.ledger === 'string' ? values.ledger : statePath(io, 'cleanup-ledger.jsonl'));
  const auditPath = typeof values.audit === 'string' ? values.audit : statePath(io, 'cleanup-audit.jsonl');

  const creds = await deps.credentials(auth, values.config as string | undefined, io);
  const client = deps.client(creds, io.env ?? process.env);
  let summary: ApplySummary;
  try {
    summary = await applyPlan({
      client,
      devices: plan.devices,
      inactiveDays: plan.inactiveDays,
      execute,
      maxDeletes,
      delayMs,
      ledger,
      audit: new JsonLinesAudit(auditPath),
      actor: localActor(`sophos-central cleanup apply ${planPath}`),
      runId: randomUUID(),
      now: deps.now,
      sleep: deps.sleep,
    });
  } finally {
    await client.close();
  }
  const mode = execute ? 'executed' : 'dry run (nothing deleted; add --execute to delete)';
  io.stdout.write(
    `${mode}: ${describeApplySummary(summary)}; audit in ${auditPath}\n`,
  );
  for (const f of summary.failures) io.stderr.write(`ERROR ${f}\n`);
  return summary.failures.length > 0 ? EXIT_PARTIAL : EXIT_OK;
}

/** A fixed-width table: verdict first, so `delete` rows stand out when sorted. */
export function renderPlanTable(plan: Plan): string {
  const order = { delete: 0, manual: 1, skip: 2 } as const;
  const rows = [...plan.devices]
    .sort((a, b) => order[a.verdict] - order[b.verdict] || a.hostname.localeCompare(b.hostname))
    .map((d) => [d.verdict, d.hostname, d.lastSeenAt ?? '-', d.tenantName ?? d.tenantId, d.id, d.reason]);
  const header = ['VERDICT', 'HOSTNAME', 'LAST SEEN', 'TENANT', 'ENDPOINT ID', 'REASON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const counts = (['delete', 'manual', 'skip'] as const).map((v) => `${plan.devices.filter((d) => d.verdict === v).length} ${v}`).join(', ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n${plan.devices.length} devices inactive for ${plan.inactiveDays}+ days: ${counts}\n`;
}
