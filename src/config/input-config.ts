// Pure validation of one sophos_central stanza's parameters. Every message is shown to a Splunk admin as is
// (validation error in Splunk Web, or an ERROR line in splunkd.log), so it names the parameter, what is wrong
// and what is accepted. No message ever repeats a secret: client_secret is never echoed and proxy_url is echoed
// without its credentials.
import { ConfigError } from '../errors.js';

export type DataType = 'alerts' | 'events' | 'endpoints' | 'tenants';
export const DATA_TYPES: readonly DataType[] = ['alerts', 'events', 'endpoints', 'tenants'];

export interface InputConfig {
  clientId: string;
  /** The clear secret typed into the stanza; undefined when masked (`********`) or empty: read it from storage/passwords. */
  clientSecret?: string;
  data: DataType;
  tenants: string[];
  excludeTenants: string[];
  startDays: number;
  /** `alerts` only: how far before the high-water mark each run looks again, in minutes (default 15). */
  overlapMinutes?: number;
  /** Tenants collected at once (default 4). */
  tenantConcurrency?: number;
  excludeTypes: string[];
  pageSize?: number;
  shard?: { index: number; count: number };
  proxyUrl?: string;
  /** Where proxyUrl was set when not in the stanza (the app-wide proxy), for messages. */
  proxyName?: string;
  index?: string;
  host?: string;
  /** Splunk's `interval` when it is a number of seconds above 0 (not -1, 0 or a cron schedule). */
  intervalSeconds?: number;
}

/** What the input writes over client_secret once the secret is in storage/passwords. */
export const SECRET_MASK = '********';

/**
 * Largest page each API accepts (sophos-central-api.md §3–§6): endpoints 500, alerts 1000 (100 on the
 * 2020-era API; the client falls back), SIEM `limit` 1000, tenant lists 100 (no documented maximum; the
 * value other page-number lists report). SIEM documents a minimum `limit` of 200.
 */
export const PAGE_SIZE_LIMITS: Record<DataType, { min: number; max: number }> = {
  alerts: { min: 1, max: 1000 },
  events: { min: 200, max: 1000 },
  endpoints: { min: 1, max: 500 },
  tenants: { min: 1, max: 100 },
};

export type RawParams = Record<string, string | string[] | undefined>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tenant IDs, HEC tokens and HEC channels are all UUIDs (any case). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
/** Only hex digits and dashes, long enough to be meant as an ID: a broken UUID rather than a name. */
const ID_LIKE = /^[0-9a-f-]{16,}$/i;
/** Sophos client IDs are UUIDs; this is looser, but nothing else fits a storage/passwords entity name. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const EVENT_TYPE = /^Event(::[A-Za-z0-9_]+)+$/;
// HTTP front ends commonly refuse a request line over 8,192 bytes (CloudFront's URL limit, nginx's default
// header buffer); the path, limit and cursor of a SIEM request take under 500 of them.
const MAX_EXCLUDE_TYPES_BYTES = 7_000;
const CONTROL = /[\u0000-\u001F\u007F]/;
/**
 * Tenant names are free text in Sophos Central (`R&D | Labs`, `Smith "East"`): only markup is refused, which
 * suggests a paste from a web page, and a backslash at the end, which .conf files read as a line continuation.
 * A name with a comma cannot be listed; its ID can.
 */
const NAME_FORBIDDEN = /[<>]|\\$/;
const MAX_NAME_LENGTH = 255;
/** splunkd encrypts storage/passwords values of at most 255 characters (solnlib credentials.py). */
const MAX_SECRET_LENGTH = 255;
const MAX_SHARDS = 1000;
const MIN_INTERVAL_SECONDS = 60;
/** A day: each run re-reads the overlap, so a wider one costs pages and checkpoint size on every run. */
const MAX_OVERLAP_MINUTES = 1440;
/** Each tenant collected at once may hold two pages (about 10 MB when busy) and adds requests to Sophos. */
const MAX_TENANT_CONCURRENCY = 32;

