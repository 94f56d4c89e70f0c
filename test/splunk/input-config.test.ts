import { describe, expect, it } from 'vitest';
import { intervalProblem, likelyTypos, misfitParams, proxyCredential, validateInputParams, withProxyPassword, type RawParams } from '../../src/config/input-config.js';
import { ConfigError } from '../../src/errors.js';

const TENANT = '0b3c4d5e-1f2a-4b6c-8d9e-0a1b2c3d4e5f';
const good: RawParams = { client_id: 'c1a2b3c4-0000-4000-8000-000000000001', client_secret: 's3cr3t-value', data: 'alerts' };

function failure(params: RawParams): ConfigError {
  try {
    validateInputParams({ ...good, ...params });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(params)}`);
}

describe('validateInputParams with onMisfit: what a run does with a parameter inherited from another data type', () => {
  const run = (params: RawParams) => {
    const told: Array<[string | undefined, string, string]> = [];
    const config = validateInputParams({ ...good, ...params }, { checkInterval: false, onMisfit: (problem, instead) => told.push([problem.param, problem.message, instead]) });
    return { config, told };
  };

  it('leaves out a parameter of another data type, and says so with the message validation gives', () => {
    const { config, told } = run({ data: 'alerts', exclude_types: 'Event::Endpoint::UpdateSuccess' });
    expect(config.excludeTypes).toEqual([]);
    expect(told).toEqual([['exclude_types', expect.stringMatching(/^exclude_types applies only to data = events .*\[sophos_central\] default stanza/), 'exclude_types is left out']]);
    // Whatever its value: it is not this input's to judge.
    expect(run({ data: 'endpoints', overlap_minutes: '30m' }).told).toEqual([['overlap_minutes', expect.any(String), 'overlap_minutes is left out']]);
    const events = run({ data: 'events', overlap_minutes: '30' });
    expect(events.config.overlapMinutes).toBeUndefined();
    expect(events.told).toEqual([['overlap_minutes', expect.stringMatching(/^overlap_minutes applies only to data = alerts/), 'overlap_minutes is left out']]);
  });

  it('asks for the nearest page size the API takes', () => {
    expect(run({ data: 'endpoints', page_size: '1000' }).config.pageSize).toBe(500);
    expect(run({ data: 'events', page_size: '100' }).config.pageSize).toBe(200);
    expect(run({ data: 'endpoints', page_size: '1000' }).told).toEqual([['page_size', expect.stringMatching(/^page_size for endpoints must be between 1 and 500/), 'pages of 500 are asked for']]);
  });

  it('still refuses what is wrong whatever the data type, and is told of nothing that fits', () => {
    expect(() => run({ data: 'alerts', exclude_types: 'Event::Endpoint::UpdateSuccess', start_days: '91' })).toThrow(/^start_days must be between 1 and 90/);
    expect(() => run({ data: 'events', page_size: 'many' })).toThrow(/^page_size must be a whole number/);
    expect(() => run({ data: 'alerts', overlap_minutes: '0' })).toThrow(/^overlap_minutes must be between 1 and 1440/);
    // A page size no data type takes is not meant for another one: pages of 1 would be one request per item.
    expect(() => run({ data: 'endpoints', page_size: '0' })).toThrow(/^page_size for endpoints must be between 1 and 500/);
    expect(() => run({ data: 'alerts', page_size: '5000' })).toThrow(/^page_size for alerts must be between 1 and 1000/);
    expect(run({ data: 'events', exclude_types: 'Event::Endpoint::UpdateSuccess', page_size: '1000' }).told).toEqual([]);
  });
});

describe('misfitParams', () => {
  it('names the parameters that do not fit the data type', () => {
    expect(misfitParams({ data: 'endpoints', exclude_types: 'Event::Endpoint::UpdateSuccess', overlap_minutes: '30', page_size: '1000' })).toEqual(['exclude_types', 'overlap_minutes', 'page_size']);
    expect(misfitParams({ data: 'alerts', overlap_minutes: '30', page_size: '1000' })).toEqual([]);
  });

  it('names none while data is itself invalid, nor a value wrong in itself', () => {
    expect(misfitParams({ data: 'logs', exclude_types: 'Event::Endpoint::UpdateSuccess' })).toEqual([]);
    expect(misfitParams({ exclude_types: 'Event::Endpoint::UpdateSuccess' })).toEqual([]);
    expect(misfitParams({ data: 'endpoints', page_size: 'many' })).toEqual([]);
    expect(misfitParams({ data: 'endpoints', page_size: '0' })).toEqual([]);
  });
});

describe('validateInputParams: bad configurations', () => {
  const cases: Array<[string, RawParams, string, RegExp]> = [
    ['unknown data type', { data: 'alert' }, 'data', /^data must be one of alerts, events, endpoints, tenants, got "alert"$/],
    ['empty data', { data: '' }, 'data', /^data is empty; set it to one of alerts, events, endpoints, tenants$/],
    ['start_days 0', { start_days: '0' }, 'start_days', /^start_days must be between 1 and 90 .*got 0$/],
    ['start_days 91', { start_days: '91' }, 'start_days', /^start_days must be between 1 and 90 .*got 91$/],
    ['start_days not an integer', { start_days: '1.5' }, 'start_days', /^start_days must be a whole number, got "1.5"$/],
    ['start_days words', { start_days: 'seven' }, 'start_days', /^start_days must be a whole number, got "seven"$/],
    ['empty client_id', { client_id: '  ' }, 'client_id', /^client_id is empty; set it to the Sophos Central API client ID/],
    ['client_id with spaces', { client_id: 'abc def' }, 'client_id', /^client_id is malformed: .*without spaces$/],
    ['client_secret with whitespace', { client_secret: 'abc def' }, 'client_secret', /^client_secret contains whitespace/],
    ['client_secret too long', { client_secret: 'x'.repeat(256) }, 'client_secret', /^client_secret is longer than 255 characters/],
    ['proxy without port', { proxy_url: 'http://proxy.corp' }, 'proxy_url', /^proxy_url must be .*\(the port is required\), got "http:\/\/proxy\.corp"$/],
    ['proxy port 0', { proxy_url: 'http://proxy.corp:0' }, 'proxy_url', /\(the port must be 1 to 65535\), got "http:\/\/proxy\.corp:0"$/],
    ['proxy with a path', { proxy_url: 'http://proxy.corp:3128/path' }, 'proxy_url', /\(no path, query or fragment allowed\)/],
    ['proxy with a bad scheme', { proxy_url: 'socks5://proxy.corp:1080' }, 'proxy_url', /\(scheme socks5 is not supported\)/],
    ['proxy not a URL', { proxy_url: 'proxy.corp:3128' }, 'proxy_url', /proxy_url must be/],
    ['proxy password with a stray %', { proxy_url: 'http://user:50%off@proxy.corp:3128' }, 'proxy_url', /^proxy_url must be .*\(the user name or password has a malformed %-escape: write % as %25\), got "http:\/\/\*\*\*@proxy\.corp:3128"$/],
    ['proxy password with an @ as is', { proxy_url: 'http://user:p@ss@proxy.corp:3128' }, 'proxy_url', /\(an @ or a blank in the user name or password must be %-encoded, as %40 and %20\), got "http:\/\/\*\*\*@proxy\.corp:3128"$/],
    ['proxy password with a blank', { proxy_url: 'http://user:my pass@proxy.corp:3128' }, 'proxy_url', /\(an @ or a blank in the user name or password must be %-encoded, as %40 and %20\), got "http:\/\/\*\*\*@proxy\.corp:3128"$/],
    ['proxy password without a user', { proxy_url: 'http://:pw@proxy.corp:3128' }, 'proxy_url', /\(a password needs a user name before it\), got "http:\/\/\*\*\*@proxy\.corp:3128"$/],
    ['proxy password too long', { proxy_url: `http://u:${'p'.repeat(256)}@proxy.corp:3128` }, 'proxy_url', /\(the password is longer than 255 characters, more than Splunk's storage\/passwords holds\)/],
    ['truncated tenant ID', { tenants: '0b3c4d5e-1f2a-4b6c-8d9e' }, 'tenants', /^tenants: "0b3c4d5e-1f2a-4b6c-8d9e" looks like a tenant ID but is not a complete UUID/],
    ['tenant name with markup', { tenants: 'Acme, <script>' }, 'tenants', /^tenants: "<script>" is neither a tenant ID \(UUID\) nor a tenant name/],
    ['tenant name ending in a backslash', { tenants: 'Ops\\' }, 'tenants', /^tenants: "Ops\\" is neither .*and no \\ at the end\)$/],

    ['exclude_tenants punctuation only', { exclude_tenants: '---' }, 'exclude_tenants', /^exclude_tenants: "---" is neither/],
    ['tenant included and excluded', { tenants: `${TENANT},Acme`, exclude_tenants: TENANT.toUpperCase() }, 'exclude_tenants', /^tenant ".*" is both in tenants and in exclude_tenants/],
    ['exclude_types not an event type', { data: 'events', exclude_types: 'UpdateSuccess' }, 'exclude_types', /^exclude_types: "UpdateSuccess" is not a SIEM event type such as Event::Endpoint::UpdateSuccess$/],
    ['exclude_types longer than a request URL holds', { data: 'events', exclude_types: Array.from({ length: 220 }, (_, i) => `Event::Endpoint::Type${i}`).join(',') }, 'exclude_types', /^exclude_types: 220 types take 7\d{3} bytes of the request URL, more than the 7000 that fit; list fewer types/],
    ['exclude_types on alerts', { data: 'alerts', exclude_types: 'Event::Endpoint::UpdateSuccess' }, 'exclude_types', /^exclude_types applies only to data = events/],
    ['page_size not an integer', { page_size: '10x' }, 'page_size', /^page_size must be a whole number, got "10x"$/],
    ['start_days with 23 digits', { start_days: '99999999999999999999999' }, 'start_days', /^start_days is far too large, got "99999999999999999999999"$/],
    ['page_size over the endpoints maximum', { data: 'endpoints', page_size: '501' }, 'page_size', /^page_size for endpoints must be between 1 and 500 .*got 501/],
    ['page_size under the SIEM minimum', { data: 'events', page_size: '100' }, 'page_size', /^page_size for events must be between 200 and 1000/],
    ['shard i > n', { shard: '3/2' }, 'shard', /^shard must be i\/n with 1 <= i <= n <= 1000, for example 2\/4, got "3\/2"$/],
    ['shard 0/4', { shard: '0/4' }, 'shard', /^shard must be i\/n/],
    ['shard garbage', { shard: 'half' }, 'shard', /^shard must be i\/n/],
    ['overlap_minutes zero', { overlap_minutes: '0' }, 'overlap_minutes', /^overlap_minutes must be between 1 and 1440 \(one day\), got 0; leave it empty for 15$/],
    ['overlap_minutes over a day', { overlap_minutes: '1441' }, 'overlap_minutes', /^overlap_minutes must be between 1 and 1440/],
    ['overlap_minutes not a number', { overlap_minutes: '15m' }, 'overlap_minutes', /^overlap_minutes must be a whole number, got "15m"$/],
    ['overlap_minutes on events', { data: 'events', overlap_minutes: '30' }, 'overlap_minutes', /^overlap_minutes applies only to data = alerts; remove it from this events input \(or from the \[sophos_central\] default stanza in inputs.conf, which every input inherits\)$/],
    ['tenant_concurrency zero', { tenant_concurrency: '0' }, 'tenant_concurrency', /^tenant_concurrency must be between 1 and 32, got 0; leave it empty for 4$/],
    ['tenant_concurrency too high', { tenant_concurrency: '64' }, 'tenant_concurrency', /^tenant_concurrency must be between 1 and 32, got 64/],
    ['interval too short', { interval: '5' }, 'interval', /^interval must be at least 60 seconds/],
    ['interval nonsense', { interval: 'often' }, 'interval', /^interval must be a number of seconds .*got "often"$/],
    ['interval: a cron field of letters', { interval: 'a b c d e' }, 'interval', /^interval: "a" is not a valid cron minute field \(0-59, \*, lists, ranges and \/steps\), in "a b c d e"$/],
    ['interval: cron numbers out of range', { interval: '0 99 * * *' }, 'interval', /^interval: "99" is not a valid cron hour field \(0-23/],
    ['interval: a cron range backwards', { interval: '0 0 * 12-3 *' }, 'interval', /^interval: "12-3" is not a valid cron month field/],
    ['interval: a cron step of 0', { interval: '*/0 * * * *' }, 'interval', /^interval: "\*\/0" is not a valid cron minute field/],
  ];
  it.each(cases)('%s', (_name, params, param, message) => {
    const err = failure(params);
    expect(err.message).toMatch(message);
    expect(err.param).toBe(param);
  });

  it('covers at least fifteen bad configurations', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it('names every problem of a stanza at once, numbered in parameter order, the first as the param', () => {
    const err = failure({ client_id: '', data: 'alert', start_days: '365', tenants: 'Acme, <b>', interval: '5' });
    expect(err.param).toBe('client_id');
    expect(err.message).toMatch(/^5 problems in this input: \(1\) client_id is empty; .*; \(2\) data must be one of .*, got "alert"; \(3\) start_days must be between 1 and 90 .*got 365; \(4\) tenants: "<b>" is neither .*; \(5\) interval must be at least 60 seconds/);
  });

  it('reports the shard and the proxy too, and skips what depends on an invalid data', () => {
    const err = failure({ data: 'logs', page_size: '5000', exclude_types: 'Event::Endpoint::UpdateSuccess', shard: '9/4', proxy_url: 'http://u:pa55word@proxy' });
    expect(err.message).toMatch(/^3 problems in this input: \(1\) data must be one of .*; \(2\) shard must be i\/n .*got "9\/4"; \(3\) proxy_url must be .*"http:\/\/\*\*\*@proxy"$/);
    expect(err.message).not.toContain('pa55word');
    // A page_size that is not a number is wrong whatever data says.
    expect(failure({ data: 'logs', page_size: 'many' }).message).toMatch(/\(2\) page_size must be a whole number, got "many"$/);
  });

  it('never repeats proxy credentials or the client secret in a message', () => {
    const err = failure({ proxy_url: 'http://user:pa55word@proxy.corp/x' });
    expect(err.message).toContain('http://***@proxy.corp/x');
    expect(err.message).not.toContain('pa55word');
    // An unencoded / or @ in the password, or no scheme at all: still nothing of it.
    for (const [proxy_url, shown] of [
      ['http://squid:Secr3t/Pw@127.0.0.1:3128', 'http://***@127.0.0.1:3128'],
      ['http://squid:Secr3t@Pw9@127.0.0.1:3128', 'http://***@127.0.0.1:3128'],
      ['squid:Secr3t@127.0.0.1:3128', '***@127.0.0.1:3128'],
    ] as const) {
      const message = failure({ proxy_url }).message;
      expect(message).toContain(`got "${shown}"`);
      expect(message).not.toContain('Secr3t');
    }
    const secret = 'very secret ' + 'y'.repeat(20);
    expect(failure({ client_secret: secret }).message).not.toContain('yyyy');
  });
});

