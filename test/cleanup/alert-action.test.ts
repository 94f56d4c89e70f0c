import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorClient } from '../helpers/central.js';
import type { Endpoint } from '../../src/central/types.js';
import { alertConfig, fieldValues, parseAlertPayload, rowsToInputs } from '../../src/cleanup/alert-action.js';
import { parseCsvTable } from '../../src/cleanup/csv.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { entityName, startSplunkd, TA_APP, type SplunkdStandIn } from '../splunkd/index.js';
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
    const payload = alertPayload(results, 'http://127.0.0.1:9', {}, { client_id: 'cid', inactive_days: '90', vip: 'Big Boss', execute: '1' });
    const r = spawnSync('/bin/sh', [WRAPPER, '--execute'], { input: payload, encoding: 'utf8', env: { PATH: process.env.PATH, SPLUNK_HOME: home } });
    expect(r.stderr).toMatch(/INFO sophos_central_cleanup: executed on 8 devices: deleted 0, would delete 0, failed 0, re-check failed 0, over the cap 0, manual 5, skipped 3/);
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
    const payload = alertPayload(join(tmp, 'gone.csv.gz'), 'http://127.0.0.1:9', {}, { client_id: 'c', inactive_days: '90' });
    const env = { PATH: process.env.PATH, SPLUNK_HOME: join(tmp, 'h2') };
    const r = spawnSync('/bin/sh', [WRAPPER, '--execute'], { input: payload, encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^ERROR sophos_central_cleanup: cannot read the alert's results file .*gone\.csv\.gz: ENOENT/);
    const r2 = spawnSync('/bin/sh', [WRAPPER], { input: payload, encoding: 'utf8', env });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/run by Splunk as a custom alert action with --execute/);
  });
});

