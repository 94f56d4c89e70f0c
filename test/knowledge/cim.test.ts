// CIM coverage: applies the shipped props.conf, eventtypes.conf and tags.conf to real and emulator-style
// events and checks every field each data model requires (splunk-addon.md §6) and its allowed values.
import { describe, expect, it } from 'vitest';
import { applyKnowledge, loadKnowledge, parseEval, type Fields, type Knowledge } from './splunk-knowledge.js';
import { emulatorSamples, fixtureSamples, sampleEvents, type Sample } from './samples.js';

interface Model {
  name: string;
  tags: string[];
  required: string[];
  allowed?: Record<string, RegExp>;
}

const SEVERITY = /^(critical|high|medium|low|informational)$/;
const IP = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*|unknown)$/i;
const MODELS: Model[] = [
  {
    name: 'Alerts',
    tags: ['alert'],
    required: ['app', 'description', 'dest', 'id', 'signature', 'signature_id', 'severity', 'src', 'type', 'user'],
    allowed: { severity: SEVERITY, type: /^(alarm|alert|event|task|warning)$/ },
  },
  {
    name: 'Malware_Attacks',
    tags: ['malware', 'attack'],
    required: ['action', 'category', 'dest', 'file_name', 'file_path', 'severity', 'signature', 'vendor_product'],
    allowed: { action: /^(allowed|blocked|deferred)$/, severity: SEVERITY },
  },
  { name: 'Malware_Operations', tags: ['malware', 'operations'], required: ['dest', 'signature_version', 'vendor_product'] },
  { name: 'Inventory', tags: ['inventory'], required: ['dest', 'vendor_product'] },
  { name: 'Inventory_OS', tags: ['system', 'version', 'inventory'], required: ['os'] },
  {
    name: 'Inventory_Network',
    tags: ['network', 'inventory'],
    required: ['dns', 'interface', 'ip', 'mac', 'name'],
    allowed: { ip: IP, mac: /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$|^unknown$/i },
  },
];

