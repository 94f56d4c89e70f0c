// Pure tenant selection: include/exclude lists and the stable shard of interfaces.md (`shard = i/n`).

import { createHash } from 'node:crypto';
import type { TenantFilter } from './types.js';

/**
 * 1-based shard of a tenant ID among `count`. SHA-1 of the lower-cased ID (GUID case varies between
 * APIs), first 4 bytes as an unsigned integer: the same on every forwarder, process and version.
 */
export function shardOf(tenantId: string, count: number): number {
  const digest = createHash('sha1').update(tenantId.trim().toLowerCase()).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

function names(entry: string, tenant: { id: string; name: string }): boolean {
  const wanted = entry.trim().toLowerCase();
  return wanted !== '' && (wanted === tenant.id.toLowerCase() || wanted === tenant.name.trim().toLowerCase());
}

function matches(list: string[], tenant: { id: string; name: string }): boolean {
  return list.some((entry) => names(entry, tenant));
}

/** The include entries no tenant seen so far matched, whatever exclude and shard then did with it. */
export class UnmatchedEntries {
  private left: string[];

  constructor(include: string[] = []) {
    this.left = include.filter((e) => e.trim() !== '');
  }

  see(tenant: { id: string; name: string }): void {
    if (this.left.length > 0) this.left = this.left.filter((entry) => !names(entry, tenant));
  }

  get entries(): string[] {
    return this.left;
  }
}

/** Include (empty keeps all), then exclude (wins), then shard. */
export function keepTenant(tenant: { id: string; name: string }, filter: TenantFilter = {}): boolean {
  if (filter.include?.some((e) => e.trim() !== '') && !matches(filter.include, tenant)) return false;
  if (filter.exclude && matches(filter.exclude, tenant)) return false;
  if (filter.shard && shardOf(tenant.id, filter.shard.count) !== filter.shard.index) return false;
  return true;
}