describe('validateInputParams: good configurations', () => {
  it('applies defaults', () => {
    expect(validateInputParams(good)).toEqual({
      clientId: good.client_id,
      clientSecret: 's3cr3t-value',
      data: 'alerts',
      tenants: [],
      excludeTenants: [],
      startDays: 1,
      excludeTypes: [],
    });
  });

  it('treats the mask placeholder and an empty secret as "read it from storage/passwords"', () => {
    expect(validateInputParams({ ...good, client_secret: '********' }).clientSecret).toBeUndefined();
    // Splunk Web's password field may mask with another count of asterisks.
    for (const mask of ['*', '****', '**********']) expect(validateInputParams({ ...good, client_secret: mask }).clientSecret).toBeUndefined();
    expect(validateInputParams({ ...good, client_secret: '' }).clientSecret).toBeUndefined();
    expect('clientSecret' in validateInputParams({ ...good, client_secret: undefined })).toBe(false);
  });

  it('reads every parameter', () => {
    const config = validateInputParams({
      ...good,
      data: 'events',
      tenants: ` ${TENANT.toUpperCase()} , Acme Ltd., acme ltd.,`,
      exclude_tenants: ['Globex (EU)', 'Initech'],
      start_days: '90',
      exclude_types: 'Event::Endpoint::UpdateSuccess, Event::Endpoint::Device::AlertedOnly',
      page_size: '1000',
      shard: '2/4',
      proxy_url: 'https://user:pw@proxy.corp:3128/',
      interval: '300',
      index: 'sophos',
      host: 'central',
      disabled: '0',
    });
    expect(config).toEqual({
      clientId: good.client_id,
      clientSecret: 's3cr3t-value',
      data: 'events',
      tenants: [TENANT, 'Acme Ltd.'],
      excludeTenants: ['Globex (EU)', 'Initech'],
      startDays: 90,
      excludeTypes: ['Event::Endpoint::UpdateSuccess', 'Event::Endpoint::Device::AlertedOnly'],
      pageSize: 1000,
      shard: { index: 2, count: 4 },
      proxyUrl: 'https://user:pw@proxy.corp:3128',
      index: 'sophos',
      host: 'central',
      intervalSeconds: 300,
    });
  });

  it('names parameters that look like typos of known ones, and nothing else', () => {
    const known = ['start_days', 'exclude_tenants', 'exclude_types', 'page_size', 'interval', 'index', 'host', 'data'];
    const params = { start_day: '7', Exclude_Tenant: 'x', page_sizes: '5', indx: 'main', interval: '300', hots: 'h', queueSize: '1MB', 'python.version': 'python3' };
    expect(likelyTypos(params, known)).toEqual([
      { given: 'start_day', meant: 'start_days' },
      { given: 'Exclude_Tenant', meant: 'exclude_tenants' },
      { given: 'page_sizes', meant: 'page_size' },
      { given: 'indx', meant: 'index' },
    ]);
  });

  it('takes tenant names with any punctuation but markup', () => {
    const names = ['R&D | Labs', 'Smith "East"', 'Ops {EU} \\ 2*3?', 'Café ^ `Nord`'];
    expect(validateInputParams({ ...good, tenants: names.join(',') }).tenants).toEqual(names);
  });

  it('takes cron schedules with lists, ranges, steps and month or weekday names', () => {
    for (const interval of ['*/5 * * * *', '0,30 8-18 * * mon-fri', '15 2 1 jan,JUL *', '0 0 1-31/2 * 0,7', '59 23 31 12 sun']) {
      expect(() => validateInputParams({ ...good, interval }), interval).not.toThrow();
    }
  });

  it('leaves index "default", host "$decideOnStartup", cron and -1 intervals to splunkd', () => {
    const config = validateInputParams({ ...good, index: 'default', host: '$decideOnStartup', interval: '*/5 * * * *' });
    expect(config.index).toBeUndefined();
    expect(config.host).toBeUndefined();
    expect(config.intervalSeconds).toBeUndefined();
    expect(validateInputParams({ ...good, interval: '-1' }).intervalSeconds).toBeUndefined();
    expect(validateInputParams({ ...good, interval: '0' }, { checkInterval: false }).intervalSeconds).toBeUndefined();
    expect(validateInputParams({ ...good, interval: '90.5' }).intervalSeconds).toBe(90.5);
    expect(() => validateInputParams({ ...good, proxy_url: 'http://[::1]:8080' })).not.toThrow();
  });

  it('takes tenant_concurrency, and leaves it unset by default', () => {
    expect(validateInputParams({ ...good, tenant_concurrency: '16' }).tenantConcurrency).toBe(16);
    expect(validateInputParams(good).tenantConcurrency).toBeUndefined();
  });

  it('takes overlap_minutes for alerts, and leaves it unset by default', () => {
    expect(validateInputParams({ ...good, overlap_minutes: '120' }).overlapMinutes).toBe(120);
    expect(validateInputParams(good).overlapMinutes).toBeUndefined();
  });

  it('a run leaves a short interval to a warning: the rest of the stanza is still checked', () => {
    expect(validateInputParams({ ...good, interval: '0' }, { checkInterval: false }).clientId).toBe(good.client_id);
    expect(intervalProblem({ ...good, interval: '0' })).toMatch(/^interval must be at least 60 seconds .*got 0$/);
    expect(intervalProblem({ ...good, interval: '300' })).toBeUndefined();
    expect(() => validateInputParams({ ...good, interval: '0', data: 'x' }, { checkInterval: false })).toThrow(/^data must be one of/);
  });
});