const values = (f: Fields, name: string): string[] => {
  const v = f.get(name);
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** The data models an event falls in, and every CIM problem found: one line per missing or bad field. */
function cimCheck(k: Knowledge, s: Sample): { models: string[]; problems: string[] } {
  const { fields, tags } = applyKnowledge(k, s.sourcetype, s.event);
  const models = MODELS.filter((m) => m.tags.every((t) => tags.includes(t)));
  const problems: string[] = [];
  for (const m of models) {
    for (const req of m.required) {
      const vs = values(fields, req).filter((v) => v !== '');
      if (vs.length === 0) problems.push(`${s.origin}: ${m.name} requires ${req}`);
      const allowed = m.allowed?.[req];
      for (const v of vs) if (allowed && !allowed.test(v)) problems.push(`${s.origin}: ${m.name} ${req}="${v}" is not in ${allowed}`);
    }
  }
  return { models: models.map((m) => m.name), problems };
}

const k = loadKnowledge();
const field = (s: Sample, name: string) => applyKnowledge(k, s.sourcetype, s.event).fields.get(name);
const byOrigin = (o: string) => [...fixtureSamples(), ...emulatorSamples()].find((s) => s.origin === o)!;

describe('CIM mapping of the shipped props, eventtypes and tags', () => {
  const expected: Record<string, string[]> = {
    'fixture common-alerts-list #0': ['Alerts', 'Malware_Attacks'],
    'fixture common-alerts-list #2': ['Alerts', 'Malware_Attacks'],
    'fixture endpoint-endpoints-list #0': ['Malware_Operations', 'Inventory', 'Inventory_OS', 'Inventory_Network'],
    'fixture endpoint-endpoints-list #1': ['Malware_Operations', 'Inventory', 'Inventory_OS', 'Inventory_Network'],
    'fixture siem-event-item': [],
    'fixture partner-tenant-get': [],
    'emulator PUA alert': ['Alerts', 'Malware_Attacks'],
    'emulator out-of-date alert': ['Alerts'],
    'emulator SIEM malware detection (cleaned)': ['Malware_Attacks'],
    'emulator SIEM PUA clean-up failed': ['Malware_Attacks'],
    'emulator SIEM malware event without a path in its name': ['Malware_Attacks'],
    'emulator Linux server (JSON booleans, IPv6 only)': ['Malware_Operations', 'Inventory', 'Inventory_OS', 'Inventory_Network'],
    'collector health tenant_run': [],
    'clean-up audit line (deleted)': [],
  };

  it.each(Object.entries(expected))('%s falls in exactly the expected data models', (origin, models) => {
    expect(cimCheck(k, byOrigin(origin)).models).toEqual(models);
  });

  it('produces every required field with an allowed value for every sample', () => {
    const samples = sampleEvents();
    expect(samples.length).toBeGreaterThanOrEqual(15);
    const problems = samples.flatMap((s) => cimCheck(k, s).problems);
    expect(problems).toEqual([]);
  });

  it('covers Alerts, both Malware datasets and all three Inventory datasets with real fixtures', () => {
    const covered = new Set(fixtureSamples().flatMap((s) => cimCheck(k, s).models));
    expect([...covered].sort()).toEqual(['Alerts', 'Inventory', 'Inventory_Network', 'Inventory_OS', 'Malware_Attacks', 'Malware_Operations']);
  });

  it('fails the coverage check when any shipped alias or eval that produces a required field is removed', () => {
    let removed = 0;
    for (const [stanza, keys] of k.props) {
      const models = new Set(sampleEvents().filter((s) => s.sourcetype === stanza).flatMap((s) => cimCheck(k, s).models));
      const required = new Set(MODELS.filter((m) => models.has(m.name)).flatMap((m) => m.required));
      for (const key of keys.keys()) {
        const produces = key.startsWith('EVAL-') ? [key.slice(5)] : key.startsWith('FIELDALIAS-') ? keys.get(key)!.split(/\s+/).filter((_, i) => i % 3 === 2) : [];
        if (!produces.some((f) => required.has(f))) continue;
        const props = new Map(k.props);
        props.set(stanza, new Map([...keys].filter(([kk]) => kk !== key)));
        const samples = sampleEvents().filter((s) => s.sourcetype === stanza);
        const problems = samples.flatMap((s) => cimCheck({ ...k, props }, s).problems);
        const after = samples.flatMap((s) => cimCheck({ ...k, props }, s).models);
        // Either a required field goes missing or gets a bad value, or (for fields eventtypes depend on) the
        // events leave the model. The one exception is an EVAL that only normalises a field every sample already
        // carries with an allowed value (alert severity is always high|medium|low in the Common API).
        const before = samples.flatMap((s) => cimCheck(k, s).models);
        const detected = problems.length > 0 || after.length < before.length;
        const normaliser = produces.every((f) => samples.every((s) => applyKnowledge(k, s.sourcetype, { ...s.event }).fields.has(f) && f in s.event));
        expect(detected || normaliser, `${stanza} ${key}`).toBe(true);
        if (detected) removed++;
      }
    }
    expect(removed).toBeGreaterThanOrEqual(20);
  });
});

describe('normalised values', () => {
  it('maps the real EICAR "manual cleanup required" alert', () => {
    const s = byOrigin('fixture common-alerts-list #0');
    expect(field(s, 'signature')).toBe('EICAR-AV-Test');
    expect(field(s, 'signature_id')).toBe('MSxFdmVudDo6RW5kcG9pbnQ6OlRocmVhdDo6Q2xlYW51cEZhaWxlZCwxNixFSUNBUi1BVi1UZXN0');
    expect(field(s, 'sophos_type')).toBe('Event::Endpoint::Threat::CleanupFailed');
    expect(field(s, 'type')).toBe('alert');
    expect(field(s, 'action')).toBe('deferred');
    expect(field(s, 'file_path')).toBe('C:\\Users\\Lior\\Downloads\\eicarcom2 (7).zip');
    expect(field(s, 'file_name')).toBe('eicarcom2 (7).zip');
    expect(field(s, 'dest')).toBe('6e9567ea-bb50-40c5-9f12-42eb308e4c9b');
    expect(field(s, 'user')).toBe('5d407889-8659-46ab-86c5-4f227302df78');
    expect(field(s, 'severity')).toBe('high');
    expect(field(s, 'vendor_severity')).toBe('high');
    expect(field(s, 'app')).toBe('sophos:central:endpoint');
    expect(field(s, 'tenant_name')).toBe('Qnasters');
  });

  it('prefers host and person names when the alert carries them', () => {
    const s = byOrigin('emulator PUA alert');
    expect(field(s, 'dest')).toBe('LAPTOP-7');
    expect(field(s, 'user')).toBe('ACME\\jdoe');
    expect(field(s, 'action')).toBe('allowed');
    expect(field(s, 'signature')).toBe('PsExec');
    expect(field(s, 'file_name')).toBe('PsExec.exe');
  });

  it('keeps a non-malware alert out of Malware and signs it with the Sophos type', () => {
    const s = byOrigin('emulator out-of-date alert');
    expect(field(s, 'signature')).toBe('Event::Endpoint::OutOfDate');
    expect(field(s, 'action')).toBeUndefined();
    expect(field(s, 'file_path')).toBeUndefined();
    expect(field(s, 'user')).toBe('unknown');
  });

  it('maps SIEM detections: cleaned is blocked, manual clean-up is deferred, path from the remedy items', () => {
    expect(field(byOrigin('emulator SIEM malware detection (cleaned)'), 'action')).toBe('blocked');
    expect(field(byOrigin('emulator SIEM malware detection (cleaned)'), 'file_name')).toBe('eicar.com');
    expect(field(byOrigin('emulator SIEM PUA clean-up failed'), 'action')).toBe('deferred');
    expect(field(byOrigin('emulator SIEM PUA clean-up failed'), 'user')).toBe('ACME\\jdoe');
    const noPath = byOrigin('emulator SIEM malware event without a path in its name');
    expect(field(noPath, 'file_path')).toBe('C:\\foo.dll');
    expect(field(noPath, 'file_name')).toBe('foo.dll');
  });

  it('reads the SIEM "source" user from _raw and the severity as CIM wants it', () => {
    const s = byOrigin('fixture siem-event-item');
    expect(field(s, 'user')).toBe('Lightning-wmknq52avx\\Lightning');
    expect(field(s, 'severity')).toBe('low');
    expect(field(s, 'src')).toBe('81.2.69.192');
    expect(field(s, 'dest')).toBe('Lightning-rvda5c291x');
    expect(field(s, 'action')).toBeUndefined();
  });

  it('maps endpoints to Inventory with the protection product version', () => {
    const s = byOrigin('fixture endpoint-endpoints-list #0');
    expect(field(s, 'dest')).toBe('Thunderbox');
    expect(field(s, 'os')).toBe('Windows 10 Pro');
    expect(field(s, 'ip')).toContain('10.100.102.12');
    expect(field(s, 'mac')).toContain('34:48:ED:5D:72:E5');
    expect(field(s, 'status')).toBe('suspicious');
    expect(field(s, 'product_version')).toBe('2.0.18');
    expect(field(s, 'signature_version')).toBe('2.0.18');
    const linux = byOrigin('emulator Linux server (JSON booleans, IPv6 only)');
    expect(field(linux, 'ip')).toEqual(['2001:db8::10']);
    expect(field(linux, 'signature_version')).toBe('2023.2.1.5');
  });

  it('keeps every EVAL inside the implemented function subset', () => {
    for (const [, keys] of k.props) for (const [key, v] of keys) if (key.startsWith('EVAL-')) expect(() => parseEval(v)).not.toThrow();
  });
});