/** A parameter's text, trimmed; a repeated one joined by commas; '' when absent. */
export function single(params: RawParams, name: string): string {
  const v = params[name];
  if (Array.isArray(v)) return v.join(',').trim();
  return (v ?? '').trim();
}

function list(params: RawParams, name: string): string[] {
  const v = params[name];
  const parts = Array.isArray(v) ? v.flatMap((x) => x.split(',')) : (v ?? '').split(',');
  return parts.map((x) => x.trim()).filter((x) => x !== '');
}

function integer(params: RawParams, name: string): number | undefined {
  const v = single(params, name);
  if (v === '') return undefined;
  if (!/^[+-]?\d+$/.test(v)) throw new ConfigError(`${name} must be a whole number, got "${v}"`, name);
  // Far beyond every range here; refused as typed rather than as the float it would become (1e+23).
  if (v.replace(/^[+-]?0*/, '').length > 9) throw new ConfigError(`${name} is far too large, got "${v}"`, name);
  return Number(v);
}

/** A tenant reference: a UUID (normalised to lower case) or a plausible tenant name. */
function tenantRef(value: string, param: string): string {
  if (isUuid(value)) return value.toLowerCase();
  if (ID_LIKE.test(value) && /\d/.test(value) && value.includes('-')) {
    throw new ConfigError(`${param}: "${value}" looks like a tenant ID but is not a complete UUID (8-4-4-4-12 hex digits)`, param);
  }
  if (value.length > MAX_NAME_LENGTH || CONTROL.test(value) || NAME_FORBIDDEN.test(value) || !/[\p{L}\p{N}]/u.test(value)) {
    throw new ConfigError(
      `${param}: "${value.slice(0, 60)}" is neither a tenant ID (UUID) nor a tenant name (up to ${MAX_NAME_LENGTH} characters with at least one letter or digit, no control characters, < or >, and no \\ at the end)`,
      param,
    );
  }
  return value;
}

function tenantList(params: RawParams, param: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const ref of list(params, param).map((v) => tenantRef(v, param))) {
    const key = ref.toLowerCase();
    if (!seen.has(key)) out.push(ref);
    seen.add(key);
  }
  return out;
}

/**
 * Shows a URL without user info, so that a proxy password never reaches a message. Everything up to the last
 * `@` goes: a password may hold an unencoded `/` or `@`, and the scheme may be missing altogether.
 */
export function redactUrl(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, (_all, scheme: string | undefined) => `${scheme ?? ''}***@`);
}

const PROXY_URL = /^https?:\/\/(?:[^/@\s]*@)?(?:\[[0-9a-f:.]+\]|[^/:@\s]+):(\d{1,5})\/?$/i;

/** A checked proxy URL (also for the app-wide [proxy] proxy_url of ta_sophos_central_settings.conf). */
export function proxyUrl(raw: string): string {
  const fail = (why: string): never => {
    throw new ConfigError(`proxy_url must be http://host:port or https://host:port (${why}), got "${redactUrl(raw)}"`, 'proxy_url');
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`scheme ${url.protocol.slice(0, -1)} is not supported`);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') fail('no path, query or fragment allowed');
  const m = PROXY_URL.exec(raw);
  // With a port there, what the pattern refused is an `@` or a blank written as is in the user info.
  if (!m) fail(/:\d+\/?$/.test(raw) ? 'an @ or a blank in the user name or password must be %-encoded, as %40 and %20' : 'the port is required');
  if (Number(m![1]) < 1 || Number(m![1]) > 65535) fail('the port must be 1 to 65535');
  const checked = raw.replace(/\/$/, '');
  let credential: ReturnType<typeof proxyCredential>;
  try {
    credential = proxyCredential(checked);
  } catch {
    return fail('the user name or password has a malformed %-escape: write % as %25');
  }
  // A password without a user name is never sent (undici sends Proxy-Authorization for both or neither).
  if (credential && url.username === '') fail('a password needs a user name before it');
  if (credential && credential.password.length > MAX_SECRET_LENGTH) {
    fail(`the password is longer than ${MAX_SECRET_LENGTH} characters, more than Splunk's storage/passwords holds`);
  }
  return checked;
}

