// The `sophos_central_cleanup` custom alert action. Splunk runs it with `--execute` and a JSON
// payload on stdin (results_file, session_key, server_uri, configuration, search_name, sid, ...).
// The rows of the saved search (Central endpoints joined with an AD lookup) go through the same
// verdict rules and the same apply loop as the CLI: dry-run unless `execute` is 1, the per-run cap,
// the live re-check, pacing, the ledger and the audit.
//
// The audit goes to an append-only JSON-lines file that default/inputs.conf monitors as
// sourcetype sophos:central:cleanup. A file rather than receivers/simple: it needs no extra
// capability for the alert's owner, it is the same audit writer as the CLI's, and a line written
// while indexing is down is still indexed later (no audit record is lost).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { CentralClient } from '../central/types.js';
import { CleanupError } from '../errors.js';
import { missingSecretMessage } from '../splunk/credentials.js';
import { APP, REALM, SCHEME } from '../splunk/names.js';
import { SplunkdClient } from '../splunk/rest.js';
import { applyPlan, DEFAULT_DELAY_MS, DEFAULT_MAX_DELETES, type ApplySummary } from './apply.js';
import { JsonLinesAudit } from './audit.js';
import { PeerIndex } from './correlate.js';
import { parseCsvTable } from './csv.js';
import { OpenTickets } from './inputs.js';
import { Ledger } from './ledger.js';
import { decidePlan, DEFAULT_DISABLED_OU, type Plan } from './plan.js';
import type { AdRecord, CentralDevice } from './verdict.js';

export interface AlertPayload {
  results_file: string;
  session_key: string;
  server_uri: string;
  configuration: Record<string, string>;
  search_name?: string;
  sid?: string;
  owner?: string;
  app?: string;
  server_host?: string;
  results_link?: string;
}

export function parseAlertPayload(text: string): AlertPayload {
  let p: Partial<AlertPayload>;
  try {
    p = JSON.parse(text) as Partial<AlertPayload>;
  } catch {
    throw new CleanupError('the alert payload on stdin is not JSON; set payload_format = json in alert_actions.conf');
  }
  for (const key of ['results_file', 'session_key', 'server_uri'] as const) {
    if (typeof p?.[key] !== 'string' || p[key] === '') throw new CleanupError(`the alert payload has no "${key}"`);
  }
  return { ...(p as AlertPayload), configuration: (p.configuration ?? {}) as Record<string, string> };
}

export interface AlertConfig {
  clientId: string;
  inactiveDays: number;
  disabledOu: string;
  vip: Set<string>;
  execute: boolean;
  maxDeletes: number;
  delayMs: number;
}

/** The action's parameters (alert_actions.conf `param.*`, overridden per saved search). */
export function alertConfig(c: Record<string, string>): AlertConfig {
  const int = (key: string, min: number, dflt: number) => {
    const raw = (c[key] ?? '').trim();
    if (raw === '') return dflt;
    if (!/^\d+$/.test(raw) || Number(raw) < min) throw new CleanupError(`param.${key} must be a whole number of at least ${min}, not "${raw}"`);
    return Number(raw);
  };
  const clientId = (c.client_id ?? '').trim();
  if (!clientId) throw new CleanupError('param.client_id is empty: set the Sophos Central client ID whose secret is stored by the add-on');
  const inactiveDays = int('inactive_days', 1, 0);
  if (inactiveDays === 0) throw new CleanupError('param.inactive_days is required (days without contact before a device is stale)');
  return {
    clientId,
    inactiveDays,
    disabledOu: (c.disabled_ou ?? '').trim() || DEFAULT_DISABLED_OU,
    vip: new Set(
      (c.vip ?? '')
        .split(/[;\n]/)
        .map((v) => v.trim().toLowerCase())
        .filter(Boolean),
    ),
    execute: ['1', 'true', 'yes'].includes((c.execute ?? '').trim().toLowerCase()),
    maxDeletes: int('max_deletes', 0, DEFAULT_MAX_DELETES),
    delayMs: int('delay_ms', 0, DEFAULT_DELAY_MS),
  };
}

/**
 * Values of one field of a results row. Splunk's results CSV carries a multivalue field twice: the
 * plain column (values joined by newlines) and `__mv_<field>` as `$v1$;$v2$` with `$$` for `$`.
 */
export function fieldValues(row: Record<string, string>, field: string): string[] {
  const mv = row[`__mv_${field.toLowerCase()}`];
  if (mv) {
    const values: string[] = [];
    const re = /\$((?:[^$]|\$\$)*)\$(?:;|$)/g;
    for (let m = re.exec(mv); m; m = re.exec(mv)) values.push(m[1]!.replace(/\$\$/g, '$'));
    return values;
  }
  const v = row[field.toLowerCase()] ?? '';
  return v === '' ? [] : [v];
}

/** Columns the saved search must output (Central's field names, as KV_MODE=json extracts them). */
export const RESULT_COLUMNS = ['id', 'hostname', 'tenant.id', 'lastseenat'] as const;

export interface AlertRows {
  devices: Array<{ device: CentralDevice; tenant?: { name: string } }>;
  ad: AdRecord[];
  tickets: OpenTickets;
  peers: PeerIndex;
}

