import { describe, expect, it } from 'vitest';
import { AdIndex, PeerIndex } from '../../src/cleanup/correlate.js';
import { centralIdentity, dnWithin, domainsMatch } from '../../src/cleanup/identity.js';
import { OpenTickets } from '../../src/cleanup/inputs.js';
import { daysInactive, decide, normaliseBuild, recheck, type AdRecord, type CentralDevice, type DecisionPolicy } from '../../src/cleanup/verdict.js';

const NOW = Date.parse('2024-06-01T00:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

const base: CentralDevice = {
  id: 'e-1',
  hostname: 'PC01',
  tenantId: 't-1',
  lastSeenAt: ago(120),
  osName: 'Windows 10 Pro',
  osBuild: '19045',
  personName: 'Alice Smith',
  viaLogin: 'CORP\\alice',
};
const adPc01: AdRecord = {
  hostname: 'pc01',
  domain: 'corp.example.com',
  distinguishedName: 'CN=PC01,OU=Disabled,OU=Computers,DC=corp,DC=example,DC=com',
  os: 'Windows 10 Pro',
  osBuild: '10.0 (19045)',
};

function policy(over: Partial<DecisionPolicy> = {}): DecisionPolicy {
  return {
    now: NOW,
    inactiveDays: 90,
    disabledOu: 'OU=Disabled',
    vip: new Set(),
    isTicketOpen: () => undefined,
    deletedAt: () => undefined,
    ...over,
  };
}

interface Case {
  name: string;
  device?: Partial<CentralDevice>;
  ad?: AdRecord[];
  peers?: number;
  policy?: Partial<DecisionPolicy>;
  verdict: 'delete' | 'manual' | 'skip';
  reason: RegExp;
}

const cases: Case[] = [
  { name: 'stale, disabled in AD, builds agree: delete', verdict: 'delete', reason: /^disabled_in_ad: 120 days inactive; CN=PC01,OU=Disabled/ },
  { name: 'below the threshold: skip', device: { lastSeenAt: ago(89.5) }, verdict: 'skip', reason: /^below_threshold: 89 days inactive < 90$/ },
  { name: 'exactly at the threshold is stale', device: { lastSeenAt: ago(90) }, verdict: 'delete', reason: /^disabled_in_ad/ },
  { name: 'already deleted (ledger): skip', policy: { deletedAt: () => '2024-05-01T00:00:00.000Z' }, verdict: 'skip', reason: /^already_deleted: deleted 2024-05-01/ },
  { name: 'open ticket: skip', policy: { isTicketOpen: () => 'ticket for host pc01' }, verdict: 'skip', reason: /^open_ticket: ticket for host pc01$/ },
  { name: 'ledger wins over a ticket', policy: { deletedAt: () => 'x', isTicketOpen: () => 't' }, verdict: 'skip', reason: /^already_deleted/ },
  { name: 'open ticket wins over below threshold', device: { lastSeenAt: ago(1) }, policy: { isTicketOpen: () => 't' }, verdict: 'skip', reason: /^open_ticket/ },
  { name: 'unparsable lastSeenAt: manual', device: { lastSeenAt: 'yesterday' }, verdict: 'manual', reason: /^invalid_last_seen/ },
  { name: 'no lastSeenAt: manual', device: { lastSeenAt: undefined }, verdict: 'manual', reason: /^invalid_last_seen: lastSeenAt null/ },
  { name: 'not in AD: manual', ad: [], verdict: 'manual', reason: /^not_in_ad: no AD record for pc01 in corp$/ },
  { name: 'no domain at all: manual not_in_ad', device: { viaLogin: undefined }, verdict: 'manual', reason: /^not_in_ad: Central shows no domain/ },
  { name: 'two AD records: manual ambiguous', ad: [adPc01, { ...adPc01, distinguishedName: 'CN=PC01,OU=Laptops,DC=corp' }], verdict: 'manual', reason: /^ambiguous_match: 2 AD records/ },
  { name: 'two Central devices: manual ambiguous', peers: 1, verdict: 'manual', reason: /^ambiguous_match: 2 Central devices are pc01 in corp$/ },
  { name: 'AD shows it in service: skip not_in_disabled_ou', ad: [{ ...adPc01, distinguishedName: 'CN=PC01,OU=Workstations,DC=corp' }], verdict: 'skip', reason: /^not_in_disabled_ou: AD has CN=PC01,OU=Workstations/ },
  { name: 'OU name that only starts with Disabled is not the disabled OU', ad: [{ ...adPc01, distinguishedName: 'CN=PC01,OU=Disabled Printers,DC=corp' }], verdict: 'skip', reason: /^not_in_disabled_ou/ },
  { name: 'disabled OU compared case-insensitively', ad: [{ ...adPc01, distinguishedName: 'cn=pc01,ou=DISABLED,dc=corp' }], verdict: 'delete', reason: /^disabled_in_ad/ },
  { name: 'multi-RDN disabled OU', policy: { disabledOu: 'OU=Disabled, OU=Computers' }, verdict: 'delete', reason: /^disabled_in_ad/ },
  { name: 'VIP by associated person name: manual', policy: { vip: new Set(['alice smith']) }, verdict: 'manual', reason: /^vip: Alice Smith$/ },
  { name: 'VIP by DOMAIN\\user login: manual', policy: { vip: new Set(['corp\\alice']) }, verdict: 'manual', reason: /^vip: CORP\\alice$/ },
  { name: 'VIP by AD owner: manual', ad: [{ ...adPc01, owner: 'Bob Boss' }], policy: { vip: new Set(['bob boss']) }, verdict: 'manual', reason: /^vip: Bob Boss$/ },
  { name: 'OS build mismatch: manual', device: { osBuild: '22631' }, verdict: 'manual', reason: /^os_build_mismatch: AD 19045 vs Central 22631$/ },
  { name: 'no Central build vs an AD build: manual', device: { osBuild: undefined }, verdict: 'manual', reason: /^os_build_mismatch: AD 19045 vs Central \(none\)$/ },
  { name: 'FQDN host name matches AD by DNS domain', device: { hostname: 'PC01.Corp.Example.com', viaLogin: undefined }, verdict: 'delete', reason: /^disabled_in_ad/ },
  { name: 'FQDN in another domain is not this AD record', device: { hostname: 'pc01.other.example.com' }, verdict: 'manual', reason: /^not_in_ad: no AD record for pc01 in other\.example\.com/ },
  { name: 'UPN login gives the domain', device: { viaLogin: 'alice@corp.example.com' }, verdict: 'delete', reason: /^disabled_in_ad/ },
  { name: 'not in disabled OU beats VIP (nothing to do either way)', ad: [{ ...adPc01, distinguishedName: 'CN=PC01,OU=Workstations' }], policy: { vip: new Set(['alice smith']) }, verdict: 'skip', reason: /^not_in_disabled_ou/ },
  { name: 'ambiguity beats VIP and build checks', peers: 2, device: { osBuild: '1' }, policy: { vip: new Set(['alice smith']) }, verdict: 'manual', reason: /^ambiguous_match: 3 Central/ },
  { name: 'VIP beats the build check', device: { osBuild: '1' }, policy: { vip: new Set(['alice smith']) }, verdict: 'manual', reason: /^vip/ },
];

describe('decide: one row per rule', () => {
  it.each(cases)('$name', (c) => {
    const device = { ...base, ...c.device };
    const d = decide({ device, adMatches: c.ad ?? new AdIndex([adPc01]).matches(device), centralPeers: c.peers ?? 0 }, policy(c.policy));
    expect(d.verdict).toBe(c.verdict);
    expect(d.reason).toMatch(c.reason);
  });
});

describe('recheck just before deletion', () => {
  const planned = { lastSeenAt: ago(120) };
  it.each([
    { name: 'unchanged: go ahead', live: { lastSeenAt: ago(120) }, expected: undefined },
    { name: 'gone: skip already_deleted', live: undefined, expected: /^already_deleted/ },
    { name: 'seen yesterday: manual recently_active', live: { lastSeenAt: ago(1) }, expected: /^recently_active: seen .*, 1 days inactive$/ },
    { name: 'seen after the plan, still stale: manual recently_active', live: { lastSeenAt: ago(100) }, expected: /^recently_active: seen .* after the plan's/ },
    { name: 'live lastSeenAt unreadable: manual', live: { lastSeenAt: 'garbage' }, expected: /^invalid_last_seen/ },
  ])('$name', ({ live, expected }) => {
    const d = recheck(planned, live, NOW, 90);
    if (expected === undefined) expect(d).toBeUndefined();
    else expect(d?.reason).toMatch(expected);
    if (d?.code === 'recently_active') expect(d.verdict).toBe('manual');
  });
});

describe('the pieces', () => {
  it('computes days inactive from the 2019-09-23T12:02:01.700Z format', () => {
    expect(daysInactive('2019-09-23T12:02:01.700Z', Date.parse('2019-09-24T12:02:01.700Z'))).toBe(1);
    expect(daysInactive('2019-09-23T12:02:01.700Z', Date.parse('2019-09-23T18:02:01.700Z'))).toBe(0.25);
    expect(daysInactive('2019-09-23', NOW)).toBeUndefined();
    expect(daysInactive(undefined, NOW)).toBeUndefined();
  });

  it.each([
    ['corp', 'corp.example.com', true],
    ['corp.example.com', 'CORP.example.com'.toLowerCase(), true],
    ['corp', 'corp', true],
    ['corp', 'other.example.com', false],
    ['corp.example.com', 'corp.example.org', false],
    ['corp', undefined, false],
  ] as const)('domainsMatch(%s, %s) = %s', (a, b, expected) => {
    expect(domainsMatch(a, b)).toBe(expected);
  });

  it('derives the domain from the FQDN first, then from DOMAIN\\user', () => {
    expect(centralIdentity('PC1.corp.local', 'OTHER\\bob')).toEqual({ host: 'pc1', domain: 'corp.local' });
    expect(centralIdentity('PC1', 'CORP\\bob')).toEqual({ host: 'pc1', domain: 'corp' });
    expect(centralIdentity('PC1', 'bob')).toEqual({ host: 'pc1', domain: undefined });
    expect(centralIdentity('Thunderbox', 'THUNDERBOX\\Lior')).toEqual({ host: 'thunderbox', domain: undefined });
  });

  it('matches DN components whole and honours escaped commas', () => {
    expect(dnWithin('CN=Smith\\, John,OU=Disabled,DC=x', 'ou=disabled')).toBe(true);
    expect(dnWithin('CN=Disabled\\,OU=Disabled,OU=Live,DC=x', 'OU=Disabled')).toBe(false);
    expect(dnWithin('CN=a,OU=Computers,OU=Disabled', 'OU=Disabled,OU=Computers')).toBe(false);
    expect(dnWithin('CN=a', '')).toBe(false);
  });

  it('normalises build numbers', () => {
    expect(normaliseBuild('10.0 (19045)')).toBe('19045');
    expect(normaliseBuild(' 19045 ')).toBe('19045');
    expect(normaliseBuild(undefined)).toBe('');
  });

  it('counts Central peers by host name and domain only', () => {
    const peers = new PeerIndex();
    peers.add({ id: 'a', hostname: 'PC01', viaLogin: 'CORP\\x' });
    peers.add({ id: 'b', hostname: 'pc01.corp.example.com' });
    peers.add({ id: 'c', hostname: 'PC01', viaLogin: 'OTHER\\y' });
    peers.add({ id: 'a', hostname: 'PC01', viaLogin: 'CORP\\x' });
    expect(peers.peers({ id: 'a', hostname: 'PC01', viaLogin: 'CORP\\x' })).toBe(1);
    expect(peers.peers({ id: 'c', hostname: 'PC01', viaLogin: 'OTHER\\y' })).toBe(0);
  });

  it('matches tickets by endpoint ID or short host name', () => {
    const t = new OpenTickets(new Set(['pc01']), new Set(['e-9']));
    expect(t.find({ id: 'E-9', hostname: 'x' })).toMatch(/endpoint E-9/);
    expect(t.find({ id: 'z', hostname: 'PC01.corp.local' })).toMatch(/host pc01/);
    expect(t.find({ id: 'z', hostname: 'PC02' })).toBeUndefined();
  });
});
