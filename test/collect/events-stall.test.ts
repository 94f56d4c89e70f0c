// The events collector on a SIEM stream that stalls: the pager ends it at a page with no items, the cursor it was
// given and has_more still true.
import { describe, expect, it } from 'vitest';
import type { CursorPage, TenantApi } from '../../src/central/types.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { collectEvents } from '../../src/collect/events.js';
import type { SiemCheckpoint } from '../../src/collect/siem-position.js';
import type { Logger } from '../../src/log.js';
import { MemorySink } from './memory-sink.js';

const HOUR = 3_600_000;
const T = Date.UTC(2025, 0, 10, 12, 0, 0);
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A tenant whose SIEM stream serves `pages` whatever it is asked. */
function tenantServing(pages: CursorPage<Record<string, unknown>>[]): TenantApi {
  return {
    tenant: { id: 't1', name: 'Tenant one', apiHost: 'https://api-eu01.central.sophos.com', dataRegion: 'eu01', raw: {} },
    async *siemEventPages() {
      yield* pages;
    },
  } as unknown as TenantApi;
}

describe('collectEvents on a stalled SIEM stream', () => {
  it('keeps the saved position instead of marking the stream caught up', async () => {
    const store = new MemoryCheckpointStore();
    const saved: SiemCheckpoint = { v: 1, cursor: 'c', position: T - 20 * HOUR, savedAt: T - 20 * HOUR };
    await store.save('k', saved);
    const api = tenantServing([{ items: [], cursor: 'c', hasMore: true }]);
    await collectEvents(api, { sink: new MemorySink(), store, key: 'k', stanza: 's', logger, now: () => T });
    expect(await store.load<SiemCheckpoint>('k')).toMatchObject({ cursor: 'c', position: T - 20 * HOUR });
  });

  it('moves the position to the request time when the stream is really caught up', async () => {
    const store = new MemoryCheckpointStore();
    await store.save('k', { v: 1, cursor: 'c', position: T - 20 * HOUR, savedAt: T - 20 * HOUR });
    const api = tenantServing([{ items: [], cursor: 'c2', hasMore: false }]);
    await collectEvents(api, { sink: new MemorySink(), store, key: 'k', stanza: 's', logger, now: () => T });
    expect(await store.load<SiemCheckpoint>('k')).toMatchObject({ cursor: 'c2', position: T });
  });
});
