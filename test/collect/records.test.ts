import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ItemSerializer, parseTime } from '../../src/collect/records.js';
import { FIXTURES } from '../helpers/paths.js';

const tenant = { id: 't-1', name: 'Acme "North" <GmbH>' };
const ser = new ItemSerializer(tenant);

describe('ItemSerializer', () => {
  it('adds tenant {id,name} to a SIEM event that has none, leaving every API field as sent', () => {
    const item = JSON.parse(readFileSync(join(FIXTURES, 'sophos', 'siem-event-item.json'), 'utf8')) as Record<string, unknown>;
    const line = ser.serialize(item);
    expect(line).not.toContain('\n');
    const back = JSON.parse(line) as Record<string, unknown>;
    expect(back.tenant).toEqual(tenant);
    delete back.tenant;
    expect(back).toEqual(item);
    expect(Object.keys(back)).toEqual(Object.keys(item));
  });

  it('leaves an alert that already carries tenant {id,name} byte for byte as JSON.stringify writes it', () => {
    const page = JSON.parse(readFileSync(join(FIXTURES, 'sophos', 'common-alerts-list.json'), 'utf8')) as { items: Record<string, unknown>[] };
    for (const alert of page.items) expect(ser.serialize(alert)).toBe(JSON.stringify(alert));
  });

  it('adds only the name to an endpoint whose tenant has an id, keeping the API id and key order', () => {
    const page = JSON.parse(readFileSync(join(FIXTURES, 'sophos', 'endpoint-endpoints-list.json'), 'utf8')) as { items: Record<string, unknown>[] };
    const endpoint = page.items[0]!;
    const sent = endpoint.tenant as { id: string };
    // Collected as that tenant, whose ID the API put on the endpoint.
    const back = JSON.parse(new ItemSerializer({ id: sent.id, name: tenant.name }).serialize(endpoint)) as Record<string, unknown>;
    expect(back.tenant).toEqual({ id: sent.id, name: tenant.name });
    expect(Object.keys(back)).toEqual(Object.keys(endpoint));
    expect(endpoint.tenant).toEqual(sent);
    expect((endpoint.tenant as Record<string, unknown>).name).toBeUndefined();
  });

  const cases: Array<{ name: string; item: Record<string, unknown>; out: unknown }> = [
    { name: 'an empty object', item: {}, out: { tenant } },
    { name: 'a tenant with a name only gets the id', item: { id: 'x', tenant: { name: 'API name' } }, out: { id: 'x', tenant: { name: 'API name', id: 't-1' } } },
    // IDs are UUIDs, whose case varies between APIs: the same tenant in capitals gets its name, its id left as sent.
    { name: 'a tenant whose id is this tenant in another case gets the name', item: { id: 'x', tenant: { id: 'T-1' } }, out: { id: 'x', tenant: { id: 'T-1', name: tenant.name } } },
    { name: "another tenant's id gets no name", item: { id: 'x', tenant: { id: 't-2' } }, out: { id: 'x', tenant: { id: 't-2' } } },
    { name: 'a tenant that is not an object is left as sent', item: { id: 'x', tenant: 'someone' }, out: { id: 'x', tenant: 'someone' } },
    { name: 'a null tenant is left as sent', item: { id: 'x', tenant: null }, out: { id: 'x', tenant: null } },
    { name: 'unicode and line breaks stay escaped on one line', item: { id: 'x', name: 'a\nb\u2028c é' }, out: { id: 'x', name: 'a\nb\u2028c é', tenant } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const line = ser.serialize(c.item);
      expect(line).not.toMatch(/\n/);
      expect(JSON.parse(line)).toEqual(c.out);
    });
  }

  it('gives the item text and the tenant appended to it as two pieces exactly where serialize appends the tenant', () => {
    const text = readFileSync(join(FIXTURES, 'sophos', 'siem-event-item.json'), 'utf8');
    const event = JSON.stringify(JSON.parse(text));
    const item = JSON.parse(event) as Record<string, unknown>;
    const pieces = ser.pieces(item, event);
    expect(pieces).toBeDefined();
    expect(pieces![0]).toBe(event.slice(0, -1));
    expect(pieces!.join('')).toBe(ser.serialize(item, event));
    // Not for an item with a tenant of its own, one without its text, nor `{}` (no comma before the tenant).
    expect(ser.pieces({ id: 'x', tenant: { id: 't-1' } }, '{"id":"x","tenant":{"id":"t-1"}}')).toBeUndefined();
    expect(ser.pieces(item)).toBeUndefined();
    expect(ser.pieces({}, '{}')).toBeUndefined();
  });
});

describe('parseTime', () => {
  it.each([
    ['2020-11-04T09:31:17.546Z', Date.UTC(2020, 10, 4, 9, 31, 17, 546)],
    ['2020-11-04T23:59:59.999Z', Date.UTC(2020, 10, 4, 23, 59, 59, 999)],
    ['2020-11-04T09:60:17.546Z', undefined],
    ['2020-13-04T09:31:17.546Z', undefined],
    ['2020-11-04T09:31:1x.546Z', undefined],
    ['2020-11-04T09:31:17Z', Date.UTC(2020, 10, 4, 9, 31, 17)],
    ['2020-11-04T10:31:17.546+01:00', Date.UTC(2020, 10, 4, 9, 31, 17, 546)],
    ['not a time', undefined],
    [undefined, undefined],
    [12, undefined],
  ])('%s', (value, ms) => expect(parseTime(value)).toBe(ms));

  it('reads a time without an offset as UTC, whatever the forwarder\'s time zone', () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      expect(new Date(Date.UTC(2020, 10, 4)).getHours()).not.toBe(0);
      expect(parseTime('2020-11-04T09:31:17.546')).toBe(Date.UTC(2020, 10, 4, 9, 31, 17, 546));
      expect(parseTime('2020-11-04T09:31:17')).toBe(Date.UTC(2020, 10, 4, 9, 31, 17));
      expect(parseTime('2020-11-04T09:31')).toBe(Date.UTC(2020, 10, 4, 9, 31));
      expect(parseTime('2020-11-04 09:31:17.546')).toBe(Date.UTC(2020, 10, 4, 9, 31, 17, 546));
      expect(parseTime('2020-11-04 09:31:17.546Z')).toBe(Date.UTC(2020, 10, 4, 9, 31, 17, 546));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
