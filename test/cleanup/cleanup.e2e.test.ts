// `sophos-central cleanup plan|apply` end to end against the Sophos Central emulator, with the real client.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCentralClient } from '../../src/central/client.js';
import { emulatorClient } from '../helpers/central.js';
import type { Endpoint } from '../../src/central/types.js';
import { defaultDeps, runCleanupCommand, type CleanupDeps } from '../../src/cleanup/command.js';
import type { Plan } from '../../src/cleanup/plan.js';
import { startEmulator, type Emulator } from '../emulator/index.js';

const DAY = 86_400_000;
let emu: Emulator;
let tmp: string;
let env: NodeJS.ProcessEnv;
const sleeps: number[] = [];
let clockOffset = 0;

interface Dev {
  e: Endpoint;
  tenantId: string;
  domain: string;
  build: string;
}
/** Named devices of the scenario. */
const dev: Record<string, Dev> = {};
let reimaged: { old: Dev; current: Dev };

function deps(): CleanupDeps {
  return {
    ...defaultDeps,
    client: (c, e) => createCentralClient({ clientId: c.clientId, clientSecret: c.clientSecret, env: e, retryBaseDelayMs: 1, retryMaxDelayMs: 5 }),
    now: () => emu.clock.now() + clockOffset,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, cwd: tmp };
  const code = await runCleanupCommand(argv, io, deps());
  return { code, out, err };
}

