// A small client for splunkd's REST API at the `server_uri` splunkd gave us (splunk-addon.md §3):
// storage/passwords and the input edit endpoint. Always `output_mode=json` (query on GET, form field on POST),
// since splunkd otherwise answers Atom XML. The session key goes only into the Authorization header; no
// message, error or log line ever carries it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { AbortedError, SplunkdError } from '../errors.js';
import { confStanza } from './conf.js';
import { APP, SCHEME, SETTINGS_CONF } from './names.js';


export interface SplunkdClientOptions {
  serverUri: string;
  sessionKey: string;
  /** Where Splunk's CA lives: $SPLUNK_HOME/etc/auth/cacert.pem, or server.conf [sslConfig] sslRootCAPath. */
  splunkHome?: string;
  timeoutMs?: number;
  /** Aborted (SIGTERM): a call in progress ends at once with an AbortedError. */
  signal?: AbortSignal;
}

export interface CaBundle {
  ca?: string;
  /** The file the CA came from, for messages. */
  path?: string;
}

/**
 * server.conf in splunkd's global precedence (the Admin Manual's "Configuration file precedence"): system/local,
 * then every app's local, then every app's default (apps in ASCII order, the first the highest), then
 * system/default. A deployment app is where many sites ship their [sslConfig].
 */
function serverConfFiles(splunkHome: string): string[] {
  let apps: string[] = [];
  try {
    apps = readdirSync(join(splunkHome, 'etc', 'apps')).sort();
  } catch {
    // no apps directory: the system files alone
  }
  return [
    join(splunkHome, 'etc', 'system', 'local', 'server.conf'),
    ...apps.map((app) => join(splunkHome, 'etc', 'apps', app, 'local', 'server.conf')),
    ...apps.map((app) => join(splunkHome, 'etc', 'apps', app, 'default', 'server.conf')),
    join(splunkHome, 'etc', 'system', 'default', 'server.conf'),
  ];
}

/**
 * The [sslConfig] settings splunkd runs with: each key from the highest-precedence file that sets it, an empty
 * value included (`sslRootCAPath =` in system/local unsets an app's; callers read an empty value as unset).
 */
function sslConfig(splunkHome: string): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const file of serverConfFiles(splunkHome)) {
    // Most apps have no server.conf, and a stat costs far less than a failed read (150 apps: 10-17 ms, 4-8 with it).
    if (!existsSync(file)) continue;
    let stanza: Record<string, string> | undefined;
    try {
      stanza = confStanza(readFileSync(file, 'utf8'), 'sslConfig');
    } catch {
      continue;
    }
    for (const [key, value] of Object.entries(stanza ?? {})) {
      if (!(key in merged)) merged[key] = value;
    }
  }
  return merged;
}

/**
 * The CA that signs splunkd's certificate: server.conf `[sslConfig] sslRootCAPath`, else the older
 * `caCertFile` in `caPath` (default $SPLUNK_HOME/etc/auth), else $SPLUNK_HOME/etc/auth/cacert.pem, Splunk's
 * default (splunk-addon.md §3). A configured file that cannot be read falls back to that default. Without any,
 * Node's public roots apply.
 */
export function splunkdCa(splunkHome: string | undefined): CaBundle {
  if (!splunkHome) return {};
  const expand = (p: string) => p.replace(/\$SPLUNK_HOME|\$\{SPLUNK_HOME\}/g, splunkHome);
  const auth = join(splunkHome, 'etc', 'auth');
  const conf = sslConfig(splunkHome);
  const configured = conf.sslRootCAPath
    ? expand(conf.sslRootCAPath)
    : conf.caCertFile && resolve(conf.caPath ? expand(conf.caPath) : auth, expand(conf.caCertFile));
  for (const path of [configured, join(auth, 'cacert.pem')]) {
    if (!path) continue;
    try {
      return { ca: readFileSync(path, 'utf8'), path };
    } catch {
      // unreadable: the next candidate
    }
  }
  return {};
}

const LOOPBACK = ['127.0.0.1', '::1', '[::1]', 'localhost'];

let ownNames: Set<string> | undefined;

/** Loopback, this machine's host name and the addresses of its interfaces: a connection to them stays on this host. */
function isThisHost(host: string): boolean {
  ownNames ??= new Set(
    [...LOOPBACK, hostname(), ...Object.values(networkInterfaces()).flatMap((ifaces) => (ifaces ?? []).map((i) => i.address))].map((n) =>
      n.toLowerCase(),
    ),
  );
  const h = host.toLowerCase();
  return ownNames.has(h) || ownNames.has(h.replace(/^\[(.*)\]$/, '$1'));
}

