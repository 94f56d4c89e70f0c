// Every failure the add-on can raise, in one module (the undici errors pattern):
// a stable string `code`, structured facts as fields, never a secret in a field or a message.
// `describeError` is the one place that turns them into a one-line reason; the exit codes are below.

export class TaError extends Error {
  readonly code: string = 'TA_ERR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: an input stanza, a CLI flag, an ini file. The message is shown to a Splunk admin as is. */
export class ConfigError extends TaError {
  override readonly code = 'TA_ERR_CONFIG';
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

/** What splunkd wrote on stdin (`<input>`, `<items>`) is missing, incomplete or malformed. */
export class ProtocolError extends TaError {
  override readonly code = 'TA_ERR_PROTOCOL';
}

/** Facts a Sophos Central API error response carries. */
export interface CentralErrorFacts {
  status?: number;
  /** The `error` field of the Sophos error body (for example `notFound`), or `errorCode` of id.sophos.com. */
  sophosError?: string;
  correlationId?: string;
  requestId?: string;
  /** Method and URL path (no query string, which may carry a cursor but never a secret) of the failed request. */
  request?: string;
  tenantId?: string;
  cause?: unknown;
}

export class CentralError extends TaError {
  override readonly code: string = 'TA_ERR_CENTRAL';
  readonly status?: number;
  readonly sophosError?: string;
  readonly correlationId?: string;
  readonly requestId?: string;
  readonly request?: string;
  readonly tenantId?: string;
  constructor(message: string, facts: CentralErrorFacts = {}) {
    super(message, facts.cause === undefined ? undefined : { cause: facts.cause });
    this.status = facts.status;
    this.sophosError = facts.sophosError;
    this.correlationId = facts.correlationId;
    this.requestId = facts.requestId;
    this.request = facts.request;
    this.tenantId = facts.tenantId;
  }
}

/** id.sophos.com refused the client ID or secret. Never retried. */
export class BadCredentialsError extends CentralError {
  override readonly code = 'TA_ERR_BAD_CREDENTIALS';
}

/** 401 after a fresh token, or 403: the credential may not reach this tenant or API. */
export class ForbiddenError extends CentralError {
  override readonly code = 'TA_ERR_FORBIDDEN';
}

export class NotFoundError extends CentralError {
  override readonly code = 'TA_ERR_NOT_FOUND';
}

/** 400 and other 4xx: the request itself is wrong; retrying cannot help. */
export class BadRequestError extends CentralError {
  override readonly code = 'TA_ERR_BAD_REQUEST';
}

/** 429 that outlasted the retry budget. */
export class RateLimitedError extends CentralError {
  override readonly code = 'TA_ERR_RATE_LIMITED';
  readonly retryAfterMs?: number;
  constructor(message: string, facts: CentralErrorFacts & { retryAfterMs?: number } = {}) {
    super(message, facts);
    this.retryAfterMs = facts.retryAfterMs;
  }
}

/** 5xx that outlasted the retry budget. */
export class ServerError extends CentralError {
  override readonly code = 'TA_ERR_SERVER';
}

/** A request that took longer than the client timeout, after retries. */
export class TimeoutError extends CentralError {
  override readonly code = 'TA_ERR_TIMEOUT';
}

/** Connection refused, reset or dropped, a truncated or unparsable body, after retries. */
export class NetworkError extends CentralError {
  override readonly code = 'TA_ERR_NETWORK';
  /** The status a proxy answered CONNECT with (407: it refused the user and password), when that was the failure. */
  readonly proxyStatus?: number;
  constructor(message: string, facts: CentralErrorFacts & { proxyStatus?: number } = {}) {
    super(message, facts);
    this.proxyStatus = facts.proxyStatus;
  }
}

/** A region host given up for the rest of a run after tenants in a row failed there (HostBreaker). No request sent. */
export class HostDownError extends CentralError {
  override readonly code = 'TA_ERR_HOST_DOWN';
}

/** An apiHost from whoami or a tenant list that is not a Sophos Central region host. No token is sent to it. */
export class RefusedHostError extends CentralError {
  override readonly code = 'TA_ERR_REFUSED_HOST';
  constructor(
    message: string,
    readonly host: string,
    facts: CentralErrorFacts = {},
  ) {
    super(message, facts);
  }
}

/** splunkd's REST API (storage/passwords, input edit) failed. */
export class SplunkdError extends TaError {
  override readonly code = 'TA_ERR_SPLUNKD';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Splunk HTTP Event Collector refused or failed; `hecCode` is HEC's own status code. */
export class HecError extends TaError {
  override readonly code = 'TA_ERR_HEC';
  constructor(
    message: string,
    readonly status?: number,
    readonly hecCode?: number,
    readonly fatal = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A secret could not be obtained from its source (environment, prompt, AWS Secrets Manager). Never carries the secret. */
export class CredentialError extends TaError {
  override readonly code = 'TA_ERR_CREDENTIALS';
}

/** Clean-up input that cannot be acted on safely: a bad AD export, a stale plan, an unreadable file. */
export class CleanupError extends TaError {
  override readonly code = 'TA_ERR_CLEANUP';
}

/**
 * A checkpoint cannot be read or written. `directory`: checkpoint_dir (or the CLI's state directory) itself
 * is unusable (a full disk, read-only, not writable), which every tenant of the run shares, so the run stops
 * at the first; `file`: one tenant's file (held open by another program, left unreadable), that tenant's failure.
 */
export class CheckpointError extends TaError {
  override readonly code = 'TA_ERR_CHECKPOINT';
  constructor(
    message: string,
    readonly scope: 'directory' | 'file',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A saved checkpoint could not be read. The store has already set the file aside (the message names where),
 * so the next load is a clean miss; the collector restarts from its safe point and says so in a health record.
 */
export class CorruptCheckpointError extends TaError {
  override readonly code = 'TA_ERR_CHECKPOINT_CORRUPT';
}

/** The process was asked to stop (SIGTERM) and gave up the current page consistently. */
export class AbortedError extends TaError {
  override readonly code = 'TA_ERR_ABORTED';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** The CLI and the clean-up: some tenants or devices succeeded, some failed. */
export const EXIT_PARTIAL = 2;

/** The `error_code` health records carry: the typed error's code, else TA_ERR_UNEXPECTED. */
export function errorCode(err: unknown): string {
  return err instanceof TaError ? err.code : 'TA_ERR_UNEXPECTED';
}

/** One line for stderr, a Splunk validation message or a CLI error: no stack, no secret. */
export function describeError(err: unknown): string {
  if (err instanceof CentralError) {
    const facts = [
      err.status === undefined ? undefined : `status ${err.status}`,
      err.sophosError && `error ${err.sophosError}`,
      err.tenantId && `tenant ${err.tenantId}`,
      err.request,
      err.correlationId && `correlationId ${err.correlationId}`,
      err.requestId && `requestId ${err.requestId}`,
    ].filter(Boolean);
    return oneLine(facts.length ? `${err.message} (${facts.join(', ')})` : err.message);
  }
  if (err instanceof TaError) return oneLine(err.message);
  if (err instanceof Error) return oneLine(`${err.name}: ${err.message}`);
  return oneLine(String(err));
}

/** Newlines collapse to spaces, so a multi-line message never splits a log or an error line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
