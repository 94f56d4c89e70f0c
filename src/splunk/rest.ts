// A small client for splunkd's REST API at the `server_uri` splunkd gave us (splunk-addon.md §3):
// storage/passwords and the input edit endpoint. Always `output_mode=json` (query on GET, form field on POST),
// since splunkd otherwise answers Atom XML. The session key goes only into the Authorization header; no
// message, error or log line ever carries it.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { parse as parseIni } from 'ini';
import { Agent, request } from 'undici';
import { SplunkdError } from '../errors.js';
import { APP, SCHEME, SETTINGS_CONF } from './names.js';

/** The CN of the certificate every Splunk install generates for splunkd. */
const SPLUNK_DEFAULT_CERT_CN = 'SplunkServerDefaultCert';

export interface SplunkdClientOptions {
  serverUri: string;
  sessionKey: string;
  /** Where Splunk's CA lives: $SPLUNK_HOME/etc/auth/cacert.pem, or server.conf [sslConfig] sslRootCAPath. */
  splunkHome?: string;
  timeoutMs?: number;
}

export interface CaBundle {
  ca?: string;
  /** The file the CA came from, for messages. */
  path?: string;
}

/**
 * The CA that signs splunkd's certificate: server.conf `[sslConfig] sslRootCAPath` when set (system/local, then
 * system/default), otherwise $SPLUNK_HOME/etc/auth/cacert.pem. Without either, Node's public roots apply.
 */
