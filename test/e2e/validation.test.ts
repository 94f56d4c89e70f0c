// Splunk's external validation through the real wrapper (bin/sophos_central.sh --validate-arguments), as splunkd
// runs it when an admin saves a stanza: each bad configuration gets its own <error><message> and exit 1. Together
// with test/splunk/modinput.test.ts (data, start_days 365, proxy_url with a path, a tenants entry, an empty secret
// with nothing stored) this covers more than fifteen bad configurations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

const base = { client_id: 'c1a2b3c4-0000-4000-8000-000000000001', client_secret: 'clear-secret', data: 'alerts' };

let splunkd: SplunkdStandIn;
beforeAll(async () => {
  splunkd = await startSplunkd();
});
afterAll(() => splunkd.stop());

describe('--validate-arguments through bin/sophos_central.sh', () => {
  it('accepts a good stanza of every data type', async () => {
    for (const data of ['alerts', 'events', 'endpoints', 'tenants']) {
      expect(await splunkd.validate({ ...base, data, interval: '300', index: 'sophos' })).toEqual({ exitCode: 0, stdout: '', stderr: [] });
    }
  });

  it.each([
    [{ client_id: '' }, 'client_id is empty; set it to the Sophos Central API client ID'],
    [{ client_id: 'has space' }, 'client_id is malformed'],
    [{ client_secret: 'two words' }, 'client_secret contains whitespace'],
    [{ client_secret: 'x'.repeat(5000) }, 'client_secret is longer than'],
    [{ data: '' }, 'data is empty; set it to one of alerts, events, endpoints, tenants'],
    [{ start_days: '0' }, 'start_days must be between 1 and 90'],
    [{ start_days: 'seven' }, 'start_days must be a whole number, got "seven"'],
    [{ proxy_url: 'ftp://proxy:21' }, 'proxy_url must be http://host:port or https://host:port'],
    [{ tenants: '6a3c1f0e-2b7d-4e59' }, 'looks like a tenant ID but is not a complete UUID'],
    [{ tenants: 'Acme', exclude_tenants: 'Acme' }, 'tenant "Acme" is both in tenants and in exclude_tenants'],
    [{ exclude_types: 'Event::Endpoint::UpdateSuccess' }, 'exclude_types applies only to data = events'],
    [{ data: 'events', exclude_types: 'not a type' }, 'is not a SIEM event type such as Event::Endpoint::UpdateSuccess'],
    [{ data: 'events', page_size: '50' }, 'page_size for events must be between 200 and 1000'],
    [{ page_size: '5000' }, 'page_size for alerts must be between 1 and 1000'],
    [{ shard: '5/4' }, 'shard must be i/n with 1 <= i <= n'],
    [{ overlap_minutes: '2000' }, 'overlap_minutes must be between 1 and 1440'],
    [{ interval: '10' }, 'interval must be at least 60 seconds'],
    [{ interval: 'hourly' }, 'interval must be a number of seconds (60 or more), -1, or a 5-field cron schedule'],
  ])('%j: one <error><message> and exit 1', async (params, message) => {
    const r = await splunkd.validate({ ...base, ...params });
    expect(r.exitCode).toBe(1);
    expect(r.message).toContain(message);
    expect(r.stdout).toMatch(/^<error><message>[^\n]*<\/message><\/error>$/);
    expect(r.stdout).not.toContain('clear-secret');
  });

  it('an edit without client_id and data (an edit of interval alone may come so) is checked on what it holds', async () => {
    expect(await splunkd.validate({ interval: '600' })).toEqual({ exitCode: 0, stdout: '', stderr: [] });
    expect(await splunkd.validate({ tenants: 'Acme', overlap_minutes: '30' })).toEqual({ exitCode: 0, stdout: '', stderr: [] });
    const r = await splunkd.validate({ interval: '10', start_days: '0' });
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(/^2 problems in this input: \(1\) start_days must be between 1 and 90.*; \(2\) interval must be at least 60 seconds/);
    // Sent, even empty, they are checked.
    expect((await splunkd.validate({ client_id: '', interval: '600' })).message).toContain('client_id is empty');
  });

  it('names every problem of the stanza in one message', async () => {
    const r = await splunkd.validate({ ...base, client_secret: 'two words', data: 'alert', start_days: '0', interval: '10' });
    expect(r.exitCode).toBe(1);
    expect(r.message).toMatch(/^4 problems in this input: \(1\) client_secret contains whitespace.*; \(2\) data must be one of .*; \(3\) start_days must be between 1 and 90.*; \(4\) interval must be at least 60 seconds/);
    expect(r.stdout).not.toContain('two words');
  });
});
