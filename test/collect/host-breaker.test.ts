import { describe, expect, it } from 'vitest';
import { HostBreaker, HOST_FAILURES_TO_GIVE_UP } from '../../src/collect/host-breaker.js';
import { BadCredentialsError, BadRequestError, ForbiddenError, HostDownError, NetworkError, RateLimitedError, ServerError, TimeoutError } from '../../src/errors.js';

const US = 'https://api-us01.central.sophos.com';
const EU = 'https://api-eu01.central.sophos.com';

describe('HostBreaker', () => {
  it('gives a host up after three host failures in a row, saying so once, and not another host', () => {
    const b = new HostBreaker();
    expect(HOST_FAILURES_TO_GIVE_UP).toBe(3);
    expect(b.record(US, new TimeoutError('request timed out after 60 s'))).toBe(false);
    expect(b.record(US, new NetworkError('connection reset'))).toBe(false);
    expect(b.check(US)).toBeUndefined();
    expect(b.record(US, new ServerError('Service Unavailable', { status: 503 }))).toBe(true);
    const down = b.check(US);
    expect(down).toBeInstanceOf(HostDownError);
    expect(down!.code).toBe('TA_ERR_HOST_DOWN');
    expect(down!.message).toMatch(/^not tried: 3 tenants in a row failed on https:\/\/api-us01\.central\.sophos\.com this run \(last: Service Unavailable \(status 503\)\); collected again next run$/);
    // Tenants already at work there when it was given up still count, without a second announcement.
    expect(b.record(US, new TimeoutError('request timed out after 60 s'))).toBe(false);
    expect(b.check(EU)).toBeUndefined();
  });

  it('a success on the host starts the count again', () => {
    const b = new HostBreaker();
    b.record(US, new TimeoutError('t'));
    b.record(US, new TimeoutError('t'));
    b.record(US);
    b.record(US, new TimeoutError('t'));
    b.record(US, new TimeoutError('t'));
    expect(b.check(US)).toBeUndefined();
  });

  it("takes a tenant's own failure (403, 400, 429) for the host answering, and a sink's, a skipped tenant's or the token service's for nothing about it", () => {
    for (const answer of [new ForbiddenError('forbidden', { status: 403 }), new BadRequestError('bad request', { status: 400 }), new RateLimitedError('too many requests', { status: 429 })]) {
      const b = new HostBreaker();
      b.record(US, new TimeoutError('t'));
      b.record(US, new TimeoutError('t'));
      expect(b.record(US, answer)).toBe(false);
      b.record(US, new TimeoutError('t'));
      expect(b.check(US)).toBeUndefined();
    }
    for (const other of [new Error('sink closed'), new HostDownError('not tried'), new BadCredentialsError('refused', { status: 401 })]) {
      const b = new HostBreaker();
      b.record(US, new TimeoutError('t'));
      b.record(US, new TimeoutError('t'));
      b.record(US, other);
      b.record(US, new TimeoutError('t'));
      expect(b.check(US)).toBeInstanceOf(HostDownError);
    }
  });
});
