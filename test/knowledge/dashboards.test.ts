// Every dashboard and saved search parses, starts from the sophos_central_index macro, and uses only the
// app's sourcetypes and fields that the app's own events carry once its props have run (sampleEvents()).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseIni } from 'ini';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';
import { SOURCETYPES, sampleEvents } from './samples.js';
import { applyKnowledge, loadKnowledge, readConf } from './splunk-knowledge.js';
import { searchRefs } from './spl-refs.js';

const VIEWS = join(ROOT, 'default', 'data', 'ui', 'views');
const SETUP_VIEW = 'ta_sophos_central_setup';

interface Search { where: string; spl: string }

function dashboardSearches(): Search[] {
  const out: Search[] = [];
  for (const file of readdirSync(VIEWS).filter((f) => f.endsWith('.xml'))) {
    const xml = readFileSync(join(VIEWS, file), 'utf8');
    const valid = XMLValidator.validate(xml);
    if (valid !== true) throw new Error(`${file}: ${valid.err.msg} (line ${valid.err.line})`);
    const doc = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'query' }).parse(xml);
    const queries: string[] = [];
    const walk = (n: unknown) => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') for (const [k, v] of Object.entries(n)) k === 'query' ? queries.push(...(v as unknown[]).map(String)) : walk(v);
    };
    walk(doc);
    queries.forEach((q, i) => out.push({ where: `${file} query ${i + 1}`, spl: q }));
  }
  return out;
}

function savedSearches(): Search[] {
  return [...readConf('savedsearches.conf')].filter(([name]) => name !== 'default').map(([name, s]) => ({ where: `savedsearches.conf [${name}]`, spl: s.get('search') ?? '' }));
}

/** Every field name the sample events of each sourcetype carry after the app's knowledge has run. */
function fieldsBySourcetype(): Map<string, Set<string>> {
  const k = loadKnowledge();
  const map = new Map<string, Set<string>>();
  for (const s of sampleEvents()) {
    const set = map.get(s.sourcetype) ?? new Set<string>();
    for (const f of applyKnowledge(k, s.sourcetype, s.event).fields.keys()) set.add(f);
    map.set(s.sourcetype, set);
  }
  return map;
}

const searches = [...dashboardSearches(), ...savedSearches()];
const available = fieldsBySourcetype();

describe('dashboards and saved searches', () => {
  it('ships the four dashboards, the setup view and navigation to all of them', () => {
    const views = readdirSync(VIEWS).map((f) => f.replace(/\.xml$/, '')).sort();
    expect(views).toEqual(['sophos_central_cleanup_audit', 'sophos_central_collector_health', 'sophos_central_inventory', 'sophos_central_overview', SETUP_VIEW]);
    const nav = readFileSync(join(ROOT, 'default', 'data', 'ui', 'nav', 'default.xml'), 'utf8');
    expect(XMLValidator.validate(nav)).toBe(true);
    for (const v of views) expect(nav).toContain(`<view name="${v}"`);
    const app = parseIni(readFileSync(join(ROOT, 'default', 'app.conf'), 'utf8'));
    expect(app.ui.is_visible).toBe(true);
    expect(app.ui.setup_view).toBe(SETUP_VIEW);
  });

  it('ships the app icons at the sizes Splunk expects', () => {
    const size = (f: string) => {
      const b = readFileSync(join(ROOT, 'static', f));
      expect(b.subarray(1, 4).toString()).toBe('PNG');
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    };
    expect(size('appIcon.png')).toEqual([36, 36]);
    expect(size('appIconAlt.png')).toEqual([36, 36]);
    expect(size('appIcon_2x.png')).toEqual([72, 72]);
    expect(size('appIconAlt_2x.png')).toEqual([72, 72]);
    expect(statSync(join(ROOT, 'static', 'appIcon.png')).mode & 0o111).toBe(0);
  });

  it('finds searches in every dashboard and alerts for stalls, data gaps and tamper protection', () => {
    expect(dashboardSearches().length).toBeGreaterThanOrEqual(15);
    const saved = readConf('savedsearches.conf');
    expect([...saved.keys()].filter((n) => n !== 'default').sort()).toEqual([
      'Sophos Central - Collector stalled', 'Sophos Central - Data gap reported', 'Sophos Central - Tamper protection turned off',
      'Sophos Central - stale device clean-up (example)',
    ]);
    for (const [name, s] of saved) {
      if (name === 'default') continue;
      expect(s.get('disabled'), name).toBe('1');
      expect(s.get('cron_schedule'), name).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    }
  });

  it.each(searches.map((s) => [s.where, s.spl]))('%s starts from the sophos_central_index macro and names only app sourcetypes', (_, spl) => {
    expect(spl.trim()).toMatch(/^`sophos_central_index` /);
    expect((spl.match(/`[^`]+`/g) ?? []).every((m) => m === '`sophos_central_index`')).toBe(true);
    expect(spl).not.toMatch(/\bindex\s*=/);
    const { sourcetypes } = searchRefs(spl);
    expect(sourcetypes.length).toBeGreaterThan(0);
    for (const st of sourcetypes) expect(SOURCETYPES).toContain(st);
  });

  it.each(searches.map((s) => [s.where, s.spl]))('%s reads only fields the app\u2019s events carry', (_, spl) => {
    const { sourcetypes, fields } = searchRefs(spl);
    const known = new Set(sourcetypes.flatMap((st) => [...(available.get(st) ?? [])]));
    expect(fields.filter((f) => !known.has(f))).toEqual([]);
  });

  it("fills the run_summary fields carried only sometimes before 'Latest run per input' takes their latest", () => {
    // latest() skips events without the field: a skew corrected since, or a secret stored since, would show on.
    const xml = readFileSync(join(VIEWS, 'sophos_central_collector_health.xml'), 'utf8');
    const query = xml.split('\n').find((l) => l.includes('type=run_summary') && l.includes('latest(clock_skew_s)'))!;
    const beforeStats = query.slice(0, query.indexOf('| stats'));
    for (const field of ['clock_skew_s', 'secrets_in_clear']) expect(beforeStats).toMatch(new RegExp(`[ ,]${field}=coalesce\\(`));
  });

  it('notices a field the events do not carry', () => {
    const { fields } = searchRefs('`sophos_central_index` sourcetype=sophos:central:alerts | stats count by tenantName');
    expect(fields).toEqual(['tenantName']);
    expect(available.get('sophos:central:alerts')!.has('tenantName')).toBe(false);
    expect(searchRefs('`sophos_central_index` sourcetype=sophos:central:health | eval x=lag_seconds*2 | where x>1 AND nope="a"').fields.sort()).toEqual(['lag_seconds', 'nope']);
    expect(searchRefs("`sophos_central_index` sourcetype=sophos:central:health | eval s=mvjoin('secrets_in_clear{}', \", \")").fields).toEqual(['secrets_in_clear{}']);
  });
});
