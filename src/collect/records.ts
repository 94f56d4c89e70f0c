// Turning one API item into one Splunk event: the item's JSON, compact on one line, unchanged except
// that `tenant.id` and `tenant.name` are added where the API left them out (interfaces.md "Events").

import type { OutRecord } from './sink.js';

export const SOURCETYPE = {
  alerts: 'sophos:central:alerts',
  events: 'sophos:central:events',
  endpoints: 'sophos:central:endpoints',
  tenants: 'sophos:central:tenants',
  health: 'sophos:central:health',
} as const;

export interface TenantRef {
  id: string;
  name: string;
}

/**
 * Serialises items of one tenant. The client hands over parsed items, so one JSON.stringify per item is
 * the least work left here; the tenant is spliced onto that text instead of copying every item into a
 * new object first. bench/serialize.bench.ts measures both on the SIEM fixture: the splice is a few
 * percent faster and allocates no copy; JSON.stringify itself is the cost that remains.
 */
export class ItemSerializer {
  private readonly suffix: string;
  private readonly idJson: string;

  constructor(private readonly tenant: TenantRef) {
    this.idJson = JSON.stringify(tenant.id);
    this.suffix = `"tenant":{"id":${this.idJson},"name":${JSON.stringify(tenant.name)}}}`;
  }

  /** The item as one line of JSON, with `tenant.id`/`tenant.name` added where absent. */
  serialize(item: Record<string, unknown>): string {
    const existing = item.tenant;
    if (existing === undefined) {
      const text = JSON.stringify(item);
      // `{}` has nothing to separate from; any other object gets a comma before the added member.
      return text.length === 2 ? `{${this.suffix}` : `${text.slice(0, -1)},${this.suffix}`;
    }
    if (existing === null || typeof existing !== 'object' || Array.isArray(existing)) {
      // A `tenant` the API sent that is not an object cannot take members without changing it;
      // the record's tenantId/tenantName still say which tenant it came from.
      return JSON.stringify(item);
    }
    const t = existing as Record<string, unknown>;
    if (t.id !== undefined && t.name !== undefined) return JSON.stringify(item);
    // Endpoints carry tenant {id} only: a shallow copy keeps every key in the API's order.
    const tenant = { ...t };
    if (tenant.id === undefined) tenant.id = this.tenant.id;
    if (tenant.name === undefined) tenant.name = this.tenant.name;
    return JSON.stringify({ ...item, tenant });
  }
}

/** Epoch milliseconds of an ISO time from the API, or undefined when it is missing or unparsable. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function healthRecord(body: Record<string, unknown>, timeMs: number, tenant?: TenantRef): OutRecord {
  return {
    time: timeMs / 1000,
    sourcetype: SOURCETYPE.health,
    data: JSON.stringify(body),
    tenantId: tenant?.id,
    tenantName: tenant?.name,
  };
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