/**
 * Hostname check for splunkd. The chain is always verified against splunkd's CA. server_uri is normally
 * https://127.0.0.1:8089 (or this host's own address when splunkd's management port is bound to one), which
 * no certificate names: Splunk's default one (CN=SplunkServerDefaultCert) has no IP SAN, and one an admin
 * installs names the host, often by a fully qualified name this host's hostname() does not return. For an
 * address of this host only, the name check is therefore left out and the trust comes from the chain alone:
 * the connection cannot leave the host (splunk-addon.md §3 recommends exactly this). Any other host gets
 * Node's standard check, unchanged.
 */
export function checkSplunkdIdentity(host: string, cert: PeerCertificate): Error | undefined {
  return isThisHost(host) ? undefined : checkServerIdentity(host, cert);
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
    return (await this.passwordEntry(realm, username, app))?.content?.clear_password;
  }

  /** Creates the entry (201), or on 409 updates the existing one; with `createOnly`, leaves it and says `exists`. */
  async storePassword(realm: string, username: string, password: string, app = APP, opts: { createOnly?: boolean } = {}): Promise<'created' | 'updated' | 'exists'> {
    const base = `/servicesNS/nobody/${encodeURIComponent(app)}/storage/passwords`;
    try {
      await this.call('POST', base, { name: username, password, realm });
      return 'created';
    } catch (err) {
      if (!(err instanceof SplunkdError) || err.status !== 409) throw err;
    }
    if (opts.createOnly) return 'exists';
    // Updated under the name splunkd lists it by, as solnlib does (splunk-addon.md §3): how a colon in a
    // username (a proxy account's port) is escaped in an entity name is not documented, so it is not built here.
    const name = (await this.passwordEntry(realm, username, app))?.name;
    if (name === undefined) throw new SplunkdError(`splunkd said the password for ${username} in realm ${realm} exists but does not list it`);
    await this.call('POST', `${base}/${encodeURIComponent(name)}`, { password });
    return 'updated';
  }

  private async passwordEntry(realm: string, username: string, app: string): Promise<PasswordEntry | undefined> {
    const body = (await this.call('GET', `/servicesNS/nobody/${encodeURIComponent(app)}/storage/passwords`, {
      search: `realm=${realm}`,
      count: '0',
    })) as { entry?: PasswordEntry[] };
    // `search` matches substrings; keep only the exact realm and username.
    return (body.entry ?? []).find((e) => e.content?.realm === realm && e.content?.username === username);
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
    const entries = await this.inputEntries(scheme);
    return new Set(entries.map((e) => e.name).filter((name): name is string => typeof name === 'string'));
  }

  /** The stored fields of the `[<scheme>://<name>]` stanza (in any app), or undefined when there is none. */
  async inputFields(name: string, scheme = SCHEME): Promise<Record<string, unknown> | undefined> {
    const entry = (await this.inputEntries(scheme)).find((e) => e.name === name);
    const content = entry?.content;
    return content !== null && typeof content === 'object' ? (content as Record<string, unknown>) : undefined;
  }

  private async inputEntries(scheme: string): Promise<Array<{ name?: unknown; content?: unknown }>> {
    // count=0: splunkd lists 30 entries unless told otherwise.
    const body = (await this.call('GET', `/servicesNS/nobody/-/data/inputs/${scheme}`, { count: '0' })) as { entry?: unknown };
    if (!Array.isArray(body.entry)) throw new SplunkdError(`splunkd listed the ${scheme} inputs without entries`);
    return body.entry as Array<{ name?: unknown; content?: unknown }>;
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
    let res: Dispatcher.ResponseData | undefined;
    let text: string;
    try {
      res = await this.agent.request({
        origin: this.origin,
        path: `${path}${method === 'GET' ? `?${params}` : ''}`,
        method,
        headers: {
          authorization: `Splunk ${this.options.sessionKey}`,
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: params.toString() } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
      text = await res.body.text();
    } catch (err) {
      // A stop cuts the request or its answer short alike.
      if (this.options.signal?.aborted) throw new AbortedError(`stopped during ${what}`, { cause: err });
      if (res !== undefined) throw new SplunkdError(`splunkd's answer to ${what} broke off: ${(err as Error).message}`, res.statusCode, { cause: err });
      const reason = (err as Error).message;
      const tls = /certificate|self.signed|issuer|CERT_|SSL|TLS/i.test(`${reason} ${(err as { code?: string }).code ?? ''}`);
      const hint = tls
        ? `; the add-on verifies splunkd's certificate against ${this.caPath ?? "Node's public CAs (no $SPLUNK_HOME/etc/auth/cacert.pem found)"}`
        : '';
      throw new SplunkdError(`cannot reach splunkd at ${this.origin} (${what}): ${reason}${hint}`, undefined, { cause: err });
    }
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
