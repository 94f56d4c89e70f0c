// Fault injection and the per-tenant rate limit. Pure decision logic: the listeners act on the verdicts.
import { hash, unit } from './rng.js';

export type FaultKind = 400 | 403 | 429 | 500 | 502 | 503 | 504 | 'drop' | 'stall' | 'truncate' | 'expire-token';

export interface FaultRule {
  /** A RequestRecord.route value, or '*'. */
  route: string;
  kind: FaultKind;
  /** 1-based request numbers on that route, counted from when the rule was added. */
  nth?: number[];
  /** 0..1: the share of matching requests that fail, drawn from the emulator's seed. */
  rate?: number;
  /** Maximum number of injections. */
  times?: number;
  /**
   * Retry-After for 429 and 503, sent only when set: Sophos documents it on 429 for other APIs only
   * (sophos-central-api.md §7), so a client must cope without it.
   */
  retryAfterSeconds?: number;
  tenantId?: string;
  /**
   * The body of an error status: the current shape (default); COMM-ERR's older one, which names the status in
   * `error` and has no message (`{"error":"Forbidden","correlationId",...}`); or none, as Postman shows
   * SIEM errors (sophos-central-api.md §7).
   */
  body?: 'current' | 'legacy' | 'empty';
}

const KINDS = new Set<unknown>([400, 403, 429, 500, 502, 503, 504, 'drop', 'stall', 'truncate', 'expire-token']);

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  injected: number;
  id: number;
}

export class FaultTable {
  private rules: ActiveRule[] = [];
  private added = 0;

  constructor(private readonly seed: number) {}

  add(rule: FaultRule): void {
    if (!KINDS.has(rule.kind)) throw new Error(`unknown fault kind ${JSON.stringify(rule.kind)}`);
    if (rule.nth === undefined && rule.rate === undefined) throw new Error('a fault rule needs nth or rate');
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1)) throw new Error('fault rate must be between 0 and 1');
    if (rule.body !== undefined && !['current', 'legacy', 'empty'].includes(rule.body)) throw new Error(`unknown fault body ${JSON.stringify(rule.body)}`);
    this.rules.push({ rule, seen: 0, injected: 0, id: ++this.added });
  }

  clear(): void {
    this.rules = [];
  }

  /** Counts this request against every matching rule and returns the first fault that fires, if any. */
  decide(route: string, tenantId: string | undefined): FaultRule | undefined {
    let fired: FaultRule | undefined;
    for (const r of this.rules) {
      if (r.rule.route !== '*' && r.rule.route !== route) continue;
      if (r.rule.tenantId !== undefined && r.rule.tenantId !== tenantId) continue;
      r.seen++;
      if (fired || (r.rule.times !== undefined && r.injected >= r.rule.times)) continue;
      const hit = r.rule.nth !== undefined
        ? r.rule.nth.includes(r.seen)
        : unit(hash(this.seed, 0xfa17, r.id, r.seen)) < (r.rule.rate ?? 0);
      if (hit) {
        r.injected++;
        fired = r.rule;
      }
    }
    return fired;
  }
}

/** Fixed-window request budget per tenant, on the wall clock (rate limits are about real request rates). */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: { requests: number; perMs: number }) {}

  /** Undefined when allowed, else the seconds until the window resets (for Retry-After). */
  check(tenantId: string, now = Date.now()): number | undefined {
    let w = this.windows.get(tenantId);
    if (!w || now - w.start >= this.limit.perMs) {
      w = { start: now, count: 0 };
      this.windows.set(tenantId, w);
    }
    w.count++;
    if (w.count <= this.limit.requests) return undefined;
    return Math.max(1, Math.ceil((w.start + this.limit.perMs - now) / 1000));
  }
}
