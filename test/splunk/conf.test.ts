// Splunk .conf reading as splunkd does it: verbatim values, whole-line comments, continuation lines, a BOM.
import { describe, expect, it } from 'vitest';
import { confStanza } from '../../src/splunk/conf.js';

describe('confStanza', () => {
  it('reads a stanza written by a Windows editor: BOM, CRLF, a UNC path, # and ; inside values', () => {
    const text = '\uFEFF[sslConfig]\r\nsslRootCAPath = \\\\fileserver\\pki\\ca #2.pem\r\n# a comment line\r\ncaPath = C:\\Program Files\\Splunk\\etc\\auth;x\r\n';
    expect(confStanza(text, 'sslConfig')).toEqual({ sslRootCAPath: '\\\\fileserver\\pki\\ca #2.pem', caPath: 'C:\\Program Files\\Splunk\\etc\\auth;x' });
  });

  it('joins continuation lines, keeps the last of a repeated key, and ignores other stanzas', () => {
    const text = ['[general]', 'serverName = hf01', '[sslConfig]', 'sslRootCAPath = /a', 'cipherSuites = A:\\', '  B', 'sslRootCAPath = /b', '[kvstore]', 'sslRootCAPath = /c'].join('\n');
    expect(confStanza(text, 'sslConfig')).toEqual({ sslRootCAPath: '/b', cipherSuites: 'A:\nB' });
  });

  it('merges a stanza that appears twice, and answers undefined for one that is absent', () => {
    const text = '[sslConfig]\nsslRootCAPath = /a\n[general]\nx = 1\n[sslConfig]\ncaCertFile = ca.pem\n';
    expect(confStanza(text, 'sslConfig')).toEqual({ sslRootCAPath: '/a', caCertFile: 'ca.pem' });
    expect(confStanza('[general]\nx = 1\n', 'sslConfig')).toBeUndefined();
    expect(confStanza('', 'sslConfig')).toBeUndefined();
  });
});
