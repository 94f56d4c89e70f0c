// Two runs of one stanza at once, as when an edit restarts an input (its first run's own masking edit among
// them) while the run it stopped still writes its last page: the later run waits for the earlier one and goes
// on from its checkpoints, so nothing is sent twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicates, health, ids, SOURCETYPE, startWorld, type World } from './world.js';

let w: World;
beforeAll(async () => {
  // 50 ms per answer, so that each run (15 pages per tenant) lasts long enough for the two to overlap.
  w = await startWorld({ seed: 'overlapping-runs', tenants: 3, regions: ['eu01'], alertsPerTenant: 10, eventsPerTenant: 600, endpointsPerTenant: 1, latencyMs: 50 });
});
afterAll(() => w.stop());

describe('two runs of one stanza at once', () => {
  it('events: the second waits for the first and sends only what the first did not', async () => {
    expect((await w.run('overlap', w.params('events', { page_size: '200' }))).exitCode).toBe(0);
    for (const t of w.emu.tenants) w.emu.addEvents(t.id, 3000);
    const [a, b] = await Promise.all([w.run('overlap'), w.run('overlap')]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const [first, second] = [ids(a.records, SOURCETYPE.events), ids(b.records, SOURCETYPE.events)];
    expect(duplicates(first, second)).toBe(0);
    expect(first.length + second.length).toBe(9000);
    expect([...health(a.records, 'run_summary'), ...health(b.records, 'run_summary')].map((s) => s.status)).toEqual(['ok', 'ok']);
  });
});
