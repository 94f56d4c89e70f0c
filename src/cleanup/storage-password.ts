// Reads the Sophos Central client secret from splunkd's storage/passwords for the alert action
// (splunk-addon.md §3; realm `sophos_central`, username = client ID, app TA-sophos-central).
// Minimal on purpose: one GET with the alert's session key, to `server_uri` only.
import { existsSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { SplunkdError } from '../errors.js';

export const APP = 'TA-sophos-central';
export const REALM = 'sophos_central';

/** Entity name `realm:username:`, each part URL-encoded, as splunkd and the Python SDK build it. */
export function passwordEntityPath(clientId: string): string {
  return `/servicesNS/nobody/${APP}/storage/passwords/${encodeURIComponent(`${REALM}:${clientId}:`)}`;
}

/**
 * splunkd's default certificate is signed by $SPLUNK_HOME/etc/auth/cacert.pem and names no IP, so the
 * chain is checked against that CA (plus the public roots) while the host-name check is skipped for
 * the loopback `server_uri` that Splunk itself hands us.
 */
function tlsAgent(env: NodeJS.ProcessEnv): Agent {
  const ca = [...rootCertificates];
  const cacert = env.SPLUNK_HOME ? join(env.SPLUNK_HOME, 'etc', 'auth', 'cacert.pem') : undefined;
  if (cacert && existsSync(cacert)) ca.push(readFileSync(cacert, 'utf8'));
  return new Agent({ connect: { ca, checkServerIdentity: () => undefined } });
}

export async function readClientSecret(serverUri: string, sessionKey: string, clientId: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const url = new URL(`${passwordEntityPath(clientId)}?output_mode=json`, serverUri);
  const dispatcher = url.protocol === 'https:' ? tlsAgent(env) : undefined;
  try {
    const res = await request(url, { method: 'GET', headers: { authorization: `Splunk ${sessionKey}` }, dispatcher });
    const text = await res.body.text();
    if (res.statusCode === 404) {
      throw new SplunkdError(`no secret is stored for client ID ${clientId} (realm ${REALM}, app ${APP}); save it on the add-on's setup page or in a sophos_central input`, 404);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new SplunkdError(`splunkd refused to read the stored secret (status ${res.statusCode}); the alert's owner needs the list_storage_passwords capability`, res.statusCode);
    }
    if (res.statusCode !== 200) throw new SplunkdError(`splunkd answered ${res.statusCode} to the storage/passwords read`, res.statusCode);
    const body = JSON.parse(text) as { entry?: Array<{ content?: { clear_password?: unknown } }> };
    const secret = body.entry?.[0]?.content?.clear_password;
    if (typeof secret !== 'string' || secret === '') throw new SplunkdError(`the stored secret for client ID ${clientId} is empty`);
    return secret;
  } catch (err) {
    if (err instanceof SplunkdError) throw err;
    throw new SplunkdError(`cannot read the stored secret from splunkd at ${url.origin}: ${(err as Error).message}`, undefined, { cause: err });
  } finally {
    await dispatcher?.close();
  }
}