export function splunkdCa(splunkHome: string | undefined): CaBundle {
  if (!splunkHome) return {};
  const expand = (p: string) => p.replace(/\$SPLUNK_HOME|\$\{SPLUNK_HOME\}/g, splunkHome);
  for (const level of ['local', 'default']) {
    try {
      const conf = parseIni(readFileSync(join(splunkHome, 'etc', 'system', level, 'server.conf'), 'utf8'));
      const rootCa = conf.sslConfig?.sslRootCAPath;
      if (typeof rootCa === 'string' && rootCa.trim() !== '') {
        const path = expand(rootCa.trim());
        return { ca: readFileSync(path, 'utf8'), path };
      }
    } catch {
      // no server.conf at this level, or an unreadable CA file there: fall through to Splunk's default CA
    }
  }
  const path = join(splunkHome, 'etc', 'auth', 'cacert.pem');
  try {
    return { ca: readFileSync(path, 'utf8'), path };
  } catch {
    return {};
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

/**
 * Hostname check for splunkd. The chain is always verified against Splunk's CA. server_uri is normally
 * https://127.0.0.1:8089, and the certificate Splunk generates (CN=SplunkServerDefaultCert, no IP SAN) can
 * never match an IP address. For a loopback address only, the add-on therefore also accepts that default
 * certificate or a certificate issued for this machine's host name: the connection cannot leave the host, and
 * the trust comes from the chain. Any other host name gets Node's standard check, unchanged.
 */
export function checkSplunkdIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const standard = checkServerIdentity(host, cert);
  if (!standard || !LOOPBACK.has(host.toLowerCase())) return standard;
  const cn = [cert.subject?.CN].flat()[0];
  if (cn === SPLUNK_DEFAULT_CERT_CN) return undefined;
  if (!checkServerIdentity(hostname(), cert)) return undefined;
  return new Error(`splunkd's certificate (CN=${cn ?? 'none'}) is valid neither for ${host} nor for this host's name ${hostname()}`);
}

interface SplunkdMessages {
  messages?: Array<{ type?: string; text?: string }>;
}

interface PasswordEntry {
  name?: string;
  content?: { realm?: string; username?: string; clear_password?: string };
}

export class SplunkdClient {
  private readonly origin: string;
  private readonly agent: Agent;
  private readonly caPath: string | undefined;

  constructor(private readonly options: SplunkdClientOptions) {
    let url: URL;
    try {
      url = new URL(options.serverUri);
    } catch {
      throw new SplunkdError(`server_uri from splunkd is not a URL: "${options.serverUri}"`);
    }
    this.origin = url.origin;
    const { ca, path } = url.protocol === 'https:' ? splunkdCa(options.splunkHome) : {};
    this.caPath = path;
    this.agent = new Agent({
      connect: { ...(ca ? { ca } : {}), rejectUnauthorized: true, checkServerIdentity: checkSplunkdIdentity },
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
    });
  }

  /** The clear secret stored for realm/username, or undefined when there is none. */
  async getPassword(realm: string, username: string, app = APP): Promise<string | undefined> {
    const body = (await this.call('GET', `/servicesNS/nobody/${encodeURIComponent(app)}/storage/passwords`, {
      search: `realm=${realm}`,
      count: '0',
    })) as { entry?: PasswordEntry[] };
    // `search` matches substrings; keep only the exact realm and username.
    const entry = (body.entry ?? []).find((e) => e.content?.realm === realm && e.content?.username === username);
    return entry?.content?.clear_password;
  }

  /** Creates the entry (201), or on 409 updates the existing one. */
  async storePassword(realm: string, username: string, password: string, app = APP): Promise<'created' | 'updated'> {
    const base = `/servicesNS/nobody/${encodeURIComponent(app)}/storage/passwords`;
    try {
      await this.call('POST', base, { name: username, password, realm });
      return 'created';
    } catch (err) {
      if (!(err instanceof SplunkdError) || err.status !== 409) throw err;
    }
    await this.call('POST', `${base}/${encodeURIComponent(realm)}:${encodeURIComponent(username)}:`, { password });
    return 'updated';
  }

  /**
   * The app-wide settings the setup page writes to ta_sophos_central_settings.conf ([proxy] proxy_url,
   * [logging] loglevel); empty values are left out.
   */
  async getAppSettings(app = APP): Promise<{ proxyUrl?: string; logLevel?: string }> {
    const body = (await this.call('GET', `/servicesNS/nobody/${encodeURIComponent(app)}/configs/conf-${SETTINGS_CONF}`, { count: '0' })) as {
      entry?: Array<{ name?: string; content?: Record<string, unknown> }>;
    };
    const value = (stanza: string, key: string) => {
      const v = (body.entry ?? []).find((e) => e.name === stanza)?.content?.[key];
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
    };
    const proxyUrl = value('proxy', 'proxy_url');
    const logLevel = value('logging', 'loglevel');
    return { ...(proxyUrl ? { proxyUrl } : {}), ...(logLevel ? { logLevel } : {}) };
  }

  /** The names of every `[<scheme>://<name>]` stanza in any app, disabled ones included. */
  async listInputs(scheme = SCHEME): Promise<Set<string>> {
    // count=0: splunkd lists 30 entries unless told otherwise.
    const body = (await this.call('GET', `/servicesNS/nobody/-/data/inputs/${scheme}`, { count: '0' })) as {
      entry?: Array<{ name?: unknown }>;
    };
    if (!Array.isArray(body.entry)) throw new SplunkdError(`splunkd listed the ${scheme} inputs without entries`);
    return new Set(body.entry.map((e) => e.name).filter((name): name is string => typeof name === 'string'));
  }

  /** Edits fields of a `[<scheme>://<name>]` stanza through data/inputs (the same as an edit in Splunk Web). */
  async updateInput(app: string, name: string, fields: Record<string, string>, scheme = SCHEME): Promise<void> {
    await this.call('POST', `/servicesNS/nobody/${encodeURIComponent(app)}/data/inputs/${scheme}/${encodeURIComponent(name)}`, fields);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async call(method: 'GET' | 'POST', path: string, fields: Record<string, string>): Promise<unknown> {
    const params = new URLSearchParams({ ...fields, output_mode: 'json' });
    const what = `${method} ${path}`;
    let res;
    try {
      res = await request(`${this.origin}${path}${method === 'GET' ? `?${params}` : ''}`, {
        method,
        dispatcher: this.agent,
        headers: {
          authorization: `Splunk ${this.options.sessionKey}`,
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: params.toString() } : {}),
      });
    } catch (err) {
      const reason = (err as Error).message;
      const tls = /certificate|self.signed|issuer|CERT_|SSL|TLS/i.test(`${reason} ${(err as { code?: string }).code ?? ''}`);
      const hint = tls
        ? `; the add-on verifies splunkd's certificate against ${this.caPath ?? "Node's public CAs (no $SPLUNK_HOME/etc/auth/cacert.pem found)"}`
        : '';
      throw new SplunkdError(`cannot reach splunkd at ${this.origin} (${what}): ${reason}${hint}`, undefined, { cause: err });
    }
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.statusCode >= 200 && res.statusCode < 300) {
      if (json === undefined) throw new SplunkdError(`splunkd answered ${what} with a body that is not JSON`, res.statusCode);
      return json;
    }
    const detail = ((json as SplunkdMessages | undefined)?.messages ?? []).map((m) => m.text).filter(Boolean).join('; ');
    const lead = res.statusCode === 401 ? 'splunkd refused the session key' : 'splunkd refused';
    throw new SplunkdError(`${lead} (${res.statusCode}) on ${what}${detail ? `: ${detail}` : ''}`, res.statusCode);
  }
}
