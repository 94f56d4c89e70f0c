// sophos_config.ini and splunk_config.ini, with the same sections and keys as Sophos's
// sophos_central_main.py, so its users keep their files. Parsing is pure (text in, typed config out);
// only `load*` touch the file system.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'ini';
import { isUuid, PAGE_SIZE_LIMITS } from '../config/input-config.js';
import { ConfigError } from '../errors.js';

export type IniSections = Record<string, Record<string, string>>;

export interface SophosConfig {
  /** The file read, or undefined when none exists (allowed for --auth env|prompt). */
  path?: string;
  static: { clientId: string; clientSecret: string };
  aws: { secretName: string; regionName: string; clientIdKey: string; clientSecretKey: string };
  /** Undefined: the client's default, the API maximum. */
  pageSize: { inventory?: number; alerts?: number };
}

export interface HecSettings {
  /** Full URL of the HEC event endpoint. */
  url: string;
  ackEnabled: boolean;
  /** Wait for every batch to be indexed (ack true) before a window advances. */
  verifyAck: boolean;
  /** Channel GUID; generated per run when ack is enabled and none is set. */
  channel?: string;
  /** Batches in flight before acknowledgements are polled. */
  ackBatchSize: number;
  /** TLS: verify the server certificate (default true). */
  verifyTls: boolean;
  /** PEM bundle of extra trusted CAs. */
  caFile?: string;
  /** Upper bound of one request body. */
  maxBatchBytes: number;
}

export interface SplunkConfig {
  path?: string;
  static: { token: string };
  aws: { enabled: boolean; secretName: string; regionName: string; tokenKey: string };
  hec?: HecSettings;
  transform: { host?: string; source?: string; sourcetype?: string };
}

const APP_DIR = 'ta-sophos-central';

/** `--config` / `--splunk_config` unset: ./<name> when it exists, else the XDG config dir. */
export function defaultConfigPath(fileName: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const local = join(cwd, fileName);
  if (existsSync(local)) return local;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, APP_DIR, fileName);
}

/**
 * Parses Python configparser syntax (`key: value` or `key = value`, `#`/`;` comment lines, no inline
 * comments) with the ini package. Each value is re-quoted before ini sees it, so `#`, `;` or `=` inside a
 * secret survive exactly as configparser would keep them.
 */
export function parseIni(text: string, label: string): IniSections {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const normalised: string[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (/^\[[^\]]+\]$/.test(line)) {
      normalised.push(line);
      return;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    const key = (m?.[1] ?? line).toLowerCase();
    if (!/^[a-z0-9_.-]+$/.test(key)) {
      throw new ConfigError(`${label}: line ${i + 1} is not "key = value" or "[section]": ${shorten(line)}`);
    }
    normalised.push(`${key}=${JSON.stringify(m?.[2] ?? '')}`);
  });
  const parsed = parse(normalised.join('\n')) as Record<string, unknown>;
  const out: IniSections = {};
  for (const [section, body] of Object.entries(parsed)) {
    if (typeof body !== 'object' || body === null) {
      throw new ConfigError(`${label}: "${section}" appears before any [section] header`);
    }
    out[section] = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

function shorten(line: string): string {
  // A malformed line may hold a secret; show only its start.
  return line.length > 12 ? `${line.slice(0, 12)}...` : line;
}

function readIniFile(path: string, label: string): IniSections {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ConfigError(`${label} ${path}: ${reason}`);
  }
  return parseIni(text, `${label} ${path}`);
}

function get(sections: IniSections, section: string, key: string): string {
  return (sections[section]?.[key] ?? '').trim();
}

function pageSize(sections: IniSections, key: 'inventory_ps' | 'alerts_ps', max: number, label: string) {
  const raw = get(sections, 'page_size', key);
  if (raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new ConfigError(`${label}: [page_size] ${key} must be a whole number from 1 to ${max} (the API maximum), got "${raw}"`, key);
  }
  return n;
}

export function parseSophosConfig(sections: IniSections, label: string, path?: string): SophosConfig {
  return {
    path,
    static: { clientId: get(sections, 'static', 'client_id'), clientSecret: get(sections, 'static', 'client_secret') },
    aws: {
      secretName: get(sections, 'aws', 'secret_name'),
      regionName: get(sections, 'aws', 'region_name'),
      clientIdKey: get(sections, 'aws', 'client_id_key'),
      clientSecretKey: get(sections, 'aws', 'client_secret_key'),
    },
    pageSize: {
      inventory: pageSize(sections, 'inventory_ps', PAGE_SIZE_LIMITS.endpoints.max, label),
      alerts: pageSize(sections, 'alerts_ps', PAGE_SIZE_LIMITS.alerts.max, label),
    },
  };
}

