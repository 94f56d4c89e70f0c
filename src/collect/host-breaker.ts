// Which data-region hosts a run has given up on. With a region down, each of its tenants would hold a
// collection slot for the whole retry budget (about five minutes) before failing, and the tenants of the
// healthy regions would wait behind them: a partner with hundreds of tenants there would wait for hours.
import {
  BadRequestError,
  CentralError,
  describeError,
  ForbiddenError,
  HostDownError,
  NetworkError,
  NotFoundError,
  RateLimitedError,
  ServerError,
  TimeoutError,
} from '../errors.js';

/** Tenants in a row that fail on one host with errors of the host itself before the run gives it up. */
export const HOST_FAILURES_TO_GIVE_UP = 3;

/**
 * A request to the tenant's region host: it carries the tenant's ID. The token and whoami requests a tenant
 * may also wait on go to other hosts, and their failures say nothing about this one.
 */
function ofTenantHost(err: unknown): err is CentralError {
  return err instanceof CentralError && err.tenantId !== undefined;
}

/**
 * A 500 with Sophos's own error body (it has a `correlationId`, sophos-central-api.md §7; an `error` alone is
 * what generic servers send too): the API itself answered, failing on that tenant's request, as it may for one
 * tenant's data. A gateway's 502-504, or a 5xx without that body, is not.
 */
function isTenantServerError(err: ServerError): boolean {
  return err.status === 500 && err.correlationId !== undefined;
}

/** Failures that say the host, not the tenant, is unwell: no answer, or 5xx, after every retry. */
function isHostFailure(err: unknown): boolean {
  return ofTenantHost(err) && (err instanceof TimeoutError || err instanceof NetworkError || (err instanceof ServerError && !isTenantServerError(err)));
}

/** Failures that are the host's answer about the tenant: the host is up. */
function isHostAnswer(err: unknown): boolean {
  return (
    ofTenantHost(err) &&
    (err instanceof ForbiddenError ||
      err instanceof NotFoundError ||
      err instanceof BadRequestError ||
      err instanceof RateLimitedError ||
      (err instanceof ServerError && isTenantServerError(err)))
  );
}

/** Pure per-run bookkeeping; the run asks it before each tenant and tells it each outcome. */
export class HostBreaker {
  private readonly inARow = new Map<string, { count: number; last: unknown }>();

  /** The error a tenant on `host` fails with at once when the run has given the host up, else undefined. */
  check(host: string): HostDownError | undefined {
    const state = this.inARow.get(host);
    if (!state || state.count < HOST_FAILURES_TO_GIVE_UP) return undefined;
    return new HostDownError(`not tried: ${state.count} tenants in a row failed on ${host} this run (last: ${describeError(state.last)}); collected again next run`);
  }

  /**
   * A tenant's outcome on `host`. A host failure adds to the count; a success, or an answer about the tenant
   * itself (403, 404, 400, 429, a 500 with Sophos's error body: the host is answering), clears it; anything else (the sink, a checkpoint, the
   * token service, a tenant not tried) says nothing about the host.
   */
  record(host: string, err?: unknown): boolean {
    if (err === undefined || isHostAnswer(err)) {
      this.inARow.delete(host);
      return false;
    }
    if (!isHostFailure(err)) return false;
    const state = this.inARow.get(host) ?? { count: 0, last: err };
    state.count++;
    state.last = err;
    this.inARow.set(host, state);
    // True once, as the host is given up: the run says so in one line.
    return state.count === HOST_FAILURES_TO_GIVE_UP;
  }
}
