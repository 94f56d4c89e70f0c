// Turning one API item into one Splunk event: the item's JSON, compact on one line, unchanged except
// that `tenant.id` and `tenant.name` are added where the API left them out (interfaces.md "Events").

import { withTenantMembers } from '../central/item-text.js';
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
 * Serialises items of one tenant. The client hands over each item's JSON text as the API sent it
 * (KeyPage/CursorPage `texts`), so the common cases cost no serialisation at all: an item that carries
 * its full tenant is emitted as that text, one without a tenant gets the tenant spliced onto it, and one
 * whose tenant lacks a member (endpoints carry `tenant.id` only) gets it added inside. Without the text the
 * parsed item is stringified.
 */
export class ItemSerializer {
  private readonly suffix: string;
  /** What follows an item's text without its closing brace when the tenant is added at its end. */
  private readonly appended: string;
  private readonly idMember: string;
  private readonly nameMember: string;
  /** IDs are UUIDs, whose case varies between APIs (see shardOf). */
  private readonly lowerId: string;

  constructor(private readonly tenant: TenantRef) {
    this.lowerId = tenant.id.toLowerCase();
    this.idMember = `"id":${JSON.stringify(tenant.id)}`;
    this.nameMember = `"name":${JSON.stringify(tenant.name)}`;
    this.suffix = `"tenant":{${this.idMember},${this.nameMember}}}`;
    this.appended = `,${this.suffix}`;
  }

  /**
   * What serialize gives for an item without a `tenant` that has its text, as the two pieces it joins (see
   * OutRecord `pieces`); undefined for every other item.
   */
  pieces(item: Record<string, unknown>, text?: string): readonly [string, string] | undefined {
    return item.tenant === undefined && text !== undefined && text.length > 2 ? [text.slice(0, -1), this.appended] : undefined;
  }

  /**
   * The item as one line of JSON, with `tenant.id`/`tenant.name` added where absent. `text`, when given,
   * is the item's compact JSON text as the API sent it (the same value as `item`). With `head`, `item` is
   * only the page head of the item (its top-level `tenant` included, see KeyPage `heads`) and `text` is required.
   */
  serialize(item: Record<string, unknown>, text?: string, head = false): string {
    const existing = item.tenant;
    if (existing === undefined) {
      const json = text ?? JSON.stringify(item);
      // `{}` has nothing to separate from; any other object gets a comma before the added member.
      return json.length === 2 ? `{${this.suffix}` : json.slice(0, -1) + this.appended;
    }
    if (existing === null || typeof existing !== 'object' || Array.isArray(existing)) {
      // A `tenant` the API sent that is not an object cannot take members without changing it.
      return text ?? JSON.stringify(item);
    }
    const t = existing as Record<string, unknown>;
    // Another tenant's ID (an item filed under another tenant) is not given this tenant's name.
    const name = t.name === undefined && (t.id === undefined || (typeof t.id === 'string' && t.id.toLowerCase() === this.lowerId));
    if (t.id !== undefined && !name) return text ?? JSON.stringify(item);
    const members = t.id === undefined ? (name ? `${this.idMember},${this.nameMember}` : this.idMember) : this.nameMember;
    const spliced = text === undefined ? undefined : withTenantMembers(text, members);
    if (spliced !== undefined) return spliced;
    // No text, or one the splice cannot take (a tenant key written with escapes): a shallow copy keeps every key in order.
    const tenant = { ...t, ...(t.id === undefined ? { id: this.tenant.id } : {}), ...(name ? { name: this.tenant.name } : {}) };
    // A head lacks the item's other members: the whole item is read back from its text.
    const whole = head && text !== undefined ? (JSON.parse(text) as Record<string, unknown>) : item;
    return JSON.stringify({ ...whole, tenant });
  }
}

/** A date-time without an offset (`T` or a blank between date and time), which Date.parse would read in this host's time zone. */
const NO_OFFSET = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/;

/**
 * Epoch milliseconds of an ISO time from the API, or undefined when it is missing or unparsable. One without
 * an offset is UTC, as the API's times are: read in a forwarder's local zone it would be hours off.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const fast = parseApiTime(value);
  if (fast !== undefined) return fast;
  const ms = Date.parse(NO_OFFSET.test(value) ? `${value.replace(' ', 'T')}Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}

let cachedHourText = '';
let cachedHourMs = NaN;

/**
 * The API's own format, `YYYY-MM-DDTHH:MM:SS.sssZ`, parsed with the hour cached: every item of a page
 * falls in the same few hours, and Date.parse per item was 4% of a collection's CPU. Anything else
 * (another format, an out-of-range field) returns undefined and goes to Date.parse.
 */
function parseApiTime(v: string): number | undefined {
  if (v.length !== 24 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58 || v.charCodeAt(19) !== 46 || v.charCodeAt(23) !== 90) {
    return undefined;
  }
  const minutes = twoDigits(v, 14);
  const seconds = twoDigits(v, 17);
  const millis = twoDigits(v, 20) * 10 + digit(v, 22);
  if (!(minutes < 60 && seconds < 60 && millis >= 0)) return undefined;
  const hourText = v.slice(0, 13);
  if (hourText !== cachedHourText) {
    const ms = Date.parse(`${hourText}:00:00.000Z`);
    if (Number.isNaN(ms)) return undefined;
    cachedHourText = hourText;
    cachedHourMs = ms;
  }
  return cachedHourMs + minutes * 60_000 + seconds * 1000 + millis;
}

/** The decimal digit at `i`, or NaN. */
function digit(v: string, i: number): number {
  const d = v.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

function twoDigits(v: string, i: number): number {
  return digit(v, i) * 10 + digit(v, i + 1);
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
