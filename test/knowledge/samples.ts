// Sample events, shaped as the add-on writes them (interfaces.md "Events"): the API item unchanged, plus
// tenant.id and tenant.name where the item lacks them. One function, sampleEvents(), feeds every knowledge
// test, so pointing the tests at another source (the demo's output) is a one-place change: set
// SOPHOS_CENTRAL_SAMPLE_EVENTS to a JSON-lines file of {"sourcetype": "...", "event": {...}} objects and
// those events are added to the fixtures below.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../helpers/paths.js';

export interface Sample {
  origin: string; // where it came from, for test names
  sourcetype: string;
  event: Record<string, unknown>;
}

export const SOURCETYPES = [
  'sophos:central:alerts',
  'sophos:central:events',
  'sophos:central:endpoints',
  'sophos:central:tenants',
  'sophos:central:health',
  'sophos:central:cleanup',
] as const;

const fixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES, 'sophos', name), 'utf8'));

/** What the collector does to an API item: add tenant.id/tenant.name where absent, never change a field. */
export function asCollected(item: Record<string, unknown>, tenant: { id: string; name: string }): Record<string, unknown> {
  const t = (item.tenant ?? {}) as Record<string, unknown>;
  return { ...item, tenant: { id: tenant.id, name: tenant.name, ...t } };
}

// The fixtures' alerts and endpoints belong to the same tenant; its name comes from the alert fixture.
const QNASTERS = { id: '11f104c5-cc4a-4a9f-bb9c-632c936dfb9f', name: 'Qnasters' };
const ACME = { id: '6a3c1f0e-2b7d-4e59-9c1a-0d4e8f7b2a61', name: 'Acme Ltd' };

/** Real API payloads from shared/fixtures/sophos, as collected. */
export function fixtureSamples(): Sample[] {
  const alerts = fixture('common-alerts-list.json').items as Record<string, unknown>[];
  const endpoints = fixture('endpoint-endpoints-list.json').items as Record<string, unknown>[];
  const siem = fixture('siem-event-item.json') as Record<string, unknown>;
  const tenant = fixture('partner-tenant-get.json') as Record<string, unknown>;
  return [
    ...alerts.map((e, i) => ({ origin: `fixture common-alerts-list #${i}`, sourcetype: 'sophos:central:alerts', event: asCollected(e, QNASTERS) })),
    ...endpoints.map((e, i) => ({ origin: `fixture endpoint-endpoints-list #${i}`, sourcetype: 'sophos:central:endpoints', event: asCollected(e, QNASTERS) })),
    { origin: 'fixture siem-event-item', sourcetype: 'sophos:central:events', event: asCollected(siem, { id: String(siem.customer_id), name: 'Lightning' }) },
    { origin: 'fixture partner-tenant-get', sourcetype: 'sophos:central:tenants', event: asCollected(tenant, { id: String(tenant.id), name: String(tenant.name) }) },
  ];
}

/**
 * Emulator-style events: real shapes (the fixtures' keys and value formats) with the values a malware or PUA
 * detection, a non-malware alert, a Linux server with JSON booleans, and the add-on's own health and clean-up
 * records carry, so that every CIM branch in props.conf is exercised.
 */
