// Parameters an admin sets in the [sophos_central] default stanza reach every input, whatever its data type:
// exclude_types set there for the SIEM inputs reaches the alerts and endpoints inputs too. A run collects
// without what does not fit its data type, with a WARN, and its masking edit is not refused for it, whichever
// way splunkd builds an edit's validation items (splunk-addon.md §1.6 leaves it open).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOURCETYPE, startWorld, type DataType, type World } from './world.js';

const INHERITED = {
  exclude_types: 'Event::Endpoint::UpdateSuccess',
  overlap_minutes: '30',
  page_size: '1000',
};

const warnings = (stderr: string[]) => stderr.filter((l) => l.startsWith('WARN') || l.startsWith('ERROR'));

for (const editItems of ['fields', 'stanza'] as const) {
  describe(`an input inheriting parameters of another data type (edit validation given the ${editItems})`, () => {
    let w: World;
    beforeAll(async () => {
      w = await startWorld({ tenants: 2, endpointsPerTenant: 700, alertsPerTenant: 20, eventsPerTenant: 20 }, {}, { editItems });
      Object.assign(w.splunkd.defaultStanza, INHERITED);
    });
    afterAll(() => w.stop());

    const run = async (name: string, data: DataType) => {
      const r = await w.run(name, w.params(data, { start_days: '90' }));
      expect(r.exitCode).toBe(0);
      // Masked on the first run, and nothing inherited pinned into the stanza by the masking edit: a later change
      // of the default stanza still reaches the input.
      expect(w.splunkd.stanzas.get(name)!.params).toMatchObject({ client_secret: '********' });
      for (const param of Object.keys(INHERITED)) expect(w.splunkd.stanzas.get(name)!.params[param]).toBeUndefined();
      expect(r.stdout + r.stderr.join('\n')).not.toContain(w.emu.clientSecret);
      return r;
    };

    it('endpoints: leaves out exclude_types and overlap_minutes, asks for pages of 500, collects every endpoint and masks the secret', async () => {
      const before = w.emu.requests.length;
      const r = await run('inventory', 'endpoints');
      expect(warnings(r.stderr)).toEqual([
        expect.stringMatching(/^WARN .*sophos_central:\/\/inventory: exclude_types applies only to data = events .*\[sophos_central\] default stanza.*: exclude_types is left out, collecting anyway$/),
        expect.stringMatching(/^WARN .*overlap_minutes applies only to data = alerts; remove it from this endpoints input .*: overlap_minutes is left out, collecting anyway$/),
        expect.stringMatching(/^WARN .*page_size for endpoints must be between 1 and 500 .*got 1000.*: pages of 500 are asked for, collecting anyway$/),
      ]);
      expect(r.records.filter((x) => x.sourcetype === SOURCETYPE.endpoints)).toHaveLength(1400);
      const pages = w.emu.requests.slice(before).filter((q) => q.route === 'endpoints');
      expect(pages.length).toBeGreaterThan(0);
      expect(new Set(pages.map((q) => q.query.pageSize))).toEqual(new Set(['500']));
      expect(w.splunkd.stanzas.get('inventory')!.params.exclude_types).toBeUndefined();
    });

    it('alerts: leaves out exclude_types only; events: leaves out overlap_minutes only, and applies exclude_types', async () => {
      const alerts = await run('alerts', 'alerts');
      expect(warnings(alerts.stderr)).toEqual([expect.stringMatching(/exclude_types applies only to data = events.*: exclude_types is left out, collecting anyway$/)]);
      expect(alerts.records.filter((x) => x.sourcetype === SOURCETYPE.alerts).length).toBeGreaterThan(0);

      const before = w.emu.requests.length;
      const events = await run('events', 'events');
      expect(warnings(events.stderr)).toEqual([expect.stringMatching(/overlap_minutes applies only to data = alerts.*: overlap_minutes is left out, collecting anyway$/)]);
      const siem = w.emu.requests.slice(before).filter((q) => q.route === 'siem-events');
      expect(siem.length).toBeGreaterThan(0);
      for (const q of siem) expect(q.query).toMatchObject({ exclude_types: INHERITED.exclude_types, limit: '1000' });
      // The second run reads the stored secret: still no problem but the warning. A change of the default stanza
      // reaches the input, which the masking edit did not pin to the value it had then.
      w.splunkd.defaultStanza.exclude_types = 'Event::Endpoint::Registered';
      const mark = w.emu.requests.length;
      const again = await w.run('events');
      expect(again.exitCode).toBe(0);
      expect(warnings(again.stderr)).toHaveLength(1);
      const asked = w.emu.requests.slice(mark).filter((q) => q.route === 'siem-events');
      expect(asked.length).toBeGreaterThan(0);
      for (const q of asked) expect(q.query.exclude_types).toBe('Event::Endpoint::Registered');
      w.splunkd.defaultStanza.exclude_types = INHERITED.exclude_types;
    });

    it('validation still refuses such a parameter when an edit sets it, and accepts the inherited value posted back', async () => {
      await run('edited', 'alerts');
      const base = { client_id: w.emu.clientId, client_secret: '********', data: 'alerts' };
      // As Splunk Web posts the form: every field with its value, the inherited one included.
      const same = await w.splunkd.validate({ ...base, ...INHERITED }, { name: 'edited' });
      expect(same.message).toBeUndefined();
      expect(same.exitCode).toBe(0);
      const changed = await w.splunkd.validate({ ...base, exclude_types: 'Event::Endpoint::Registered' }, { name: 'edited' });
      expect(changed.exitCode).toBe(1);
      expect(changed.message).toMatch(/^exclude_types applies only to data = events/);
      const created = await w.splunkd.validate({ ...base, client_secret: w.emu.clientSecret, page_size: '5000' }, { name: 'new_one' });
      expect(created.exitCode).toBe(1);
      expect(created.message).toMatch(/^page_size for alerts must be between 1 and 1000/);
    });

    it('validation refuses an edit that changes data while the input keeps a parameter of the old data type', async () => {
      // An events input with its own exclude_types, edited to alerts in Splunk Web (every field posted back).
      const own = { ...w.params('events'), client_secret: '********', exclude_types: 'Event::Endpoint::Registered', page_size: '1000' };
      w.splunkd.stanzas.set('siem_own', { app: 'TA-sophos-central', params: own });
      const toAlerts = await w.splunkd.validate({ ...own, data: 'alerts' }, { name: 'siem_own' });
      expect(toAlerts.exitCode).toBe(1);
      expect(toAlerts.message).toMatch(/exclude_types applies only to data = events/);
      const toEndpoints = await w.splunkd.validate({ ...own, exclude_types: '', data: 'endpoints' }, { name: 'siem_own' });
      expect(toEndpoints.exitCode).toBe(1);
      expect(toEndpoints.message).toMatch(/^page_size for endpoints must be between 1 and 500/);
      // The same fields with data unchanged are what the stanza already has.
      expect((await w.splunkd.validate(own, { name: 'siem_own' })).exitCode).toBe(0);
    });
  });
}