/** Turns the saved search's rows into the inputs of the verdict rules. */
export function rowsToInputs(records: ReadonlyArray<Record<string, string>>): AlertRows {
  const one = (r: Record<string, string>, f: string) => fieldValues(r, f)[0];
  const ad = new Map<string, AdRecord>();
  const ticketIds = new Set<string>();
  const peers = new PeerIndex();
  const devices = records
    .filter((r) => one(r, 'id'))
    .map((r) => {
      const device: CentralDevice = {
        id: one(r, 'id')!,
        hostname: one(r, 'hostname') ?? '',
        tenantId: one(r, 'tenant.id') ?? '',
        lastSeenAt: one(r, 'lastSeenAt'),
        osName: one(r, 'os.name'),
        osBuild: one(r, 'os.build'),
        personName: one(r, 'associatedPerson.name'),
        viaLogin: one(r, 'associatedPerson.viaLogin'),
      };
      peers.add(device);
      if (one(r, 'open_ticket')) ticketIds.add(device.id.toLowerCase());
      // One AD lookup match per value of ad_distinguished_name; the other ad_* values line up with it.
      const dns = fieldValues(r, 'ad_distinguished_name');
      const col = (f: string) => fieldValues(r, f);
      dns.forEach((dn, i) => {
        const rec: AdRecord = {
          hostname: col('ad_hostname')[i] ?? device.hostname,
          domain: col('ad_domain')[i] ?? '',
          distinguishedName: dn,
          os: col('ad_os')[i] ?? '',
          osBuild: col('ad_os_build')[i] ?? '',
          owner: col('ad_owner')[i] || undefined,
        };
        ad.set(`${rec.hostname}|${rec.domain}|${rec.distinguishedName}`.toLowerCase(), rec);
      });
      const tenantName = one(r, 'tenant.name');
      return { device, tenant: tenantName ? { name: tenantName } : undefined };
    });
  return { devices, ad: [...ad.values()], tickets: new OpenTickets(new Set(), ticketIds), peers };
}

export async function readResultsFile(path: string): Promise<Array<Record<string, string>>> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    throw new CleanupError(`cannot read the alert's results file ${path}: ${(err as Error).message}`);
  }
  const text = (path.endsWith('.gz') || (data[0] === 0x1f && data[1] === 0x8b) ? gunzipSync(data) : data).toString('utf8');
  if (text.trim() === '') return [];
  return parseCsvTable(text, `results file ${path}`, RESULT_COLUMNS).records;
}

/** The client secret from storage/passwords, with the alert's session key, at the alert's server_uri. */
export async function readStoredSecret(payload: AlertPayload, clientId: string, env: NodeJS.ProcessEnv): Promise<string> {
  const rest = new SplunkdClient({ serverUri: payload.server_uri, sessionKey: payload.session_key, splunkHome: env.SPLUNK_HOME });
  try {
    const secret = await rest.getPassword(REALM, clientId);
    if (!secret) throw new CleanupError(missingSecretMessage(clientId));
    return secret;
  } finally {
    await rest.close();
  }
}

export interface AlertDeps {
  secret(payload: AlertPayload, clientId: string): Promise<string>;
  client(clientId: string, clientSecret: string): CentralClient;
  env: NodeJS.ProcessEnv;
  now(): number;
  sleep?(ms: number): Promise<void>;
}

/** Where the ledger and the audit live on a Splunk host. */
export function splunkStatePaths(env: NodeJS.ProcessEnv): { ledger: string; audit: string } {
  const home = env.SPLUNK_HOME;
  if (!home) throw new CleanupError('SPLUNK_HOME is not set; the alert action runs under splunkd');
  const db = env.SPLUNK_DB || join(home, 'var', 'lib', 'splunk');
  return {
    ledger: join(db, 'modinputs', SCHEME, 'cleanup-ledger.jsonl'),
    audit: join(home, 'var', 'log', APP, 'cleanup-audit.jsonl'),
  };
}

export interface AlertRun {
  config: AlertConfig;
  plan: Plan;
  summary: ApplySummary;
  auditPath: string;
}

export async function runAlertAction(payload: AlertPayload, deps: AlertDeps): Promise<AlertRun> {
  const config = alertConfig(payload.configuration);
  const paths = splunkStatePaths(deps.env);
  const inputs = rowsToInputs(await readResultsFile(payload.results_file));
  const ledger = await Ledger.open(paths.ledger);
  const plan = decidePlan(inputs.devices, inputs.peers, {
    inactiveDays: config.inactiveDays,
    ad: inputs.ad,
    disabledOu: config.disabledOu,
    vip: config.vip,
    tickets: inputs.tickets,
    ledger,
    now: deps.now(),
  });
  // The secret is read and the client built only when a device needs the live re-check.
  let client: CentralClient | undefined;
  const connect = async () => (client = deps.client(config.clientId, await deps.secret(payload, config.clientId)));
  try {
    const summary = await applyPlan({
      client: connect,
      devices: plan.devices,
      inactiveDays: config.inactiveDays,
      execute: config.execute,
      maxDeletes: config.maxDeletes,
      delayMs: config.delayMs,
      ledger,
      audit: new JsonLinesAudit(paths.audit),
      actor: { tool: 'splunk alert action sophos_central_cleanup', user: payload.owner, host: payload.server_host, search: payload.search_name, sid: payload.sid },
      runId: payload.sid ?? randomUUID(),
      now: deps.now,
      sleep: deps.sleep,
    });
    return { config, plan, summary, auditPath: paths.audit };
  } finally {
    await client?.close();
  }
}