describe('the alert action deleting through the emulator', () => {
  let emu: Emulator;
  let splunkd: SplunkdStandIn;
  const secretReads = () => splunkd.requests.filter((r) => r.path.includes('/storage/passwords')).length;
  const stale: Endpoint[] = [];

  beforeAll(async () => {
    emu = await startEmulator({ seed: 5, tenants: 1, endpointsPerTenant: 40, alertsPerTenant: 0, eventsPerTenant: 0, clockMode: 'wall' });
    const client = emulatorClient(emu);
    for await (const t of client.tenants()) {
      for await (const page of client.forTenant(t).endpointPages({ view: 'full' })) {
        for (const e of page.items) {
          const login = (e.associatedPerson as { viaLogin: string }).viaLogin;
          const joined = (e.os as { build?: number }).build !== undefined && login.split('\\')[0]!.toLowerCase() !== e.hostname!.toLowerCase();
          if (joined && stale.length < 2) {
            emu.setEndpointLastSeen(t.id, e.id, Date.now() - 200 * DAY);
            stale.push({ ...e, lastSeenAt: new Date(Date.now() - 200 * DAY).toISOString() });
          }
        }
      }
    }
    await client.close();
    // splunkd over HTTPS with a Splunk-like certificate, holding the secret where the add-on stores it.
    splunkd = await startSplunkd({ https: true });
    splunkd.passwords.set(entityName('sophos_central', emu.clientId), { app: TA_APP, realm: 'sophos_central', username: emu.clientId, password: emu.clientSecret });
  });

  afterAll(async () => {
    await emu?.stop();
    await splunkd?.stop();
  });

  function runAction(home: string, configuration: Record<string, string>) {
    const results = join(home, 'results.csv.gz');
    // The add-on trusts splunkd's certificate through $SPLUNK_HOME/etc/auth/cacert.pem, as on a real host.
    mkdirSync(join(home, 'etc', 'auth'), { recursive: true });
    copyFileSync(splunkd.caPath!, join(home, 'etc', 'auth', 'cacert.pem'));
    writeResultsFile(
      results,
      stale.map((e) =>
        row(e.id, e.hostname!, {
          'tenant.id': emu.tenants[0]!.id,
          lastSeenAt: e.lastSeenAt,
          'os.build': String((e.os as { build: number }).build),
          'associatedPerson.viaLogin': (e.associatedPerson as { viaLogin: string }).viaLogin,
          ad_domain: `${(e.associatedPerson as { viaLogin: string }).viaLogin.split('\\')[0]!.toLowerCase()}.example.com`,
          ad_os_build: `10.0 (${(e.os as { build: number }).build})`,
        }),
      ),
    );
    const payload = alertPayload(results, splunkd.uri, { session_key: splunkd.sessionKey }, { client_id: emu.clientId, inactive_days: '90', delay_ms: '0', ...configuration });
    // Asynchronous: the emulator and the splunkd stand-in answer from this process's event loop.
    const child = spawn('/bin/sh', [WRAPPER, '--execute'], {
      env: { PATH: process.env.PATH, SPLUNK_HOME: home, SOPHOS_CENTRAL_AUTH_URL: emu.authUrl, SOPHOS_CENTRAL_API_URL: emu.apiUrl },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin.end(payload);
    return new Promise<{ status: number | null; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stderr })));
  }

  it('is a dry run by default, then deletes within the cap with execute = 1, reading the secret from storage/passwords', async () => {
    const home = join(tmp, 'splunk-emu');
    const before = emu.requests.length;
    const dry = await runAction(home, {});
    expect(dry.stderr).toMatch(/INFO sophos_central_cleanup: dry run on 2 devices: deleted 0, would delete 2,/);
    expect(dry.status).toBe(0);
    expect(emu.requests.slice(before).filter((r) => r.route === 'endpoint-delete')).toHaveLength(0);
    expect(emu.requests.slice(before).filter((r) => r.route === 'endpoint').map((r) => r.path.split('/').pop())).toEqual(stale.map((e) => e.id));
    expect(secretReads()).toBe(1);

    const mid = emu.requests.length;
    const real = await runAction(home, { execute: '1', max_deletes: '1' });
    expect(real.stderr).toMatch(/INFO sophos_central_cleanup: executed on 2 devices: deleted 1, would delete 0, failed 0, re-check failed 0, over the cap 1,/);
    expect(real.status).toBe(0);
    expect(emu.requests.slice(mid).filter((r) => r.route === 'endpoint-delete').map((r) => [r.path.split('/').pop(), r.status])).toEqual([[stale[0]!.id, 200]]);

    const audit = readFileSync(join(home, 'var', 'log', 'TA-sophos-central', 'cleanup-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((a) => `${a.action} ${a.dryRun}`)).toEqual(['would_delete true', 'would_delete true', 'deleted false', 'none false']);
    expect(audit[2]).toMatchObject({ endpointId: stale[0]!.id, device: expect.objectContaining({ id: stale[0]!.id }), actor: expect.objectContaining({ tool: 'splunk alert action sophos_central_cleanup' }) });
    const ledger = readFileSync(join(home, 'var', 'lib', 'splunk', 'modinputs', 'sophos_central', 'cleanup-ledger.jsonl'), 'utf8');
    expect(ledger).toContain(`"kind":"deleted","endpointId":"${stale[0]!.id}"`);
    const everything = `${dry.stderr}${real.stderr}${JSON.stringify(audit)}${ledger}`;
    expect(everything).not.toContain(emu.clientSecret);
    expect(everything).not.toContain(splunkd.sessionKey);
  });

  it('turns a device that became active again into manual recently_active, and names a missing secret', async () => {
    const home = join(tmp, 'splunk-emu-2');
    emu.setEndpointLastSeen(emu.tenants[0]!.id, stale[1]!.id, Date.now() - DAY);
    const before = emu.requests.length;
    const r = await runAction(home, { execute: '1' });
    expect(r.status).toBe(0);
    expect(emu.requests.slice(before).filter((q) => q.route === 'endpoint-delete')).toHaveLength(0);
    const audit = readFileSync(join(home, 'var', 'log', 'TA-sophos-central', 'cleanup-audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.find((a) => a.endpointId === stale[1]!.id)).toMatchObject({ verdict: 'manual', reason: expect.stringMatching(/^recently_active/), action: 'none' });

    const noSecret = await runAction(join(tmp, 'splunk-emu-3'), { client_id: 'unknown-client', execute: '1' });
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toMatch(/ERROR sophos_central_cleanup: .* live re-check failed, not deleted: no secret stored for client_id unknown-client/);
    const audit3 = readFileSync(join(tmp, 'splunk-emu-3', 'var', 'log', 'TA-sophos-central', 'cleanup-audit.jsonl'), 'utf8');
    expect(audit3).toContain('recheck_failed: no secret stored for client_id unknown-client');
  });
});
