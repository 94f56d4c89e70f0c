// `tenants`: one event per tenant the credential reaches (after the input's tenant filter): the tenant
// object exactly as the API sent it, plus `tenant.id`/`tenant.name`.

import type { CentralClient, TenantFilter } from '../central/types.js';
import { ItemSerializer, SOURCETYPE } from './records.js';
import type { EventSink, OutRecord } from './sink.js';

/** Tenants are written in batches: one write per tenant would cost a drain wait per tenant. */
const BATCH = 500;

export interface TenantsResult {
  events: number;
}

export async function collectTenants(
  client: CentralClient,
  opts: { sink: EventSink; filter?: TenantFilter; now?: () => number; signal?: AbortSignal },
): Promise<TenantsResult> {
  const at = (opts.now ?? Date.now)() / 1000;
  let batch: OutRecord[] = [];
  let events = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    await opts.sink.write(out);
    events += out.length;
  };
  for await (const tenant of client.tenants(opts.filter)) {
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
  await flush();
  return { events };
}
