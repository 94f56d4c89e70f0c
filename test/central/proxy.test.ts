import { describe, expect, it } from 'vitest';
import { bypassesProxy, proxyFor, redactProxyUrl } from '../../src/central/proxy.js';

const sophos = new URL('https://api-eu01.central.sophos.com');
const local = new URL('http://127.0.0.1:41002');

describe('proxyFor', () => {
  it('uses an explicit proxy_url for everything', () => {
    expect(proxyFor(sophos, 'http://proxy:3128', { NO_PROXY: '*' })).toBe('http://proxy:3128');
  });
  it('picks HTTPS_PROXY for https and HTTP_PROXY for http, lower-case first', () => {
    const env = { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1', HTTP_PROXY: 'http://plain:2' };
    expect(proxyFor(sophos, undefined, env)).toBe('http://lower:1');
    expect(proxyFor(local, undefined, env)).toBe('http://plain:2');
    expect(proxyFor(sophos, undefined, { HTTP_PROXY: 'http://plain:2' })).toBeUndefined();
    expect(proxyFor(sophos, undefined, { ALL_PROXY: 'http://all:3' })).toBe('http://all:3');
    expect(proxyFor(sophos, undefined, {})).toBeUndefined();
  });
  it('goes direct for NO_PROXY hosts', () => {
    expect(proxyFor(sophos, undefined, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'localhost, .sophos.com' })).toBeUndefined();
    expect(proxyFor(local, undefined, { HTTP_PROXY: 'http://p:1', no_proxy: '127.0.0.1' })).toBeUndefined();
  });
});

describe('bypassesProxy', () => {
  it.each([
    ['*', sophos, true],
    ['central.sophos.com', sophos, true],
    ['.central.sophos.com', sophos, true],
    ['*.sophos.com', sophos, true],
    ['api-eu01.central.sophos.com:443', sophos, true],
    ['api-eu01.central.sophos.com:8443', sophos, false],
    ['ophos.com', sophos, false],
    ['example.com,127.0.0.1:41002', local, true],
    ['127.0.0.1:9', local, false],
    ['', sophos, false],
  ])('NO_PROXY=%s for %s -> %s', (noProxy, url, expected) => {
    expect(bypassesProxy(url, noProxy)).toBe(expected);
  });
});

describe('redactProxyUrl', () => {
  it('drops proxy credentials from what is logged', () => {
    expect(redactProxyUrl('http://user:s3cret@proxy.example:3128/')).toBe('http://proxy.example:3128');
  });
});
