// Base URLs and the region host rule of interfaces.md ("Sophos Central base URLs"). Pure: the
// environment is passed in, so the rule is tested as a table of cases.

import { ConfigError, RefusedHostError } from '../errors.js';

const DEFAULT_AUTH_URL = 'https://id.sophos.com';
const DEFAULT_API_URL = 'https://api.central.sophos.com';

// Region names seen so far are two letters and two digits (eu01, us03, in01); Sophos adds regions,
// so the rule takes the shape rather than a list.
const REGION_HOST = /^api-([a-z]{2}\d{2})\.central\.sophos\.com$/;

export interface BaseUrls {
  /** Origin of the token service; the token is at `${authUrl}/api/v2/oauth2/token`. */
  authUrl: string;
  /** Origin of the global API (whoami, partner and organization tenant lists). */
  apiUrl: string;
  /** Hostname of an overridden global API: region hosts on this hostname are accepted too. */
  overrideHostname?: string;
  /** Its scheme: an https one accepts region hosts there over https only, so no token goes out in clear. */
  overrideProtocol?: string;
}

type Env = Record<string, string | undefined>;

/** Options win over SOPHOS_CENTRAL_AUTH_URL / SOPHOS_CENTRAL_API_URL, which win over the real Sophos URLs. */
export function resolveBaseUrls(opts: { authUrl?: string; apiUrl?: string }, env: Env): BaseUrls {
  const authUrl = opts.authUrl || env.SOPHOS_CENTRAL_AUTH_URL || undefined;
  const apiUrl = opts.apiUrl || env.SOPHOS_CENTRAL_API_URL || undefined;
  const api = apiUrl === undefined ? undefined : parseBase(apiUrl, opts.apiUrl ? 'apiUrl' : 'SOPHOS_CENTRAL_API_URL');
  return {
    authUrl: authUrl === undefined ? DEFAULT_AUTH_URL : parseBase(authUrl, opts.authUrl ? 'authUrl' : 'SOPHOS_CENTRAL_AUTH_URL').origin,
    apiUrl: api?.origin ?? DEFAULT_API_URL,
    overrideHostname: api?.hostname,
    overrideProtocol: api?.protocol,
  };
}

function parseBase(value: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${name} is not a URL: expected http(s)://host[:port]`, name);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http or https URL, not ${url.protocol}`, name);
  }
  return url;
}

/**
 * Returns the origin (no trailing slash) of an apiHost sent by whoami or a tenant list, or throws
 * RefusedHostError. Accepted: `https://api-<region>.central.sophos.com`, or any host with the same
 * hostname as an overridden global API URL. Nothing else, so no token goes anywhere else.
 */
export function checkRegionHost(apiHost: unknown, base: BaseUrls, tenantId?: string): string {
  const shown = typeof apiHost === 'string' ? apiHost.slice(0, 200) : String(apiHost);
  const refuse = (why: string): never => {
    throw new RefusedHostError(
      `Refused Sophos Central API host ${JSON.stringify(shown)}: ${why}; no request or token is sent to it`,
      shown,
      { tenantId },
    );
  };
  if (typeof apiHost !== 'string' || apiHost === '') return refuse('missing');
  let url: URL;
  try {
    url = new URL(apiHost.trim());
  } catch {
    return refuse('not a URL');
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return refuse('it must be a bare scheme://host[:port]');
  }
  if (base.overrideHostname !== undefined && url.hostname === base.overrideHostname) {
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('not http(s)');
    if (base.overrideProtocol === 'https:' && url.protocol !== 'https:') return refuse(`plain http to the https SOPHOS_CENTRAL_API_URL host ${base.overrideHostname}`);
    return url.origin;
  }
  if (url.protocol !== 'https:' || url.port !== '' || !REGION_HOST.test(url.hostname)) {
    return refuse(
      base.overrideHostname === undefined
        ? 'not https://api-<region>.central.sophos.com'
        : `neither https://api-<region>.central.sophos.com nor the SOPHOS_CENTRAL_API_URL host ${base.overrideHostname}`,
    );
  }
  return url.origin;
}

/** The region name in a host such as https://api-eu01.central.sophos.com, else undefined. */
export function regionOfHost(origin: string): string | undefined {
  try {
    return REGION_HOST.exec(new URL(origin).hostname)?.[1];
  } catch {
    return undefined;
  }
}