/** Reads sophos_config.ini. A missing file is an error only when `required` (explicit --config, or --auth static|aws). */
export function loadSophosConfig(path: string, opts: { required?: boolean } = {}): SophosConfig {
  const label = 'sophos_config.ini';
  if (!opts.required && !existsSync(path)) return parseSophosConfig({}, label);
  return parseSophosConfig(readIniFile(path, label), `${label} ${path}`, path);
}

function flag(sections: IniSections, section: string, key: string, label: string, dflt: boolean): boolean {
  const raw = get(sections, section, key).toLowerCase();
  if (raw === '') return dflt;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${label}: [${section}] ${key} must be 0 or 1, got "${raw}"`, key);
}

/** The URL requests go to: a bare host:port gets HEC's JSON event endpoint. */
export function hecEventUrl(raw: string, label: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${label}: [splunk_hec] splunk_url is not a URL: "${raw}"`, 'splunk_url');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${label}: [splunk_hec] splunk_url must start with https:// or http://, got "${raw}"`, 'splunk_url');
  }
  if (url.username || url.password) {
    throw new ConfigError(`${label}: [splunk_hec] splunk_url must not carry credentials; put the token in [splunk_static] or [splunk_aws]`, 'splunk_url');
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/services/collector/event';
  return url.toString();
}

const DEFAULT_MAX_BATCH_BYTES = 1_000_000;

export function parseSplunkConfig(sections: IniSections, label: string, path?: string): SplunkConfig {
  const urlRaw = get(sections, 'splunk_hec', 'splunk_url');
  const ackEnabled = flag(sections, 'splunk_hec', 'splunk_ack_enabled', label, false);
  const verifyAck = flag(sections, 'splunk_hec', 'verify_ack_result', label, ackEnabled);
  if (verifyAck && !ackEnabled) {
    throw new ConfigError(`${label}: [splunk_hec] verify_ack_result = 1 needs splunk_ack_enabled = 1`, 'verify_ack_result');
  }
  const channel = get(sections, 'splunk_hec', 'channel');
  if (channel && !isUuid(channel)) {
    throw new ConfigError(`${label}: [splunk_hec] channel must be a GUID such as 0aa1b2c3-0000-4000-8000-000000000001, got "${channel}"`, 'channel');
  }
  const batchRaw = get(sections, 'splunk_hec', 'ack_batch_size');
  const ackBatchSize = batchRaw === '' ? 10 : Number(batchRaw);
  if (!Number.isInteger(ackBatchSize) || ackBatchSize < 1 || ackBatchSize > 1000) {
    throw new ConfigError(`${label}: [splunk_hec] ack_batch_size must be a whole number from 1 to 1000, got "${batchRaw}"`, 'ack_batch_size');
  }
  const bytesRaw = get(sections, 'splunk_hec', 'max_batch_bytes');
  const maxBatchBytes = bytesRaw === '' ? DEFAULT_MAX_BATCH_BYTES : Number(bytesRaw);
  if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1024 || maxBatchBytes > 800 * 1024 * 1024) {
    throw new ConfigError(`${label}: [splunk_hec] max_batch_bytes must be a whole number from 1024 to 838860800, got "${bytesRaw}"`, 'max_batch_bytes');
  }
  const caFile = get(sections, 'splunk_hec', 'ca_file');
  const placeholder = urlRaw.includes('<your_splunk_url>');
  return {
    path,
    static: { token: get(sections, 'splunk_static', 'token') },
    aws: {
      enabled: flag(sections, 'splunk_aws', 'splunk_aws', label, false),
      secretName: get(sections, 'splunk_aws', 'secret_name'),
      regionName: get(sections, 'splunk_aws', 'region_name'),
      tokenKey: get(sections, 'splunk_aws', 'token_key'),
    },
    hec:
      urlRaw === '' || placeholder
        ? undefined
        : {
            url: hecEventUrl(urlRaw, label),
            ackEnabled,
            verifyAck,
            channel: channel || undefined,
            ackBatchSize,
            verifyTls: flag(sections, 'splunk_hec', 'verify_tls', label, true),
            caFile: caFile || undefined,
            maxBatchBytes,
          },
    transform: {
      host: get(sections, 'splunk_transform', 'host') || undefined,
      source: get(sections, 'splunk_transform', 'source') || undefined,
      sourcetype: get(sections, 'splunk_transform', 'sourcetype') || undefined,
    },
  };
}

export function loadSplunkConfig(path: string, opts: { required?: boolean } = {}): SplunkConfig {
  const label = 'splunk_config.ini';
  if (!opts.required && !existsSync(path)) return parseSplunkConfig({}, label);
  return parseSplunkConfig(readIniFile(path, label), `${label} ${path}`, path);
}
