import { describe, expect, it } from 'vitest';
import { checkClientId, checkClientSecret, checkLogLevel, checkProxyUrl } from '../../src/ui/validate.js';

describe('setup page input checks', () => {
  it.each([
    ['1b4e28ba-2fa1-11d2-883f-0016d3cca427', undefined],
    ['  1b4e28ba-2fa1-11d2-883f-0016d3cca427 ', undefined],
    ['', /Enter the client ID/],
    ['a:b', /only letters/],
    ['a b', /only letters/],
    ['-abc', /only letters/],
    ['a'.repeat(129), /at most 128/],
    ['a'.repeat(128), undefined],
  ])('client ID %j', (v, want) => {
    const got = checkClientId(v);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });

  it('needs a secret Splunk can store in one entry', () => {
    expect(checkClientSecret('')).toMatch(/Enter the client secret/);
    expect(checkClientSecret('x'.repeat(256))).toMatch(/255/);
    expect(checkClientSecret('x'.repeat(255))).toBeUndefined();
  });

  it.each([
    ['', undefined],
    ['http://proxy.example.com:3128', undefined],
    ['https://10.0.0.1:8443', undefined],
    ['proxy:3128', /http:\/\/ or https:\/\//],
    ['not a url', /must be a URL/],
    ['socks5://proxy:1080', /http:\/\/ or https:\/\//],
    ['http://user:pw@proxy:3128', /clear text/],
    ['http://proxy.example.com', /port/],
  ])('proxy %j', (v, want) => {
    const got = checkProxyUrl(v);
    if (want) expect(got).toMatch(want);
    else expect(got).toBeUndefined();
  });

  it('accepts only the documented log levels', () => {
    expect(checkLogLevel('DEBUG')).toBeUndefined();
    expect(checkLogLevel('debug')).toMatch(/one of DEBUG, INFO, WARN, ERROR/);
  });
});
