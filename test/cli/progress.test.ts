import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CentralClient } from '../../src/central/types.js';
import { tenantRunOf, type CliSink } from '../../src/cli/outputs.js';
import { Progress } from '../../src/cli/progress.js';
import type { OutRecord } from '../../src/collect/sink.js';

const health = (data: object, tenantId?: string): OutRecord => ({ time: 1, sourcetype: 'sophos:central:health', data: JSON.stringify(data), tenantId });
const alert = (id: string): OutRecord => ({ time: 1, sourcetype: 'sophos:central:alerts', data: JSON.stringify({ id }), tenantId: 't1' });

describe('tenantRunOf', () => {
  it('recognises a tenant_run health record whatever its key order, and nothing else', () => {
    expect(tenantRunOf(health({ status: 'error', type: 'tenant_run' }, 't1'))).toEqual({ tenantId: 't1', status: 'error' });
    expect(tenantRunOf(health({ type: 'run_summary', status: 'ok' }))).toBeUndefined();
    expect(tenantRunOf(health({ type: 'tenant_run', status: 'ok' }))).toBeUndefined();
    expect(tenantRunOf(alert('a'))).toBeUndefined();
    expect(tenantRunOf({ ...health({}, 't1'), data: 'not json' })).toBeUndefined();
  });
});

describe('Progress', () => {
  it('counts items and finished tenants from what the sink is given, and clears its line', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const written: OutRecord[] = [];
    const inner: CliSink = { write: async (r) => void written.push(...r), close: async () => undefined };
    const progress = new Progress(out, 'alerts');
    const sink = progress.wrapSink(inner);
    await sink.write([alert('a'), alert('b'), health({ status: 'ok', type: 'tenant_run' }, 't1'), health({ type: 'data_gap' }, 't1')]);
    expect(written).toHaveLength(4);
    expect(text).toBe('\r\x1b[2Ktenants 1/0, 2 alerts');
    progress.clear();
    expect(text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('the wrapped client still tells the clock skew and the request counts, as they change', () => {
    const inner = { clockSkewMs: undefined as number | undefined, stats: { requests: 1, retries: 0, rateLimited: 0, errors: 0 } } as unknown as CentralClient & { clockSkewMs: number | undefined };
    const wrapped = new Progress(new PassThrough(), 'events').wrapClient(inner);
    expect(wrapped.clockSkewMs).toBeUndefined();
    (inner as { clockSkewMs: number | undefined }).clockSkewMs = -1_800_000;
    expect(wrapped.clockSkewMs).toBe(-1_800_000);
    expect(wrapped.stats.requests).toBe(1);
  });
});