/** A checked proxy URL split around its user info (`user` and `password` as written, still %-encoded). */
function proxyParts(url: string): { scheme: string; user: string; password?: string; hostPort: string } | undefined {
  const schemeEnd = url.indexOf('://') + 3;
  const at = url.indexOf('@', schemeEnd);
  if (at < 0) return undefined;
  const userinfo = url.slice(schemeEnd, at);
  const colon = userinfo.indexOf(':');
  return {
    scheme: url.slice(0, schemeEnd),
    user: colon < 0 ? userinfo : userinfo.slice(0, colon),
    ...(colon < 0 ? {} : { password: userinfo.slice(colon + 1) }),
    hostPort: url.slice(at + 1),
  };
}

/**
 * The password in a checked proxy URL, decoded, and the account it is stored under in storage/passwords:
 * `<user>@<host>:<port>` as the URL parser normalises them (host in lower case, port without leading zeros),
 * the proxy's own identity, so that inputs sharing a proxy account share its password. `masked` when the
 * password is the mask as written: a real password of eight asterisks, %-encoded, is not the mask.
 * Undefined when the URL has no password.
 */
export function proxyCredential(url: string): { account: string; password: string; masked: boolean } | undefined {
  const parts = proxyParts(url);
  if (parts?.password === undefined || parts.password === '') return undefined;
  const { username, hostname, port, protocol } = new URL(url);
  // The parser drops a scheme's default port; the account names it all the same.
  const account = `${decodeURIComponent(username)}@${hostname}:${port || (protocol === 'https:' ? '443' : '80')}`;
  return { account, password: decodeURIComponent(parts.password), masked: parts.password === SECRET_MASK };
}

/** The checked proxy URL with its password replaced by `password` (the mask, or the stored clear one), exactly as written otherwise. */
export function withProxyPassword(url: string, password: string): string {
  const parts = proxyParts(url);
  return parts === undefined ? url : `${parts.scheme}${parts.user}:${encodeURIComponent(password)}@${parts.hostPort}`;
}

function shard(raw: string): { index: number; count: number } {
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new ConfigError(`shard must be i/n with 1 <= i <= n <= ${MAX_SHARDS}, for example 2/4, got "${raw}"`, 'shard');
  }
  return { index, count };
}

/**
 * Parameters that name no known one but come within an edit or two of one (`start_day` for `start_days`): such a
 * typo in inputs.conf, which splunkd never validates, silently leaves that parameter at its default. Anything
 * further off is left alone, since splunkd passes keys of its own too.
 */
export function likelyTypos(params: RawParams, known: readonly string[]): Array<{ given: string; meant: string }> {
  const typos: Array<{ given: string; meant: string }> = [];
  for (const given of Object.keys(params)) {
    if (known.includes(given) || given.length < 4) continue;
    // One edit for short names, two for longer ones: short keys of splunkd's own lie close together.
    const meant = known.find((name) => editDistance(given.toLowerCase(), name) <= (given.length < 6 ? 1 : 2));
    if (meant !== undefined) typos.push({ given, meant });
  }
  return typos;
}