export function emulatorSamples(): Sample[] {
  const siem = fixture('siem-event-item.json') as Record<string, unknown>;
  const [endpoint] = fixture('endpoint-endpoints-list.json').items as Record<string, unknown>[];
  const when = '2026-01-10T08:15:02.118Z';
  return [
    {
      origin: 'emulator PUA alert',
      sourcetype: 'sophos:central:alerts',
      event: asCollected({
        id: '0b7f3c2e-61c4-4f0a-9a57-2f1e2d9b6c11', allowedActions: ['acknowledge', 'cleanPua', 'authPua'], category: 'pua',
        description: "PUA detected: 'PsExec' at 'C:\\Tools\\PsExec.exe'", groupKey: 'MSxFdmVudDo6RW5kcG9pbnQ6OlBVQURldGVjdGVkLDEsUHNFeGVj',
        managedAgent: { id: 'a8f2b1c4-5d6e-4f70-8a9b-0c1d2e3f4a5b', type: 'computer', name: 'LAPTOP-7' },
        person: { id: '3e1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b', name: 'ACME\\jdoe' }, product: 'endpoint',
        raisedAt: when, severity: 'medium', type: 'Event::Endpoint::PUADetected',
      }, ACME),
    },
    {
      origin: 'emulator out-of-date alert',
      sourcetype: 'sophos:central:alerts',
      event: asCollected({
        id: '7d5e4f3a-2b1c-4d0e-9f8a-7b6c5d4e3f2a', allowedActions: ['acknowledge'], category: 'updating',
        description: 'Failed to protect computer: LAPTOP-7 is out of date', groupKey: 'MSxFdmVudDo6RW5kcG9pbnQ6Ok91dE9mRGF0ZSw1MTMs',
        managedAgent: { id: 'a8f2b1c4-5d6e-4f70-8a9b-0c1d2e3f4a5b', type: 'computer' }, product: 'endpoint',
        raisedAt: when, severity: 'low', type: 'Event::Endpoint::OutOfDate',
      }, ACME),
    },
    {
      origin: 'emulator SIEM malware detection (cleaned)',
      sourcetype: 'sophos:central:events',
      event: asCollected({
        ...siem, id: 'c2a1b3d4-e5f6-4708-91a2-b3c4d5e6f708', type: 'Event::Endpoint::CoreDetection', group: 'MALWARE', severity: 'high',
        name: "Malware detected: 'EICAR-AV-Test' at 'C:\\Users\\jdoe\\Downloads\\eicar.com'", threat: 'EICAR-AV-Test',
        when, created_at: when, location: 'LAPTOP-7',
      }, ACME),
    },
    {
      origin: 'emulator SIEM PUA clean-up failed',
      sourcetype: 'sophos:central:events',
      event: asCollected({
        id: 'd3b2c4e5-f6a7-4819-a2b3-c4d5e6f70819', type: 'Event::Endpoint::PuaCleanupFailed', group: 'PUA', severity: 'medium',
        name: "Manual PUA cleanup required: 'PsExec' at 'C:\\Tools\\PsExec.exe'", threat: 'PsExec', when, created_at: when,
        customer_id: ACME.id, endpoint_id: 'a8f2b1c4-5d6e-4f70-8a9b-0c1d2e3f4a5b', endpoint_type: 'computer',
        location: 'LAPTOP-7', source: 'ACME\\jdoe', source_info: { ip: '10.20.30.40' }, origin: null, user_id: '637f18000269b20f2233bf4b',
      }, ACME),
    },
    {
      origin: 'emulator SIEM malware event without a path in its name',
      sourcetype: 'sophos:central:events',
      // ELASTIC's field docs list None among SIEM severities.
      event: asCollected({ ...siem, group: 'MALWARE', type: 'Event::Endpoint::Threat::Detected', name: 'Malware detected', severity: 'none', when }, ACME),
    },
    {
      origin: 'emulator Linux server (JSON booleans, IPv6 only)',
      sourcetype: 'sophos:central:endpoints',
      event: asCollected({
        ...endpoint, id: 'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9', type: 'server', hostname: 'web-01',
        os: { isServer: true, platform: 'linux', name: 'Ubuntu 22.04.3 LTS', majorVersion: 22, minorVersion: 4, build: 3 },
        ipv4Addresses: undefined, ipv6Addresses: ['2001:db8::10'], macAddresses: ['52:54:00:12:34:56'],
        tamperProtectionSupported: true, tamperProtectionEnabled: false,
        assignedProducts: [{ code: 'coreAgent', version: '2023.2.0.12', status: 'installed' }, { code: 'endpointProtection', version: '2023.2.1.5', status: 'installed' }],
        lastSeenAt: when, encryption: undefined,
      }, ACME),
    },
    // Health records as branch collect's README ("Health records") defines them.
    {
      origin: 'collector health tenant_run',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'tenant_run', stanza: 'sophos_central://acme_alerts', data: 'alerts', tenant: ACME, status: 'ok', events: 42, pages: 1,
        requests: 2, retries: 1, rate_limited: 1, errors: 1, duration_ms: 812, lag_seconds: 64, checkpoint_age_seconds: 300, data_gaps: 0,
      },
    },
    {
      origin: 'collector health tenant_run with an error',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'tenant_run', stanza: 'sophos_central://acme_events', data: 'events', tenant: ACME, status: 'error', events: 0, pages: 0,
        requests: 3, retries: 2, rate_limited: 0, errors: 3, error_code: 'TA_ERR_SERVER', error: 'Sophos Central answered HTTP 503 three times',
        duration_ms: 30512, lag_seconds: null, checkpoint_age_seconds: 1200, data_gaps: 0,
      },
    },
    {
      origin: 'collector health run_summary',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'run_summary', stanza: 'sophos_central://acme_events', data: 'events', status: 'partial', tenants: 3, tenants_ok: 2,
        tenants_failed: 1, tenants_aborted: 0, tenants_paused: 0, events: 1500, pages: 3, requests: 9, retries: 2, rate_limited: 0, errors: 1, data_gaps: 1,
        duration_ms: 31877,
      },
    },
    {
      origin: 'collector health run_summary of a forwarder whose clock is ahead',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'run_summary', stanza: 'sophos_central://acme_alerts', data: 'alerts', status: 'ok', tenants: 3, tenants_ok: 3,
        tenants_failed: 0, tenants_aborted: 0, tenants_paused: 0, events: 12, pages: 3, requests: 6, retries: 0, rate_limited: 0, errors: 0, data_gaps: 0,
        duration_ms: 912, clock_skew_s: 1203,
      },
    },
    {
      origin: 'collector health run_summary of an input whose typed secret splunkd could not store or mask',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'run_summary', stanza: 'sophos_central://acme_tenants', data: 'tenants', status: 'ok', tenants: 3, tenants_ok: 3,
        tenants_failed: 0, tenants_aborted: 0, tenants_paused: 0, events: 3, pages: 1, requests: 3, retries: 0, rate_limited: 0, errors: 0, data_gaps: 0,
        duration_ms: 640, snapshot_time: 1767945600, secrets_in_clear: ['client_secret', 'proxy_url'],
      },
    },
    {
      origin: 'collector health data_gap',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'data_gap', stanza: 'sophos_central://acme_events', data: 'events', tenant: ACME, gap_start: '2026-01-08T06:00:00.000Z',
        gap_end: '2026-01-09T08:14:00.000Z', gap_seconds: 94440, reason: 'the saved SIEM position is older than the 24 hours the API serves',
      },
    },
    {
      origin: 'collector health checkpoint_reset',
      sourcetype: 'sophos:central:health',
      event: {
        type: 'checkpoint_reset', stanza: 'sophos_central://acme_alerts', data: 'alerts', tenant: ACME, checkpoint_mark: '2026-01-12T08:14:00.000Z',
        restart_from: '2026-01-10T07:59:00.000Z', reason: "the saved mark lies after this run's window: saved while this host's clock ran ahead (by an earlier release)",
      },
    },
    // Audit lines as branch cleanup's src/cleanup/audit.ts writes them.
    {
      origin: 'clean-up audit line (dry run)',
      sourcetype: 'sophos:central:cleanup',
      event: {
        time: when, runId: 'r-20260110-0815', endpointId: String(endpoint!.id), hostname: 'Thunderbox', tenantId: QNASTERS.id, verdict: 'delete',
        reason: 'not_in_ad', action: 'would_delete', dryRun: true, result: 'dry run: not deleted', lastSeenAt: '2020-11-15T13:14:39.357Z',
        actor: { tool: 'sophos-central cleanup apply', user: 'svc-splunk', host: 'hf01' },
      },
    },
    {
      origin: 'clean-up audit line (deleted)',
      sourcetype: 'sophos:central:cleanup',
      event: {
        time: when, runId: 'r-20260110-0816', endpointId: String(endpoint!.id), hostname: 'Thunderbox', tenantId: QNASTERS.id, verdict: 'delete',
        reason: 'not_in_ad', action: 'deleted', dryRun: false, result: 'deleted: {"deleted":true}', lastSeenAt: '2020-11-15T13:14:39.357Z',
        device: asCollected(endpoint!, QNASTERS), actor: { tool: 'sophos-central cleanup apply', user: 'svc-splunk', host: 'hf01' },
      },
    },
  ];
}

/** Extra events from SOPHOS_CENTRAL_SAMPLE_EVENTS (JSON lines of {sourcetype, event}), e.g. the demo's output. */
export function externalSamples(): Sample[] {
  const file = process.env.SOPHOS_CENTRAL_SAMPLE_EVENTS;
  if (!file) return [];
  if (!existsSync(file)) throw new Error(`SOPHOS_CENTRAL_SAMPLE_EVENTS=${file} does not exist`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const { sourcetype, event } = JSON.parse(l) as { sourcetype: string; event: Record<string, unknown> };
      return { origin: `${file}:${i + 1}`, sourcetype, event };
    });
}

/** Every sample the knowledge tests use. */
export function sampleEvents(): Sample[] {
  return [...fixtureSamples(), ...emulatorSamples(), ...externalSamples()];
}
