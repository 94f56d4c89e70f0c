// Splunk REST calls the setup page makes through Splunk Web's splunkd proxy. Every call carries Splunk's
// CSRF header (X-Splunk-Form-Key, from the splunkweb_csrf_token_<port> cookie) via getDefaultFetchInit,
// and asks for JSON, since splunkd answers Atom XML otherwise.
import { findErrorMessage, getDefaultFetchInit } from '@splunk/splunk-utils/fetch';
import { createRESTURL } from '@splunk/splunk-utils/url';
import { APP, REALM, SETTINGS_CONF } from '../splunk/names.js';

export class RestError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'RestError';
  }
}

const appUrl = (endpoint: string) => createRESTURL(endpoint, { app: APP, sharing: 'app' });
const form = (fields: Record<string, string>) => new URLSearchParams({ ...fields, output_mode: 'json' }).toString();

async function request(what: string, url: string, init: RequestInit, expected: number[]): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...getDefaultFetchInit(), ...init });
  } catch {
    throw new RestError(`${what} failed: Splunk Web did not answer. Check that you are still logged in.`, 0);
  }
  if (expected.includes(res.status)) {
    if (res.status === 204) return null;
    return res.json().catch(() => {
      throw new RestError(`${what}: Splunk answered HTTP ${res.status} but not in JSON.`, res.status);
    });
  }
  const body = await res.json().catch(() => null);
  const text = (findErrorMessage(body ?? {}) as { text?: string } | undefined)?.text;
  throw new RestError(`${what} failed (HTTP ${res.status}): ${text ?? res.statusText ?? 'no message from Splunk'}`, res.status);
}

/** storage/passwords entity name: realm and username each URL-encoded, joined and ended by ":". */
const passwordUrl = (clientId: string) => appUrl(`storage/passwords/${encodeURIComponent(`${REALM}:${clientId}:`)}`);

interface Entry { name: string; content: Record<string, unknown> }

/** Client IDs stored in realm sophos_central. The listing carries clear_password; it is dropped here, unread. */
export async function listCredentials(): Promise<string[]> {
  const url = `${appUrl('storage/passwords')}?${new URLSearchParams({ output_mode: 'json', count: '0', search: `realm=${REALM}` })}`;
  const body = (await request('Listing stored credentials', url, { method: 'GET' }, [200])) as { entry?: Entry[] } | null;
  return (body?.entry ?? [])
    .filter((e) => e.content.realm === REALM)
    .map((e) => String(e.content.username))
    .sort();
}

export async function addCredential(clientId: string, secret: string): Promise<void> {
  try {
    await request('Adding the credential', appUrl('storage/passwords'), { method: 'POST', body: form({ name: clientId, password: secret, realm: REALM }) }, [200, 201]);
  } catch (e) {
    if (e instanceof RestError && e.status === 409) {
      throw new RestError(`A credential for client ID ${clientId} is already stored: use "Change secret" on its row.`, 409);
    }
    throw e;
  }
}

export async function updateCredential(clientId: string, secret: string): Promise<void> {
  await request('Changing the secret', passwordUrl(clientId), { method: 'POST', body: form({ password: secret }) }, [200]);
}

export async function removeCredential(clientId: string): Promise<void> {
  await request('Removing the credential', `${passwordUrl(clientId)}?output_mode=json`, { method: 'DELETE' }, [200, 204]);
}

export interface Settings { proxyUrl: string; logLevel: string }

export async function readSettings(): Promise<Settings> {
  const url = `${appUrl(`configs/conf-${SETTINGS_CONF}`)}?output_mode=json&count=0`;
  const body = (await request('Reading settings', url, { method: 'GET' }, [200])) as { entry?: Entry[] } | null;
  const stanza = (name: string) => body?.entry?.find((e) => e.name === name)?.content ?? {};
  return { proxyUrl: String(stanza('proxy').proxy_url ?? ''), logLevel: String(stanza('logging').loglevel || 'INFO') };
}

export async function saveSettings(s: Settings): Promise<void> {
  const stanza = (name: string) => appUrl(`configs/conf-${SETTINGS_CONF}/${name}`);
  await request('Saving the proxy', stanza('proxy'), { method: 'POST', body: form({ proxy_url: s.proxyUrl }) }, [200]);
  await request('Saving the log level', stanza('logging'), { method: 'POST', body: form({ loglevel: s.logLevel }) }, [200]);
}

/** Sets [install] is_configured, so Splunk stops sending admins to the setup page. */
export async function markConfigured(): Promise<void> {
  const url = createRESTURL(`apps/local/${APP}`, { app: 'system', sharing: 'system' });
  await request('Marking the app configured', url, { method: 'POST', body: form({ configured: 'true' }) }, [200]);
}
