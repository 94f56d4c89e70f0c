import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, isRetryableStatus, nextDelay, parseRetryAfter, rateLimitDelay, type RetryPolicy } from '../../src/central/retry.js';

const policy: RetryPolicy = { maxAttempts: 5, maxRetryTimeMs: 60_000, baseDelayMs: 100, maxDelayMs: 1000 };

describe('backoffDelay (full jitter)', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, top))).toEqual([99, 199, 399, 799, 999, 999]);
  });
  it('can pick anything from zero', () => {
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
    expect(backoffDelay(4, policy, () => 0.5)).toBe(400);
  });
});

describe('rateLimitDelay (a 429 without Retry-After)', () => {
  it('starts ten times higher than the generic backoff and never waits less than half its ceiling', () => {
    expect([1, 2, 3].map((a) => rateLimitDelay(a, policy, () => 0))).toEqual([500, 500, 500]);
    expect([1, 2, 3].map((a) => rateLimitDelay(a, policy, () => 0.999999))).toEqual([999, 999, 999]);
  });
  it('spans a per-minute window over the default policy\'s retries, inside its total retry time', () => {
    const total = (random: () => number) => [1, 2, 3, 4, 5].reduce((sum, a) => sum + rateLimitDelay(a, DEFAULT_RETRY_POLICY, random), 0);
    expect(total(() => 0)).toBe(47_500);
    expect(total(() => 0.999999)).toBeGreaterThan(94_000);
    expect(total(() => 0.999999)).toBeLessThan(DEFAULT_RETRY_POLICY.maxRetryTimeMs);
    // The generic backoff's ceilings over the same retries add up to 15.5 s at most.
    expect([1, 2, 3, 4, 5].reduce((sum, a) => sum + backoffDelay(a, DEFAULT_RETRY_POLICY, () => 0.999999), 0)).toBeLessThan(15_500);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['0.5'], now)).toBe(500);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('nextDelay', () => {
  it('honours Retry-After plus a little jitter', () => {
    expect(nextDelay({ attempt: 1, elapsedMs: 0, retryAfterMs: 2000 }, policy, () => 0)).toBe(2000);
    expect(nextDelay({ attempt: 1, elapsedMs: 0, retryAfterMs: 2000 }, policy, () => 0.5)).toBe(2050);
  });
  it('backs off for a rate limit when a 429 names no time, and generically otherwise', () => {
    expect(nextDelay({ attempt: 2, elapsedMs: 0, rateLimited: true }, policy, () => 0)).toBe(500);
    expect(nextDelay({ attempt: 2, elapsedMs: 0 }, policy, () => 0)).toBe(0);
    expect(nextDelay({ attempt: 2, elapsedMs: 0, retryAfterMs: 300, rateLimited: true }, policy, () => 0)).toBe(300);
  });
  it('gives up after maxAttempts attempts', () => {
    expect(nextDelay({ attempt: 4, elapsedMs: 0 }, policy, () => 0)).toBe(0);
    expect(nextDelay({ attempt: 5, elapsedMs: 0 }, policy, () => 0)).toBeUndefined();
  });
  it('gives up when waiting would pass the total retry time', () => {
    expect(nextDelay({ attempt: 1, elapsedMs: 59_000, retryAfterMs: 2000 }, policy, () => 0)).toBeUndefined();
    expect(nextDelay({ attempt: 1, elapsedMs: 57_000, retryAfterMs: 2000 }, policy, () => 0)).toBe(2000);
  });
});

describe('isRetryableStatus', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 504].filter(isRetryableStatus)).toEqual([408, 429, 500, 502, 503, 504]);
  });
});

describe('a Retry-After given as a date, through the client', () => {
  it.each([
    ['the server\'s Date, with the host clock five minutes ahead', 5 * 60_000, true],
    ['the client\'s clock, without a Date', 0, false],
  ])('is measured from %s', async (_name, ahead, withDate) => {
    // Sophos's clock is years from the wall clock: a date measured against Date.now() reads as long past.
    const sophos = Date.UTC(2024, 0, 1);
    const clock = sophos + ahead;
    let answered = 0;
    const server = createServer((_req, res) => {
      res.sendDate = false;
      const date = withDate ? { date: new Date(sophos).toUTCString() } : {};
      if (answered++ === 0) {
        res.writeHead(429, { ...date, 'retry-after': new Date(sophos + 7000).toUTCString(), 'content-type': 'application/json' }).end('{"error":"TooManyRequests"}');
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 't0ken-value', token_type: 'bearer', expires_in: 3600 }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const waits: number[] = [];
    const client = createCentralClient({
      clientId: 'c1',
      clientSecret: 's3cr3t-value',
      authUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      env: {},
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    try {
      await client.whoami().catch(() => undefined);
      expect(answered).toBeGreaterThanOrEqual(2);
      // Honoured as is, plus the jitter of under a second nextDelay adds (the wall clock would have given 0 plus jitter).
      expect(waits[0]).toBeGreaterThanOrEqual(7000);
      expect(waits[0]).toBeLessThan(8000);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
