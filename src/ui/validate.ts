// Pure checks for what an admin types into the setup page, each giving one actionable line.

import { CLIENT_ID } from '../config/input-config.js';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The rule the modular input applies to client_id, so that a stored credential is one an input accepts. */
export function checkClientId(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Enter the client ID of a Sophos Central API credential.';
  if (!CLIENT_ID.test(v)) return 'The client ID may contain only letters, digits, ".", "_" and "-", at most 128 characters (Sophos client IDs are UUIDs).';
  return undefined;
}

export function checkClientSecret(value: string): string | undefined {
  if (!value) return 'Enter the client secret shown when the API credential was created in Sophos Central.';
  if (value.length > 255) return 'The client secret is longer than 255 characters, more than Splunk can store in one entry.';
  return undefined;
}

/** Empty means no proxy. User info is refused: it would put a password into a .conf file in clear text. */
export function checkProxyUrl(value: string): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return 'The proxy must be a URL such as http://proxy.example.com:3128.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'The proxy URL must start with http:// or https://.';
  if (url.username || url.password) return 'Leave user name and password out of the proxy URL: they would be stored in clear text.';
  if (!url.port) return 'Give the proxy port, for example http://proxy.example.com:3128.';
  return undefined;
}

export function checkLogLevel(value: string): string | undefined {
  return (LOG_LEVELS as readonly string[]).includes(value) ? undefined : `The log level must be one of ${LOG_LEVELS.join(', ')}.`;
}
