// The endpoints snapshot against a live list whose pages need not be disjoint: the emulator's keys never
// repeat a device, so a two-page stand-in for the API shows what the collector does if Sophos's ever do.
import { describe, expect, it } from 'vitest';
import type { KeyPage, TenantApi } from '../../src/central/types.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { collectEndpoints } from '../../src/collect/endpoints.js';
import type { Logger } from '../../src/log.js';
import { MemorySink } from './memory-sink.js';

const TENANT = { id: '11111111-1111-4111-8111-111111111111', name: 'Acme' };
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const device = (id: string) => ({ id, type: 'computer', hostname: `host-${id}`, tenant: { id: TENANT.id }, lastSeenAt: '2026-01-10T11:00:00.000Z' });

function pagedApi(pages: KeyPage<Record<string, unknown>>[]): TenantApi {
  return {
    tenant: TENANT,
    async *endpointPages() {
      yield* pages;
    },
  } as unknown as TenantApi;
}

describe('endpoints: one snapshot', () => {
  it('holds each device once when the live list brings it on two pages, and every device without an ID', async () => {
    const api = pagedApi([
      { items: [device('e1'), device('e2'), { hostname: 'no-id' }], nextKey: 'k1' },
      // A device registered meanwhile sorts before e2 and pushes it onto this page as well.
      { items: [device('e2'), device('e3'), { hostname: 'no-id' }] },
    ]);
    const sink = new MemorySink();
    const result = await collectEndpoints(api, { sink, store: new MemoryCheckpointStore(), key: 'k', stanza: 's', logger: quiet });
    expect(result.end).toBe('complete');
    expect(result.events).toBe(5);
    expect(sink.events('sophos:central:endpoints').map((e) => e.id ?? e.hostname)).toEqual(['e1', 'e2', 'no-id', 'e3', 'no-id']);
  });
});