/** Levenshtein distance, for the few short names of likelyTypos. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Splunk's own `interval`: seconds, -1 (once at start-up) or a 5-field cron schedule. */
function checkInterval(raw: string): void {
  if (raw === '' || raw === '-1') return;
  if (/^\d+(\.\d+)?$/.test(raw)) {
    if (Number(raw) < MIN_INTERVAL_SECONDS) {
      throw new ConfigError(
        `interval must be at least ${MIN_INTERVAL_SECONDS} seconds (each run polls every tenant; shorter intervals only add load and 429 responses), got ${raw}`,
        'interval',
      );
    }
    return;
  }
  const fields = raw.split(/\s+/);
  if (fields.length === 5) {
    const wrong = fields.findIndex((field, i) => !cronFieldValid(field, CRON_FIELDS[i]!));
    if (wrong < 0) return;
    const { name, min, max } = CRON_FIELDS[wrong]!;
    throw new ConfigError(`interval: "${fields[wrong]}" is not a valid cron ${name} field (${min}-${max}, *, lists, ranges and /steps), in "${raw}"`, 'interval');
  }
  throw new ConfigError(`interval must be a number of seconds (60 or more), -1, or a 5-field cron schedule, got "${raw}"`, 'interval');
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** The five fields of a cron schedule, in order, with their ranges and names (month and weekday names count from min). */
const CRON_FIELDS: ReadonlyArray<{ name: string; min: number; max: number; names?: string[] }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAYS },
];

/** One cron field: a comma list of `*`, `n` or `n-m`, each with an optional `/step`, every number in range. */
function cronFieldValid(field: string, spec: (typeof CRON_FIELDS)[number]): boolean {
  const value = (text: string): number | undefined => {
    const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
    const n = named >= 0 ? named + spec.min : /^\d{1,2}$/.test(text) ? Number(text) : NaN;
    return n >= spec.min && n <= spec.max ? n : undefined;
  };
  return field.split(',').every((item) => {
    const m = /^(\*|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:\/(\d{1,2}))?$/i.exec(item);
    if (!m) return false;
    if (m[4] !== undefined && Number(m[4]) < 1) return false;
    if (m[1] === '*') return true;
    const from = value(m[2]!);
    const to = m[3] === undefined ? from : value(m[3]);
    return from !== undefined && to !== undefined && from <= to;
  });
}

/**
 * Runs each check of a stanza and keeps every ConfigError it throws. Splunk Web shows one validation message
 * per save, so a stanza with three mistakes would otherwise take three rounds of save, read and fix.
 */
class Problems {
  private readonly found: ConfigError[] = [];

  /** The check's result, or undefined once its ConfigError is recorded. */
  check<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.found.push(err);
      return undefined;
    }
  }

  /** One problem is thrown as it is; several as one ConfigError that numbers them (its param: the first's). */
  throwIfAny(): void {
    if (this.found.length === 1) throw this.found[0]!;
    if (this.found.length > 1) {
      const listed = this.found.map((e, i) => `(${i + 1}) ${e.message}`).join('; ');
      throw new ConfigError(`${this.found.length} problems in this input: ${listed}`, this.found[0]!.param);
    }
  }
}

function clientIdOf(params: RawParams): string {
  const clientId = single(params, 'client_id');
  if (clientId === '') throw new ConfigError('client_id is empty; set it to the Sophos Central API client ID (Global Settings > API Credentials Management)', 'client_id');
  if (!CLIENT_ID.test(clientId)) {
    throw new ConfigError('client_id is malformed: it must be the Sophos Central API client ID, letters, digits, "-", "_" or "." only, starting with a letter or digit (up to 128 characters), without spaces', 'client_id');
  }
  return clientId;
}

/** Whether a client_secret value is a secret in clear: neither empty nor a mask (asterisks only). */
export function isClearSecret(value: string): boolean {
  return value !== '' && !/^\*+$/.test(value);
}

/** The clear secret typed into the stanza, or undefined when it is masked or empty. */
function clearSecretOf(params: RawParams): string | undefined {
  const secretRaw = single(params, 'client_secret');
  if (!isClearSecret(secretRaw)) return undefined;
  if (secretRaw.length > MAX_SECRET_LENGTH) {
    throw new ConfigError(`client_secret is longer than ${MAX_SECRET_LENGTH} characters, which splunkd cannot store; paste the secret exactly as Sophos Central shows it`, 'client_secret');
  }
  if (/\s/.test(secretRaw)) {
    throw new ConfigError('client_secret contains whitespace; paste the secret exactly as Sophos Central shows it', 'client_secret');
  }
  return secretRaw;
}

