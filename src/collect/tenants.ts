// `tenants`: one event per tenant the credential reaches (after the input's tenant filter): the tenant
// object exactly as the API sent it, plus `tenant.id`/`tenant.name`.

import type { CentralClient, TenantFilter } from '../central/types.js';
import { ItemSerializer, SOURCETYPE } from './records.js';
import type { EventSink, OutRecord } from './sink.js';

/** Tenants are written in batches: one write per tenant would cost a drain wait per tenant. */
const BATCH = 500;

export interface TenantsResult {
  events: number;
  /** Pages of the partner's or organization's tenant list read (none for a tenant credential). */
  pages: number;
  /** The `<time>` (epoch seconds) every event of this snapshot carries. */
  snapshotTime?: number;
}

/**
 * Writes the tenant list. `progress` (default: a fresh one, returned) counts what was written, also when the
 * list fails part-way: the tenants listed before the failure are written too, each being a tenant as the API
 * sent it.
 */
export async function collectTenants(
  client: CentralClient,
  opts: { sink: EventSink; filter?: TenantFilter; pageSize?: number; now?: () => number; signal?: AbortSignal; progress?: TenantsResult },
): Promise<TenantsResult> {
  const at = (opts.now ?? Date.now)() / 1000;
  const result = opts.progress ?? { events: 0, pages: 0 };
  result.snapshotTime = at;
  let batch: OutRecord[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    await opts.sink.write(out);
    result.events += out.length;
  };
  try {
    for await (const tenant of client.tenants(opts.filter, { pageSize: opts.pageSize, onPage: () => result.pages++ })) {
      const ref = { id: tenant.id, name: tenant.name };
      batch.push({
        time: at,
        sourcetype: SOURCETYPE.tenants,
        data: new ItemSerializer(ref).serialize(tenant.raw),
        tenantId: ref.id,
        tenantName: ref.name,
      });
      if (batch.length >= BATCH) await flush();
      if (opts.signal?.aborted) break;
    }
  } finally {
    await flush();
  }
  return result;
}
