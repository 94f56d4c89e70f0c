// The logging surface every module uses. The modular input writes one-line, severity-prefixed
// messages to stderr (splunkd.log) and to $SPLUNK_HOME/var/log/splunk/ta_sophos_central.log;
// the CLI writes to stderr at --log_level. Secrets never reach a logger.
import { oneLine } from './errors.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger writes a message when its level ranks at least as high as the logger's own level. */
export const LEVEL_RANK: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };

function isLogLevel(value: string): value is LogLevel {
  return value in LEVEL_RANK;
}

/** Python logging's names, which Splunk add-ons and sophos_central_main.py use, for ours. */
const PYTHON_LEVELS: Record<string, LogLevel> = { WARNING: 'WARN', CRITICAL: 'ERROR' };

/** A level named ours or Python's way, in any case; undefined for anything else. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.trim().toUpperCase();
  return isLogLevel(v) ? v : PYTHON_LEVELS[v];
}

// Defence in depth: callers never log secrets, but a message built from a foreign error could carry one.
const REDACTIONS: Array<[RegExp, string]> = [
  // Up to a blank or a quote: a splunkd session key holds characters such as ^ besides base64's.
  [/\b(Bearer|Splunk|Basic)\s+[^\s"'<>]{8,}/g, '$1 <redacted>'],
  // The <input> document's own element, should its text ever reach a message.
  [/(<session_key>)[^<]*/g, '$1<redacted>'],
  [
    // Not after a slash: `POST /api/v2/oauth2/token: ECONNREFUSED` names a path, and the error code after it matters.
    /(?<!\/)\b(client_secret|password|clear_password|secret|session_key|sessionKey|access_token|refresh_token|token)(["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s"'&,;}]+)/gi,
    '$1$2"<redacted>"',
  ],
  // User info up to its last @ (a password may hold an unencoded / or @), not past a blank or a quote. Both
  // parts are bounded so that a long line full of :// costs linear time: no scheme is that long, and a password
  // over 255 characters is refused.
  [/(\b[a-z][a-z0-9+.-]{0,31}:\/\/)(?:[^\s@"'<>]{1,300}@)+/gi, '$1<redacted>@'],
];

/** Removes anything that looks like a bearer token, a session key, a secret field or URL credentials. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const [re, by] of REDACTIONS) out = out.replace(re, by);
  return out;
}

/** What every logger writes for a message: secrets redacted, on one line. */
export function logText(message: string): string {
  return oneLine(redactSecrets(message));
}
