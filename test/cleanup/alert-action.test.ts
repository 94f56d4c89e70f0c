import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertConfig, fieldValues, parseAlertPayload, rowsToInputs } from '../../src/cleanup/alert-action.js';
import { parseCsvTable } from '../../src/cleanup/csv.js';
import { ROOT } from '../helpers/paths.js';
import { alertPayload, resultsCsv, writeResultsFile, type ResultRow } from './splunk-results.js';

const tmp = mkdtempSync(join(tmpdir(), 'ta-cleanup-alert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const WRAPPER = join(ROOT, 'bin', 'sophos_central_cleanup.sh');
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const disabledDn = (h: string) => `CN=${h},OU=Disabled,OU=Computers,DC=corp,DC=example,DC=com`;

function row(id: string, hostname: string, over: ResultRow = {}): ResultRow {
  return {
    id,
    hostname,
    'tenant.id': 'tenant-1',
    'tenant.name': 'Tenant One',
    lastSeenAt: ago(200),
    'os.name': 'Windows 10 Pro',
    'os.build': '19045',
    'associatedPerson.viaLogin': `CORP\\user-${id}`,
    ad_hostname: hostname,
    ad_domain: 'corp.example.com',
    ad_distinguished_name: disabledDn(hostname),
    ad_os_build: '10.0 (19045)',
    ...over,
  };
}

describe('reading what Splunk passes', () => {
  it('splits multivalue fields from __mv_ columns, with $$ for $', () => {
    const rec = parseCsvTable(resultsCsv([{ id: 'a', hostname: 'h', 'tenant.id': 't', lastSeenAt: 'x', ad_domain: ['corp', 'we$t'] }]), 'r').records[0]!;
    expect(fieldValues(rec, 'ad_domain')).toEqual(['corp', 'we$t']);
    expect(fieldValues(rec, 'hostname')).toEqual(['h']);
    expect(fieldValues(rec, 'ad_os')).toEqual([]);
  });

  it('turns one row with two AD matches into two AD records', () => {
    const csv = resultsCsv([row('a', 'PC1', { ad_distinguished_name: [disabledDn('PC1'), 'CN=PC1,OU=Live'], ad_domain: ['corp.example.com', 'corp.example.com'] })]);
    const inputs = rowsToInputs(parseCsvTable(csv, 'r').records);
    expect(inputs.ad.map((r) => r.distinguishedName)).toEqual([disabledDn('PC1'), 'CN=PC1,OU=Live']);
    expect(inputs.devices[0]!.device).toMatchObject({ id: 'a', hostname: 'PC1', tenantId: 'tenant-1', osBuild: '19045', viaLogin: 'CORP\\user-a' });
  });

  it('validates the payload and the parameters', () => {
    expect(() => parseAlertPayload('nope')).toThrow(/not JSON; set payload_format = json/);
    expect(() => parseAlertPayload('{"results_file":"x","server_uri":"y"}')).toThrow(/no "session_key"/);
    expect(() => alertConfig({ inactive_days: '90' })).toThrow(/param\.client_id is empty/);
    expect(() => alertConfig({ client_id: 'c', inactive_days: 'ninety' })).toThrow(/param\.inactive_days must be a whole number/);
    expect(alertConfig({ client_id: 'c', inactive_days: '30', vip: 'Alice; CORP\\bob' })).toEqual({
      clientId: 'c',
      inactiveDays: 30,
      disabledOu: 'OU=Disabled',
      vip: new Set(['alice', 'corp\\bob']),
      execute: false,
      maxDeletes: 10,
      delayMs: 2000,
    });
  });
});

describe('bin/sophos_central_cleanup.sh --execute with a gzipped results file', () => {
  it('decides every row, audits each one, and needs no API when nothing is to be deleted', () => {
    const home = join(tmp, 'splunk-no-api');
    const results = join(tmp, 'results-no-api.csv.gz');
    writeResultsFile(results, [
      row('e-below', 'PC-BELOW', { lastSeenAt: ago(3) }),
      row('e-noad', 'PC-NOAD', { ad_hostname: undefined, ad_domain: undefined, ad_distinguished_name: undefined, ad_os_build: undefined }),
      row('e-dup1', 'PC-DUP'),
      row('e-dup2', 'PC-DUP'),
      row('e-live', 'PC-LIVE', { ad_distinguished_name: 'CN=PC-LIVE,OU=Workstations,DC=corp,DC=example,DC=com' }),
      row('e-vip', 'PC-VIP', { 'associatedPerson.name': 'Big Boss' }),
      row('e-os', 'PC-OS', { 'os.build': '22631' }),
      row('e-ticket', 'PC-TICKET', { open_ticket: 'INC0001' }),
    ]);
    // A closed port: any attempt to reach splunkd or Central would fail the run.
    const payload = alertPayload(results, 'http://127.0.0.1:9', { client_id: 'cid', inactive_days: '90', vip: 'Big Boss', execute: '1' });
    const r = spawnSync('/bin/sh', [WRAPPER, '--execute'], { input: payload, encoding: 'utf8', env: { PATH: process.env.PATH, SPLUNK_HOME: home } });
    expect(r.stderr).toMatch(/INFO sophos_central_cleanup: executed on 8 devices: deleted 0, would delete 0, failed 0, over the cap 0, manual 5, skipped 3/);
    expect(r.status).toBe(0);
    const audit = readFileSync(join(home, 'var', 'log', 'TA-sophos-central', 'cleanup-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byId = Object.fromEntries(audit.map((a) => [a.endpointId, `${a.verdict} ${String(a.reason).split(':')[0]} ${a.action}`]));
    expect(byId).toEqual({
      'e-below': 'skip below_threshold none',
      'e-noad': 'manual not_in_ad none',
      'e-dup1': 'manual ambiguous_match none',
      'e-dup2': 'manual ambiguous_match none',
      'e-live': 'skip not_in_disabled_ou none',
      'e-vip': 'manual vip none',
      'e-os': 'manual os_build_mismatch none',
      'e-ticket': 'skip open_ticket none',
    });
    expect(audit[0]).toMatchObject({
      hostname: 'PC-BELOW',
      tenantId: 'tenant-1',
      dryRun: false,
      actor: { tool: 'splunk alert action sophos_central_cleanup', user: 'admin', search: 'Sophos Central - stale device clean-up (example)', sid: 'scheduler__admin__search__RMD5_at_1700000000_1' },
    });
    expect(JSON.stringify(audit)).not.toContain('test-session-key');
  });

  it('refuses a missing results file and a run without --execute, in one line each', () => {
    const payload = alertPayload(join(tmp, 'gone.csv.gz'), 'http://127.0.0.1:9', { client_id: 'c', inactive_days: '90' });
    const env = { PATH: process.env.PATH, SPLUNK_HOME: join(tmp, 'h2') };
    const r = spawnSync('/bin/sh', [WRAPPER, '--execute'], { input: payload, encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^ERROR sophos_central_cleanup: cannot read the alert's results file .*gone\.csv\.gz: ENOENT/);
    const r2 = spawnSync('/bin/sh', [WRAPPER], { input: payload, encoding: 'utf8', env });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/run by Splunk as a custom alert action with --execute/);
  });
});
