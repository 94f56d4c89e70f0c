import { describe, expect, it } from 'vitest';
import { ConfigError, RefusedHostError } from '../../src/errors.js';
import { checkRegionHost, regionOfHost, resolveBaseUrls } from '../../src/central/hosts.js';

const real = resolveBaseUrls({}, {});
const overridden = resolveBaseUrls({}, { SOPHOS_CENTRAL_API_URL: 'http://127.0.0.1:41002/' });

describe('resolveBaseUrls', () => {
  it('defaults to the real Sophos URLs', () => {
    expect(real).toEqual({ authUrl: 'https://id.sophos.com', apiUrl: 'https://api.central.sophos.com', overrideHostname: undefined, overrideProtocol: undefined });
  });
  it('takes scheme, host and port from the environment, options first', () => {
    const env = { SOPHOS_CENTRAL_AUTH_URL: 'http://127.0.0.1:1/ignored/path', SOPHOS_CENTRAL_API_URL: 'http://localhost:2' };
    expect(resolveBaseUrls({}, env)).toEqual({ authUrl: 'http://127.0.0.1:1', apiUrl: 'http://localhost:2', overrideHostname: 'localhost', overrideProtocol: 'http:' });
    expect(resolveBaseUrls({ apiUrl: 'https://gw.example:8443' }, env).apiUrl).toBe('https://gw.example:8443');
  });
  it('rejects a base URL that is not http(s) with a ConfigError naming it', () => {
    expect(() => resolveBaseUrls({}, { SOPHOS_CENTRAL_API_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => resolveBaseUrls({ authUrl: 'ftp://x' }, {})).toThrow(/authUrl must be an http or https URL/);
  });
});

describe('checkRegionHost', () => {
  it.each([
    ['https://api-eu01.central.sophos.com', 'https://api-eu01.central.sophos.com'],
    ['https://api-us03.central.sophos.com/', 'https://api-us03.central.sophos.com'],
    ['https://API-JP01.central.sophos.com:443', 'https://api-jp01.central.sophos.com'],
  ])('accepts the region host %s', (host, origin) => {
    expect(checkRegionHost(host, real)).toBe(origin);
  });

  it.each([
    'http://api-eu01.central.sophos.com',
    'https://api-eu01.central.sophos.com:8443',
    'https://api-eu01.central.sophos.com.evil.example',
    'https://evil.example/api-eu01.central.sophos.com',
    'https://api.central.sophos.com',
    'https://api-eu01.dev.central.sophos.com',
    'https://user:pw@api-eu01.central.sophos.com',
    'https://api-eu01.central.sophos.com/path',
    'https://api-eu01.central.sophos.com?x=1',
    'https://api-europe.central.sophos.com',
    'http://127.0.0.1:41003',
    'http://localhost:41003',
    '',
    'garbage',
    undefined,
  ])('refuses %s without an override', (host) => {
    expect(() => checkRegionHost(host, real, 't1')).toThrow(RefusedHostError);
  });

  it('accepts the overridden hostname on any port while SOPHOS_CENTRAL_API_URL is set, and still the real region hosts', () => {
    expect(checkRegionHost('http://127.0.0.1:41003/', overridden)).toBe('http://127.0.0.1:41003');
    expect(checkRegionHost('https://api-eu02.central.sophos.com', overridden)).toBe('https://api-eu02.central.sophos.com');
    expect(() => checkRegionHost('http://localhost:41003', overridden)).toThrow(RefusedHostError);
    expect(() => checkRegionHost('http://127.0.0.2:41003', overridden)).toThrow(RefusedHostError);
  });

  it('an https override accepts its hostname over https only: no token in clear to a port of the same gateway', () => {
    const gateway = resolveBaseUrls({}, { SOPHOS_CENTRAL_API_URL: 'https://sophos-gw.corp.example' });
    expect(checkRegionHost('https://sophos-gw.corp.example:8443', gateway)).toBe('https://sophos-gw.corp.example:8443');
    expect(() => checkRegionHost('http://sophos-gw.corp.example:8080', gateway, 't1')).toThrow(/plain http to the https SOPHOS_CENTRAL_API_URL host sophos-gw\.corp\.example/);
  });

  it('carries the host and the tenant in the error, and says nothing was sent', () => {
    try {
      checkRegionHost('http://localhost:9', real, 'tenant-9');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RefusedHostError);
      expect((err as RefusedHostError).host).toBe('http://localhost:9');
      expect((err as RefusedHostError).tenantId).toBe('tenant-9');
      expect((err as RefusedHostError).code).toBe('TA_ERR_REFUSED_HOST');
      expect((err as Error).message).toMatch(/no request or token is sent/);
    }
  });

  it('reads the region from a region host', () => {
    expect(regionOfHost('https://api-eu02.central.sophos.com')).toBe('eu02');
    expect(regionOfHost('http://127.0.0.1:1')).toBeUndefined();
  });
});