describe('proxy credentials in a checked proxy_url', () => {
  it('decodes the password and names the account by user, host and port, the host in lower case', () => {
    expect(proxyCredential('http://dom%5Cuser:p%40ss%3Aw%2Frd@Proxy.Corp:3128')).toEqual({ account: 'dom\\user@proxy.corp:3128', password: 'p@ss:w/rd', masked: false });
    expect(proxyCredential('https://user:pw@[::1]:8080')).toEqual({ account: 'user@[::1]:8080', password: 'pw', masked: false });
    // One account however the port is spelled, the scheme's default one included.
    expect(proxyCredential('http://user:pw@proxy.corp:03128')!.account).toBe('user@proxy.corp:3128');
    expect(proxyCredential('http://user:pw@proxy.corp:80')!.account).toBe('user@proxy.corp:80');
    expect(proxyCredential('https://user:pw@proxy.corp:443')!.account).toBe('user@proxy.corp:443');
  });

  it('is masked only when the mask is written as is: eight asterisks %-encoded are a real password', () => {
    expect(proxyCredential('http://user:********@proxy.corp:3128')).toEqual({ account: 'user@proxy.corp:3128', password: '********', masked: true });
    expect(proxyCredential('http://user:%2A%2A%2A%2A%2A%2A%2A%2A@proxy.corp:3128')).toEqual({ account: 'user@proxy.corp:3128', password: '********', masked: false });
  });

  it('has none without a password', () => {
    expect(proxyCredential('http://proxy.corp:3128')).toBeUndefined();
    expect(proxyCredential('http://user@proxy.corp:3128')).toBeUndefined();
    expect(proxyCredential('http://user:@proxy.corp:3128')).toBeUndefined();
  });

  it('replaces the password, keeping the rest as written: the mask as is, a clear one %-encoded so that it decodes back', () => {
    const url = 'HTTP://dom%5Cuser:old@Proxy.Corp:3128';
    expect(withProxyPassword(url, '********')).toBe('HTTP://dom%5Cuser:********@Proxy.Corp:3128');
    const back = withProxyPassword(url, 'p@ss:w/rd%25');
    expect(back).toBe('HTTP://dom%5Cuser:p%40ss%3Aw%2Frd%2525@Proxy.Corp:3128');
    expect(proxyCredential(back)!.password).toBe('p@ss:w/rd%25');
    // What undici's ProxyAgent sends: the URL's user and password, decoded.
    const parsed = new URL(back);
    expect([decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)]).toEqual(['dom\\user', 'p@ss:w/rd%25']);
    expect(withProxyPassword('http://proxy.corp:3128', 'x')).toBe('http://proxy.corp:3128');
  });
});
