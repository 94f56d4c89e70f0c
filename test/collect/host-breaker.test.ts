import { describe, expect, it } from 'vitest';
import { HostBreaker, HOST_FAILURES_TO_GIVE_UP } from '../../src/collect/host-breaker.js';
import { BadCredentialsError, BadRequestError, ForbiddenError, HostDownError, NetworkError, RateLimitedError, ServerError, TimeoutError } from '../../src/errors.js';

const US = 'https://api-us01.central.sophos.com';
const EU = 'https://api-eu01.central.sophos.com';
// Errors of requests to a tenant's region host carry the tenant's ID (the transport's facts).
const onHost = { tenantId: 't1', request: 'GET /common/v1/alerts' };

describe('HostBreaker', () => {
  it('gives a host up after three host failures in a row, saying so once, and not another host', () => {
    const b = new HostBreaker();
    expect(HOST_FAILURES_TO_GIVE_UP).toBe(3);
    expect(b.record(US, new TimeoutError('request timed out after 60 s', onHost))).toBe(false);
    expect(b.record(US, new NetworkError('connection reset', onHost))).toBe(false);
    expect(b.check(US)).toBeUndefined();
    expect(b.record(US, new ServerError('Service Unavailable', { ...onHost, status: 503 }))).toBe(true);
    const down = b.check(US);
    expect(down).toBeInstanceOf(HostDownError);
    expect(down!.code).toBe('TA_ERR_HOST_DOWN');
    expect(down!.message).toMatch(/^not tried: 3 tenants in a row failed on https:\/\/api-us01\.central\.sophos\.com this run \(last: Service Unavailable \(status 503.*\)\); collected again next run$/);
    // Tenants already at work there when it was given up still count, without a second announcement.
    expect(b.record(US, new TimeoutError('request timed out after 60 s', onHost))).toBe(false);
    expect(b.check(EU)).toBeUndefined();
  });

  it('counts a 500 without a Sophos error body, and 502-504 with one, against the host', () => {
    for (const failure of [
      new ServerError('internal error', { ...onHost, status: 500 }),
      // A generic server's body has an `error` too.
      new ServerError('Internal Server Error', { ...onHost, status: 500, sophosError: 'Internal Server Error' }),
      new ServerError('bad gateway', { ...onHost, status: 502, correlationId: 'c-2' }),
    ]) {
      const b = new HostBreaker();
      b.record(US, failure);
      b.record(US, failure);
      expect(b.record(US, failure)).toBe(true);
    }
  });

  it('a success on the host starts the count again', () => {
    const b = new HostBreaker();
    b.record(US, new TimeoutError('t', onHost));
    b.record(US, new TimeoutError('t', onHost));
    b.record(US);
    b.record(US, new TimeoutError('t', onHost));
    b.record(US, new TimeoutError('t', onHost));
    expect(b.check(US)).toBeUndefined();
  });

  it("takes a tenant's own failure (403, 400, 429, a 500 with Sophos's error body) for the host answering", () => {
    for (const answer of [
      new ForbiddenError('forbidden', { ...onHost, status: 403 }),
      new BadRequestError('bad request', { ...onHost, status: 400 }),
      new RateLimitedError('too many requests', { ...onHost, status: 429 }),
      new ServerError('internal error', { ...onHost, status: 500, sophosError: 'internalServerError', correlationId: 'c-1' }),
    ]) {
      const b = new HostBreaker();
      b.record(US, new TimeoutError('t', onHost));
      b.record(US, new TimeoutError('t', onHost));
      expect(b.record(US, answer)).toBe(false);
      b.record(US, new TimeoutError('t', onHost));
      expect(b.check(US)).toBeUndefined();
    }
  });

  it('counts nothing about the host from the token service, whoami, the sink or a tenant not tried', () => {
    const elsewhere = [
      new ServerError('token service down', { status: 503, request: 'POST /api/v2/oauth2/token' }),
      new TimeoutError('whoami timed out', { request: 'GET /whoami/v1' }),
      new BadCredentialsError('refused', { status: 401, request: 'POST /api/v2/oauth2/token' }),
      new Error('sink closed'),
      new HostDownError('not tried'),
    ];
    const b = new HostBreaker();
    for (const err of [...elsewhere, ...elsewhere]) expect(b.record(US, err)).toBe(false);
    expect(b.check(US)).toBeUndefined();
    // Nor do they break a count in progress.
    for (const err of elsewhere) {
      const c = new HostBreaker();
      c.record(US, new TimeoutError('t', onHost));
      c.record(US, new TimeoutError('t', onHost));
      c.record(US, err);
      c.record(US, new TimeoutError('t', onHost));
      expect(c.check(US)).toBeInstanceOf(HostDownError);
    }
  });
});
