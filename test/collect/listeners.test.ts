// Signals are joined per request and per page loop (a page's cancel, a failed save, the client's stop): a long run
// (many pages, several tenants, retries) must leave no listener behind, or Node warns of a leak on stderr, which
// splunkd logs as ERROR.
import { afterAll, expect, it } from 'vitest';
import { runCollection } from '../../src/collect/run.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import type { Logger } from '../../src/log.js';
import { emulatorClient } from '../helpers/central.js';
import { startEmulator } from '../emulator/index.js';
import { MemorySink } from './memory-sink.js';

const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
process.on('warning', onWarning);
afterAll(() => void process.off('warning', onWarning));

it.each(['alerts', 'events', 'endpoints'] as const)('%s: no MaxListenersExceededWarning over hundreds of pages', async (data) => {
  const emu = await startEmulator({ seed: 5, tenants: 6, alertsPerTenant: 300, eventsPerTenant: 300, endpointsPerTenant: 300 });
  emu.faults.add({ route: '*', kind: 503, rate: 0.1 });
  const stop = new AbortController();
  const client = emulatorClient(emu, { now: () => emu.clock.now(), retryBaseDelayMs: 1, retryMaxDelayMs: 2, signal: stop.signal, concurrency: { total: 3, perTenant: 2 } });
  try {
    const summary = await runCollection({
      client, config: { data, tenants: [], excludeTenants: [], startDays: 90, excludeTypes: [], pageSize: 5, tenantConcurrency: 6 },
      stanza: 's', sink: new MemorySink(), store: new MemoryCheckpointStore(), logger, now: () => emu.clock.now(), signal: stop.signal,
    });
    expect(summary.status).toBe('ok');
    expect(summary.pages).toBeGreaterThan(300);
    await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([]);
  } finally {
    await client.close();
    await emu.stop();
  }
});