function dataOf(params: RawParams): DataType {
  const dataRaw = single(params, 'data');
  if (!DATA_TYPES.includes(dataRaw as DataType)) {
    throw new ConfigError(
      dataRaw === '' ? `data is empty; set it to one of ${DATA_TYPES.join(', ')}` : `data must be one of ${DATA_TYPES.join(', ')}, got "${dataRaw}"`,
      'data',
    );
  }
  return dataRaw as DataType;
}

function startDaysOf(params: RawParams): number {
  const startDays = integer(params, 'start_days') ?? 1;
  if (startDays < 1 || startDays > 90) {
    throw new ConfigError(`start_days must be between 1 and 90 (Sophos Central keeps alerts for 90 days), got ${startDays}`, 'start_days');
  }
  return startDays;
}

/**
 * splunkd gives every input the parameters of the `[sophos_central]` default stanza it does not set itself: one
 * set there for one data type reaches the inputs of every other.
 */
const INHERITED = ' (or from the [sophos_central] default stanza in inputs.conf, which every input inherits)';

/**
 * Told of a parameter that does not fit the input's data type (one for another data type, a page_size outside
 * this one's range), with what the run does instead; without it such a parameter is refused. A run cannot tell
 * whether the stanza set it or inherited it (INHERITED), and collecting without it loses nothing, so a run
 * goes on and warns where validation refuses.
 */
export type OnMisfit = (problem: ConfigError, instead: string) => void;

/**
 * Whether a parameter set on an input applies to its data type; `data` undefined (itself invalid) passes. One
 * for another data type is refused, or with `onMisfit` left out.
 */
function appliesTo(param: string, forData: DataType, data: DataType | undefined, onMisfit: OnMisfit | undefined, what = ''): boolean {
  if (data === undefined || data === forData) return true;
  const problem = new ConfigError(`${param} applies only to data = ${forData}${what}; remove it from this ${data} input${INHERITED}`, param);
  if (!onMisfit) throw problem;
  onMisfit(problem, `${param} is left out`);
  return false;
}

/** `data` undefined (itself invalid): only the range is checked. */
function overlapMinutesOf(params: RawParams, data: DataType | undefined, onMisfit?: OnMisfit): number | undefined {
  // Whether it applies first: one this input leaves out is left out whatever its value, as exclude_types is.
  if (single(params, 'overlap_minutes') === '' || !appliesTo('overlap_minutes', 'alerts', data, onMisfit)) return undefined;
  const overlap = integer(params, 'overlap_minutes')!;
  if (overlap < 1 || overlap > MAX_OVERLAP_MINUTES) {
    throw new ConfigError(`overlap_minutes must be between 1 and ${MAX_OVERLAP_MINUTES} (one day), got ${overlap}; leave it empty for 15`, 'overlap_minutes');
  }
  return overlap;
}

function tenantConcurrencyOf(params: RawParams): number | undefined {
  const n = integer(params, 'tenant_concurrency');
  if (n !== undefined && (n < 1 || n > MAX_TENANT_CONCURRENCY)) {
    throw new ConfigError(`tenant_concurrency must be between 1 and ${MAX_TENANT_CONCURRENCY}, got ${n}; leave it empty for 4`, 'tenant_concurrency');
  }
  return n;
}

function checkDisjoint(tenants: string[], excludeTenants: string[]): void {
  const included = new Set(tenants.map((t) => t.toLowerCase()));
  const both = excludeTenants.find((t) => included.has(t.toLowerCase()));
  if (both !== undefined) throw new ConfigError(`tenant "${both}" is both in tenants and in exclude_tenants; remove it from one of them`, 'exclude_tenants');
}

