// Which proxy, if any, carries a request. An explicit proxy_url wins; otherwise the usual
// HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables (lower-case first, as curl reads them).
// undici 6's EnvHttpProxyAgent does the same but prints an "experimental" warning to stderr,
// which would land in splunkd.log as an error line on every run, so the small rule lives here.

import { isIP } from 'node:net';

type Env = Record<string, string | undefined>;

function envVar(env: Env, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value?.trim() || undefined;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** True when NO_PROXY says `target` is reached directly. */
export function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || defaultPort(target.protocol);
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    let entryPort: string | undefined;
    const portMatch = /^(.*[^:]):(\d+)$/.exec(entry);
    if (portMatch && !isIP(entry)) {
      entry = portMatch[1] ?? entry;
      entryPort = portMatch[2];
    }
    entry = entry.replace(/^\[|\]$/g, '').replace(/^\*?\./, '.');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (entry.startsWith('.') ? host.endsWith(entry) || host === entry.slice(1) : host === entry || host.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy URL for a request to `target`, or undefined to connect directly. */
export function proxyFor(target: URL, proxyUrl: string | undefined, env: Env): string | undefined {
  if (proxyUrl) return proxyUrl;
  const fromEnv =
    target.protocol === 'https:' ? (envVar(env, 'https_proxy') ?? envVar(env, 'all_proxy')) : (envVar(env, 'http_proxy') ?? envVar(env, 'all_proxy'));
  if (!fromEnv || bypassesProxy(target, envVar(env, 'no_proxy'))) return undefined;
  return fromEnv;
}

/** A proxy URL fit for a log line: credentials removed. */
export function redactProxyUrl(proxyUrl: string): string {
  try {
    const url = new URL(proxyUrl);
    return `${url.protocol}//${url.host}`;
  } catch {
    return '<unparsable proxy URL>';
  }
}