const p = (name: string) => join(tmp, name);
const readPlanFile = (name: string) => JSON.parse(readFileSync(p(name), 'utf8')) as Plan;
const auditLines = (name: string) =>
  readFileSync(p(name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const deletesSince = (n: number) => emu.requests.slice(n).filter((r) => r.route === 'endpoint-delete');

function adRow(d: Dev, ou = 'OU=Disabled,OU=Computers', build = `10.0 (${d.build})`): string {
  return [d.e.hostname!, `${d.domain}.example.com`, `"CN=${d.e.hostname},${ou},DC=${d.domain},DC=example,DC=com"`, 'Windows', build].join(',');
}

beforeAll(async () => {
  emu = await startEmulator({ seed: 11, tenants: 2, endpointsPerTenant: 120, alertsPerTenant: 0, eventsPerTenant: 0 });
  tmp = mkdtempSync(join(tmpdir(), 'ta-cleanup-e2e-'));
  env = {
    SOPHOS_CENTRAL_AUTH_URL: emu.authUrl,
    SOPHOS_CENTRAL_API_URL: emu.apiUrl,
    SOPHOS_CENTRAL_CLIENT_ID: emu.clientId,
    SOPHOS_CENTRAL_CLIENT_SECRET: emu.clientSecret,
    HOME: tmp,
  };
  // Learn the estate, then make every device recently active except the scenario's stale ones.
  const client = emulatorClient(emu);
  const all: Dev[] = [];
  for await (const t of client.tenants()) {
    for await (const page of client.forTenant(t).endpointPages({ view: 'full' })) {
      for (const e of page.items) {
        const login = String((e.associatedPerson as { viaLogin?: string } | undefined)?.viaLogin ?? '');
        const domain = login.split('\\')[0]!.toLowerCase();
        const build = (e.os as { build?: number } | undefined)?.build;
        all.push({ e, tenantId: t.id, domain, build: build === undefined ? '' : String(build) });
        emu.setEndpointLastSeen(t.id, e.id, emu.clock.now() - DAY);
      }
    }
  }
  await client.close();
  const joined = all.filter((d) => d.build !== '' && d.domain !== d.e.hostname!.toLowerCase());
  // Index 96 of a tenant is a re-imaged copy of index 95: same hostname, two records.
  const pairs = joined.filter((d, i) => i > 0 && d.e.hostname === joined[i - 1]!.e.hostname);
  reimaged = { old: pairs[0]!, current: joined[joined.indexOf(pairs[0]!) - 1]! };
  const singles = joined.filter((d) => all.filter((x) => x.e.hostname === d.e.hostname).length === 1);
  const byTenant = (t: number) => singles.filter((d) => d.tenantId === emu.tenants[t]!.id);
  const names = ['del1', 'del2', 'del3', 'del4', 'noad', 'adtwice', 'live', 'vip', 'os', 'ledgered', 'ticket'];
  names.forEach((n, i) => (dev[n] = byTenant(i % 2)[Math.floor(i / 2)]!));
  for (const d of [...Object.values(dev), reimaged.old]) emu.setEndpointLastSeen(d.tenantId, d.e.id, emu.clock.now() - 200 * DAY);

  writeFileSync(
    p('ad.csv'),
    [
      'os_build,hostname,distinguished_name,domain,os,whenChanged',
      ...['del1', 'del2', 'del3', 'del4', 'vip', 'ledgered', 'ticket'].map((n) => {
        const [h, dm, dn, os, b] = adRow(dev[n]!).split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
        return [b, h, dn, dm, os, '2024-01-01'].join(',');
      }),
      ...[adRow(dev.adtwice!), adRow(dev.adtwice!, 'OU=Laptops'), adRow(dev.live!, 'OU=Workstations'), adRow(dev.os!, 'OU=Disabled', '10.0 (1)'), adRow(reimaged.old)].map((r) => {
        const [h, dm, dn, os, b] = r.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
        return [b, h, dn, dm, os, ''].join(',');
      }),
    ].join('\r\n') + '\r\n',
  );
  writeFileSync(p('vip.txt'), `# people whose machines a person checks\n${String((dev.vip!.e.associatedPerson as { viaLogin: string }).viaLogin)}\n`);
  writeFileSync(p('tickets.csv'), `ticket,hostname\nINC42,${dev.ticket!.e.hostname!.toLowerCase()}\n`);
  writeFileSync(p('ledger.jsonl'), `${JSON.stringify({ time: '2024-01-01T00:00:00.000Z', kind: 'deleted', endpointId: dev.ledgered!.e.id })}\n`);
});

afterAll(async () => {
  await emu?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const planArgs = (out: string, ad = p('ad.csv')) => [
  'plan', '--auth', 'env', '--inactive-days', '90', '--ad', ad, '--vip', p('vip.txt'), '--tickets', p('tickets.csv'), '--ledger', p('ledger.jsonl'), '--out', p(out),
];
const applyArgs = (plan: string, ...more: string[]) => ['apply', p(plan), '--auth', 'env', '--ledger', p('ledger.jsonl'), '--audit', p('audit.jsonl'), ...more];

describe('cleanup plan and apply against the emulator', () => {
  it('plan: gathers every tenant with lastSeenBefore=-P90D and decides every rule', async () => {
    const before = emu.requests.length;
    const r = await run(...planArgs('plan.json'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const plan = readPlanFile('plan.json');
    expect(plan.inactiveDays).toBe(90);
    expect(Date.parse(plan.createdAt)).toBe(emu.clock.now());
    const verdicts = Object.fromEntries(Object.entries(dev).map(([n, d]) => [n, plan.devices.find((x) => x.id === d.e.id)]));
    const short = (n: string) => `${verdicts[n]?.verdict} ${verdicts[n]?.reason.split(':')[0]}`;
    expect(Object.fromEntries(Object.keys(dev).map((n) => [n, short(n)]))).toEqual({
      del1: 'delete disabled_in_ad',
      del2: 'delete disabled_in_ad',
      del3: 'delete disabled_in_ad',
      del4: 'delete disabled_in_ad',
      noad: 'manual not_in_ad',
      adtwice: 'manual ambiguous_match',
      live: 'skip not_in_disabled_ou',
      vip: 'manual vip',
      os: 'manual os_build_mismatch',
      ledgered: 'skip already_deleted',
      ticket: 'skip open_ticket',
    });
    // The re-imaged machine's old record is stale, its new one active: two Central devices, one name.
    expect(plan.devices.find((x) => x.id === reimaged.old.e.id)?.reason).toMatch(/^ambiguous_match: 2 Central devices/);
    expect(plan.devices).toHaveLength(Object.keys(dev).length + 1);
    expect(plan.devices[0]).toEqual(expect.objectContaining({ id: expect.any(String), hostname: expect.any(String), tenantId: expect.any(String), lastSeenAt: expect.any(String) }));

    const lists = emu.requests.slice(before).filter((q) => q.route === 'endpoints');
    expect(new Set(lists.filter((q) => q.query.lastSeenBefore === '-P90D').map((q) => q.tenantId))).toEqual(new Set(emu.tenants.map((t) => t.id)));
    expect(lists.every((q) => q.query.lastSeenBefore === '-P90D' || q.query.lastSeenAfter === '-P90D')).toBe(true);
    expect(deletesSince(before)).toHaveLength(0);
    expect(r.out).toMatch(/^VERDICT\s+HOSTNAME\s+LAST SEEN\s+TENANT\s+ENDPOINT ID\s+REASON\n/);
    expect(r.out).toContain('12 devices inactive for 90+ days: 4 delete, 5 manual, 3 skip');
    expect(r.out).not.toContain(emu.clientSecret);
  });

  it('apply without --execute deletes nothing; a device active since the plan becomes manual recently_active', async () => {
    emu.setEndpointLastSeen(dev.del3!.tenantId, dev.del3!.e.id, emu.clock.now() - 2 * DAY);
    const before = emu.requests.length;
    const r = await run(...applyArgs('plan.json'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^dry run \(nothing deleted; add --execute to delete\): deleted 0, would delete 3, failed 0/);
    expect(deletesSince(before)).toHaveLength(0);
    const audit = auditLines('audit.jsonl');
    expect(audit).toHaveLength(12);
    const of = (n: string) => audit.find((a) => a.endpointId === dev[n]!.e.id)!;
    expect(of('del1')).toMatchObject({ verdict: 'delete', action: 'would_delete', dryRun: true, hostname: dev.del1!.e.hostname, tenantId: dev.del1!.tenantId });
    expect((of('del1').device as Endpoint).id).toBe(dev.del1!.e.id);
    expect(of('del3')).toMatchObject({ verdict: 'manual', action: 'none', reason: expect.stringMatching(/^recently_active: seen /) });
    expect(of('vip')).toMatchObject({ verdict: 'manual', action: 'none', result: 'no action: manual in the plan' });
    for (const a of audit) expect(Object.keys(a)).toEqual(expect.arrayContaining(['time', 'endpointId', 'hostname', 'tenantId', 'verdict', 'reason', 'action', 'dryRun', 'result', 'actor']));
  });

  it('apply --execute obeys the cap, paces deletes, records a failed delete and never retries it', async () => {
    emu.faults.add({ route: 'endpoint-delete', kind: 500, nth: [2] });
    sleeps.length = 0;
    const before = emu.requests.length;
    const auditBefore = auditLines('audit.jsonl').length;
    const r = await run(...applyArgs('plan.json', '--execute', '--max-deletes', '2', '--delay-ms', '750'));
    emu.faults.clear();
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^executed: deleted 1, would delete 0, failed 1, re-check failed 0, over the cap 1,/);
    expect(r.err).toMatch(new RegExp(`ERROR ${dev.del2!.e.hostname} \\(${dev.del2!.e.id}, tenant ${dev.del2!.tenantId}\\): delete failed, raised for manual action \\(not retried\\)`));
    const deletes = deletesSince(before);
    expect(deletes.map((q) => [q.path.split('/').pop(), q.status])).toEqual([
      [dev.del1!.e.id, 200],
      [dev.del2!.e.id, 500],
    ]);
    expect(sleeps).toEqual([750]);
    const audit = auditLines('audit.jsonl').slice(auditBefore);
    const of = (n: string) => audit.find((a) => a.endpointId === dev[n]!.e.id)!;
    expect(of('del1')).toMatchObject({ action: 'deleted', dryRun: false, result: 'deleted: {"deleted":true}' });
    // The snapshot is the device as the live re-check read it, just before the DELETE.
    const planned = readPlanFile('plan.json').devices.find((d) => d.id === dev.del1!.e.id)!;
    expect(of('del1').device).toMatchObject({ id: dev.del1!.e.id, hostname: dev.del1!.e.hostname, lastSeenAt: planned.lastSeenAt, os: expect.any(Object) });
    expect(of('del2')).toMatchObject({ verdict: 'manual', action: 'delete_failed', reason: expect.stringMatching(/^delete_failed: .*500/) });
    expect(of('del4')).toMatchObject({ verdict: 'delete', action: 'none', result: 'not attempted: the per-run cap of 2 deletes is reached' });
    const ledger = readFileSync(p('ledger.jsonl'), 'utf8');
    expect(ledger).toContain(`"kind":"deleted","endpointId":"${dev.del1!.e.id}"`);
    expect(ledger).toContain(`"kind":"ticket_opened","endpointId":"${dev.del2!.e.id}"`);
  });

  it('a rerun skips what the ledger holds and deletes only what is left', async () => {
    sleeps.length = 0;
    const before = emu.requests.length;
    const auditBefore = auditLines('audit.jsonl').length;
    const r = await run(...applyArgs('plan.json', '--execute'));
    expect(r.code).toBe(0);
    expect(deletesSince(before).map((q) => q.path.split('/').pop())).toEqual([dev.del4!.e.id]);
    expect(emu.requests.slice(before).some((q) => q.path.endsWith(dev.del1!.e.id) || q.path.endsWith(dev.del2!.e.id))).toBe(false);
    expect(sleeps).toEqual([]);
    const audit = auditLines('audit.jsonl').slice(auditBefore);
    const of = (n: string) => audit.find((a) => a.endpointId === dev[n]!.e.id)!;
    expect(of('del1')).toMatchObject({ verdict: 'skip', reason: expect.stringMatching(/^already_deleted/), action: 'none' });
    expect(of('del2')).toMatchObject({ verdict: 'skip', reason: expect.stringMatching(/^open_ticket: ledger ticket: delete_failed/), action: 'none' });
    expect(of('del4')).toMatchObject({ action: 'deleted' });

    // A fresh plan no longer sees the deleted devices and keeps the failed one for a person.
    await run(...planArgs('plan2.json'));
    const plan2 = readPlanFile('plan2.json');
    expect(plan2.devices.some((d) => d.id === dev.del1!.e.id || d.id === dev.del4!.e.id)).toBe(false);
    expect(plan2.devices.find((d) => d.id === dev.del2!.e.id)).toMatchObject({ verdict: 'skip', reason: expect.stringMatching(/^open_ticket/) });
  });

  it('refuses a stale plan, a missing AD column and an unreadable file before any request', async () => {
    clockOffset = 25 * 3_600_000;
    const stale = await run(...applyArgs('plan.json', '--execute'));
    clockOffset = 0;
    expect(stale.code).toBe(1);
    expect(stale.err).toMatch(/^ERROR the plan .*plan\.json is stale: created .*, 25\.0 h ago, over the 24 h limit; run "sophos-central cleanup plan" again\n$/);

    writeFileSync(p('ad-bad.csv'), 'hostname,domain,distinguished_name,os\nPC,corp,"CN=PC,OU=Disabled",Windows\n');
    const before = emu.requests.length;
    const bad = await run(...planArgs('plan3.json', p('ad-bad.csv')));
    expect(bad.code).toBe(1);
    expect(bad.err).toBe(`ERROR ${p('ad-bad.csv')}: missing column "os_build"; the header row has hostname,domain,distinguished_name,os\n`);
    const missing = await run(...planArgs('plan3.json', p('no-such-ad.csv')));
    expect(missing.err).toBe(`ERROR cannot read the AD CSV ${p('no-such-ad.csv')}: no such file\n`);
    expect(emu.requests.length).toBe(before);
  });

  it('answers a bad flag with one line that points to the usage, before any request', async () => {
    const before = emu.requests.length;
    const bad = await run('apply', 'plan.json', '--auth', 'env', '--bogus');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^ERROR Unknown option '--bogus'.* \(see sophos-central cleanup --help\)\n$/);
    expect(bad.out).toBe('');
    const none = await run();
    expect(none.code).toBe(1);
    expect(none.err).toBe('ERROR cleanup needs a command: "plan" or "apply" (see sophos-central cleanup --help)\n');
    expect(none.out).toBe('');
    expect(emu.requests.length).toBe(before);
  });
});