/** `data` undefined (itself invalid): only what holds for every data type is checked. */
function excludeTypesOf(params: RawParams, data: DataType | undefined, onMisfit?: OnMisfit): string[] {
  const excludeTypes = list(params, 'exclude_types');
  if (excludeTypes.length > 0 && !appliesTo('exclude_types', 'events', data, onMisfit, ' (SIEM event types)')) return [];
  const badType = excludeTypes.find((t) => !EVENT_TYPE.test(t));
  if (badType !== undefined) {
    throw new ConfigError(`exclude_types: "${badType.slice(0, 80)}" is not a SIEM event type such as Event::Endpoint::UpdateSuccess`, 'exclude_types');
  }
  const bytes = encodeURIComponent(excludeTypes.join(',')).length;
  if (bytes > MAX_EXCLUDE_TYPES_BYTES) {
    throw new ConfigError(
      `exclude_types: ${excludeTypes.length} types take ${bytes} bytes of the request URL, more than the ${MAX_EXCLUDE_TYPES_BYTES} that fit; ` +
        'list fewer types and leave the rest out at search time (NOT type=...)',
      'exclude_types',
    );
  }
  return excludeTypes;
}

/** `data` undefined (itself invalid): only that page_size is a whole number is checked. */
function pageSizeOf(params: RawParams, data: DataType | undefined, onMisfit?: OnMisfit): number | undefined {
  const pageSize = integer(params, 'page_size');
  if (pageSize !== undefined && data !== undefined) {
    const { min, max } = PAGE_SIZE_LIMITS[data];
    if (pageSize < min || pageSize > max) {
      const problem = new ConfigError(`page_size for ${data} must be between ${min} and ${max} (the API's limits), got ${pageSize}; leave it empty for the maximum${INHERITED}`, 'page_size');
      // Only one that another data type takes can be meant for it; 0 or 5000 is wrong for every input.
      if (!onMisfit || !DATA_TYPES.some((other) => pageSize >= PAGE_SIZE_LIMITS[other].min && pageSize <= PAGE_SIZE_LIMITS[other].max)) throw problem;
      // The nearest size the API takes: the maximum (the default) for one too large.
      const fitted = Math.min(max, Math.max(min, pageSize));
      onMisfit(problem, `pages of ${fitted} are asked for`);
      return fitted;
    }
  }
  return pageSize;
}

/**
 * The parameters of a stanza that do not fit its data type (see OnMisfit); none while `data` is itself invalid.
 * A value that is wrong in itself (not a whole number) is validation's to report, not counted here.
 */
