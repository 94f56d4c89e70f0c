// Small HTTP helpers for the emulator's own tests: a token, and JSON GET/DELETE with the right headers.
import type { Emulator } from './index.js';

export interface Res {
  status: number;
  headers: Headers;
  /** The parsed JSON body; tests read it freely. */
  body: any;
}

export async function token(emu: Emulator): Promise<string> {
  const res = await fetch(`${emu.authUrl}/api/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: emu.clientId, client_secret: emu.clientSecret, scope: 'token' }),
  });
  if (res.status !== 200) throw new Error(`token: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function call(url: string, headers: Record<string, string>, method = 'GET'): Promise<Res> {
  const res = await fetch(url, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** A caller bound to one tenant: `get('/endpoint/v1/endpoints', {pageSize: '5'})`. */
export function tenantApi(emu: Emulator, tok: string, tenantIndex = 0) {
  const tenant = emu.tenants[tenantIndex]!;
  const headers = { authorization: `Bearer ${tok}`, 'x-tenant-id': tenant.id };
  const url = (path: string, q: Record<string, string> = {}): string => {
    const qs = new URLSearchParams(q).toString();
    return `${tenant.apiHost}${path}${qs ? `?${qs}` : ''}`;
  };
  return {
    tenant,
    get: (path: string, q?: Record<string, string>) => call(url(path, q), headers),
    del: (path: string) => call(url(path), headers, 'DELETE'),
  };
}
