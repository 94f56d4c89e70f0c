// Ground truth for the end-to-end tests: what the emulator serves, read straight from its API in this process
// (a separate client, so the input under test shares nothing with it but the emulator).
import type { TenantApi } from '../../src/central/types.js';
import type { TenantDataType } from '../../src/collect/collector.js';
import { SIEM_FROM_DATE_WINDOW_MS } from '../../src/collect/siem-position.js';
import { emulatorClient } from '../helpers/central.js';
import type { Emulator } from '../emulator/index.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

async function withClient<T>(emu: Emulator, fn: (api: (tenantId: string) => TenantApi) => Promise<T>): Promise<T> {
  const client = emulatorClient(emu);
  try {
    return await fn((id) => client.forTenant({ ...emu.tenants.find((t) => t.id === id)!, raw: {} }));
  } finally {
    await client.close();
  }
}

/**
 * Alert IDs per tenant raised in [now - days + slack, now - 1 min): the part of a `start_days` window that every
 * run started within `slack` of now must have collected.
 */
export function alertTruth(emu: Emulator, days: number, slack = 5 * MIN): Promise<Map<string, string[]>> {
  const now = emu.clock.now();
  return withClient(emu, async (api) => {
    const out = new Map<string, string[]>();
    for (const t of emu.tenants) {
      const ids: string[] = [];
      const from = new Date(now - days * DAY + slack).toISOString();
      for await (const page of api(t.id).alertPages({ from, to: new Date(now - MIN).toISOString() })) ids.push(...page.items.map((a) => a.id));
      out.set(t.id, ids);
    }
    return out;
  });
}

/**
 * SIEM event IDs per tenant the API serves from (now - SIEM_FROM_DATE_WINDOW_MS + slack) on: what a first run
 * started within `slack` of now must have collected.
 */
export function eventTruth(emu: Emulator, slack = 5 * MIN): Promise<Map<string, string[]>> {
  const from = Math.floor((emu.clock.now() - SIEM_FROM_DATE_WINDOW_MS + slack) / 1000);
  return withClient(emu, async (api) => {
    const out = new Map<string, string[]>();
    for (const t of emu.tenants) {
      const ids: string[] = [];
      for await (const page of api(t.id).siemEventPages({ fromDate: from })) ids.push(...page.items.map((e) => e.id));
      out.set(t.id, ids);
    }
    return out;
  });
}

/**
 * How many pages a first run reads of one tenant's `data` at `pageSize` (alerts over the last `days`): the
 * request number of its last page.
 */
export function pageCount(emu: Emulator, data: TenantDataType, tenantId: string, pageSize: number, days: number): Promise<number> {
  const now = emu.clock.now();
  return withClient(emu, async (api) => {
    const t = api(tenantId);
    const pages =
      data === 'alerts' ? t.alertPages({ from: new Date(now - days * DAY).toISOString(), to: new Date(now - MIN).toISOString(), pageSize })
        : data === 'events' ? t.siemEventPages({ fromDate: Math.floor((now - SIEM_FROM_DATE_WINDOW_MS) / 1000), limit: pageSize })
          : t.endpointPages({ pageSize });
    let n = 0;
    for await (const _ of pages) n++;
    return n;
  });
}