export function misfitParams(params: RawParams): string[] {
  let data: DataType;
  try {
    data = dataOf(params);
  } catch {
    return [];
  }
  const found: string[] = [];
  const note: OnMisfit = (problem) => found.push(problem.param!);
  for (const check of [excludeTypesOf, overlapMinutesOf, pageSizeOf]) {
    try {
      check(params, data, note);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
  }
  return found;
}

/** What is wrong with the stanza's `interval`, or undefined when nothing is. */
export function intervalProblem(params: RawParams): string | undefined {
  try {
    checkInterval(single(params, 'interval'));
    return undefined;
  } catch (err) {
    return (err as ConfigError).message;
  }
}

/**
 * Validates one stanza's parameters (as splunkd passes them) into an InputConfig. Throws a ConfigError that
 * names every problem found, not only the first. `interval` is splunkd's to apply, not the run's: a run
 * passes `checkInterval: false` and only warns (see intervalProblem), and `onMisfit` for what does not fit the
 * data type.
 */
export function validateInputParams(params: RawParams, opts: { checkInterval?: boolean; onMisfit?: OnMisfit } = {}): InputConfig {
  const { clientId, clientSecret, data, startDays, tenants, excludeTenants, excludeTypes, overlapMinutes, tenantConcurrency, pageSize, shardValue, proxy } =
    checkParams(params, opts);
  const interval = single(params, 'interval');
  const intervalSeconds = /^\d+(\.\d+)?$/.test(interval) && Number(interval) > 0 ? Number(interval) : undefined;
  return {
    clientId: clientId!,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    data: data!,
    tenants: tenants!,
    excludeTenants: excludeTenants!,
    startDays: startDays!,
    ...(overlapMinutes === undefined ? {} : { overlapMinutes }),
    ...(tenantConcurrency === undefined ? {} : { tenantConcurrency }),
    excludeTypes: excludeTypes!,
    ...(pageSize === undefined ? {} : { pageSize }),
    ...(shardValue === undefined ? {} : { shard: shardValue }),
    ...(proxy === undefined ? {} : { proxyUrl: proxy }),
    ...stanzaOutput(params),
    ...(intervalSeconds === undefined ? {} : { intervalSeconds }),
  };
}

/** Where the stanza's events go: its index and host, when it names them; valid or not, the rest of it. */
export function stanzaOutput(params: RawParams): Pick<InputConfig, 'index' | 'host'> {
  const index = single(params, 'index');
  const host = single(params, 'host');
  return {
    // "default" and splunkd's "$decideOnStartup" placeholder mean: let splunkd decide.
    ...(index === '' || index === 'default' ? {} : { index }),
    ...(host === '' || host.startsWith('$') ? {} : { host }),
  };
}

/**
 * Validates the fields of a create or an edit as `--validate-arguments` gets them, and returns the client
 * ID when they name one. splunkd refuses a create without `client_id` or `data` (required_on_create), but
 * whether an edit's `<items>` holds the whole stored stanza or only the fields sent is not documented
 * (splunk-addon.md §1.6): either of the two left out is taken as unchanged and not checked, so an edit of
 * `interval` alone is not refused. Checks that depend on `data` are then skipped as well.
 */
export function validateInputFields(params: RawParams): { clientId?: string; clientSecret?: string; proxyUrl?: string } {
  const { clientId, clientSecret, proxy } = checkParams(params, { leftOut: ['client_id', 'data'].filter((name) => !(name in params)) });
  return { clientId, ...(clientSecret === undefined ? {} : { clientSecret }), ...(proxy === undefined ? {} : { proxyUrl: proxy }) };
}

/** Every check of validateInputParams; the parameters in `leftOut` are not checked (undefined). */
function checkParams(params: RawParams, opts: { checkInterval?: boolean; onMisfit?: OnMisfit; leftOut?: readonly string[] }) {
  const problems = new Problems();
  const given = (name: string): boolean => !opts.leftOut?.includes(name);
  const clientId = given('client_id') ? problems.check(() => clientIdOf(params)) : undefined;
  const clientSecret = problems.check(() => clearSecretOf(params));
  const data = given('data') ? problems.check(() => dataOf(params)) : undefined;
  const startDays = problems.check(() => startDaysOf(params));
  const tenants = problems.check(() => tenantList(params, 'tenants'));
  const excludeTenants = problems.check(() => tenantList(params, 'exclude_tenants'));
  if (tenants && excludeTenants) problems.check(() => checkDisjoint(tenants, excludeTenants));
  const excludeTypes = problems.check(() => excludeTypesOf(params, data, opts.onMisfit));
  const overlapMinutes = problems.check(() => overlapMinutesOf(params, data, opts.onMisfit));
  const tenantConcurrency = problems.check(() => tenantConcurrencyOf(params));
  const pageSize = problems.check(() => pageSizeOf(params, data, opts.onMisfit));
  const shardRaw = single(params, 'shard');
  const shardValue = shardRaw === '' ? undefined : problems.check(() => shard(shardRaw));
  const proxyRaw = single(params, 'proxy_url');
  const proxy = proxyRaw === '' ? undefined : problems.check(() => proxyUrl(proxyRaw));
  if (opts.checkInterval !== false) problems.check(() => checkInterval(single(params, 'interval')));
  problems.throwIfAny();
  return { clientId, clientSecret, data, startDays, tenants, excludeTenants, excludeTypes, overlapMinutes, tenantConcurrency, pageSize, shardValue, proxy };
}
