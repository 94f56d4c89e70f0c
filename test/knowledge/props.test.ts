// props.conf framing and timestamps: every sourcetype is one-line JSON, and the timestamp Splunk would
// extract agrees with the <time> the input sends (interfaces.md "Events").
import { describe, expect, it } from 'vitest';
import { readConf } from './splunk-knowledge.js';
import { SOURCETYPES, sampleEvents } from './samples.js';

const props = readConf('props.conf');

/** Splunk's strptime for the directives props uses, read as UTC (TZ = UTC in every timestamped stanza). */
function strptimeUtc(text: string, format: string): number | null {
  const parts: Record<string, string> = { Y: '(\\d{4})', m: '(\\d{2})', d: '(\\d{2})', H: '(\\d{2})', M: '(\\d{2})', S: '(\\d{2})', '3N': '(\\d{3})', Z: '(Z|[+-]\\d{2}:?\\d{2})' };
  const order: string[] = [];
  const pattern = format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%(3N|[YmdHMSZ])/g, (_, d: string) => {
    if (!parts[d]) throw new Error(`unsupported directive %${d}`);
    order.push(d);
    return parts[d]!;
  });
  const m = new RegExp(`^${pattern}`).exec(text);
  if (!m) return null;
  const v = Object.fromEntries(order.map((d, i) => [d, m[i + 1]!]));
  if (v.Z && v.Z !== 'Z') throw new Error('only Z offsets appear in Sophos timestamps');
  return Date.UTC(+v.Y!, +v.m! - 1, +v.d!, +v.H!, +v.M!, +v.S!, +(v['3N'] ?? 0));
}

/** The epoch ms Splunk extracts from an event with this stanza's TIME_* settings. */
function extractTime(stanza: Map<string, string>, raw: string): number | null {
  const prefix = new RegExp(stanza.get('TIME_PREFIX')!).exec(raw);
  if (!prefix) return null;
  const start = prefix.index + prefix[0].length;
  const text = raw.slice(start, start + Number(stanza.get('MAX_TIMESTAMP_LOOKAHEAD') ?? 128));
  return strptimeUtc(text, stanza.get('TIME_FORMAT')!);
}

// The field each sourcetype's <time> comes from; undefined means collection time.
const TIME_FIELD: Record<string, string | undefined> = {
  'sophos:central:alerts': 'raisedAt',
  'sophos:central:events': 'when',
  'sophos:central:cleanup': 'time',
};

describe('props.conf', () => {
  it.each(SOURCETYPES)('%s is one-line JSON with a bounded TRUNCATE', (st) => {
    const s = props.get(st);
    expect(s, `missing [${st}]`).toBeDefined();
    expect(s!.get('KV_MODE')).toBe('json');
    expect(s!.get('SHOULD_LINEMERGE')).toBe('false');
    expect(s!.get('LINE_BREAKER')).toBe('([\\r\\n]+)');
    expect(s!.has('INDEXED_EXTRACTIONS')).toBe(false);
    const truncate = Number(s!.get('TRUNCATE'));
    expect(truncate).toBeGreaterThanOrEqual(10_000);
    expect(truncate).toBeLessThanOrEqual(1_000_000);
  });

  it('keeps every sample event under its TRUNCATE', () => {
    for (const s of sampleEvents()) expect(JSON.stringify(s.event).length).toBeLessThan(Number(props.get(s.sourcetype)!.get('TRUNCATE')));
  });

  it('extracts exactly the <time> field for alerts, SIEM events and clean-up lines', () => {
    let checked = 0;
    for (const s of sampleEvents()) {
      const field = TIME_FIELD[s.sourcetype];
      if (!field) continue;
      const stanza = props.get(s.sourcetype)!;
      expect(stanza.get('TZ')).toBe('UTC');
      expect(stanza.has('DATETIME_CONFIG')).toBe(false);
      expect(extractTime(stanza, JSON.stringify(s.event)), s.origin).toBe(Date.parse(String(s.event[field])));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  it('does not take the SIEM event time from created_at even when it comes first', () => {
    const stanza = props.get('sophos:central:events')!;
    const raw = JSON.stringify({ created_at: '2022-11-24T07:06:40.920Z', when: '2022-11-24T07:06:40.883Z' });
    expect(extractTime(stanza, raw)).toBe(Date.parse('2022-11-24T07:06:40.883Z'));
  });

  it.each(['sophos:central:endpoints', 'sophos:central:tenants', 'sophos:central:health'])(
    '%s keeps the collection time the input sends instead of lastSeenAt and other timestamps',
    (st) => {
      expect(props.get(st)!.get('DATETIME_CONFIG')).toBe('NONE');
      expect(props.get(st)!.has('TIME_PREFIX')).toBe(false);
    },
  );
});
