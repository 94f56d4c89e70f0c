import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, ProtocolError } from '../../src/errors.js';
import { parseInputDefinition, parseValidationDefinition, readStdin } from '../../src/splunk/input.js';
import { FIXTURES } from '../helpers/paths.js';

/** The SDK fixtures are UTF-16BE with a BOM; splunkd sends UTF-8, so the test transcodes (SOURCES.md). */
function fixtureUtf8(name: string): string {
  const raw = readFileSync(join(FIXTURES, 'splunk', name));
  expect([raw[0], raw[1]]).toEqual([0xfe, 0xff]);
  return new TextDecoder('utf-16be').decode(raw.subarray(2)).replace('encoding="utf-16"', 'encoding="utf-8"');
}

const minimal = (configuration: string, decl = '') =>
  `${decl}<input><server_host>h</server_host><server_uri>https://127.0.0.1:8089</server_uri><session_key>k&amp;1</session_key><checkpoint_dir>/c</checkpoint_dir>${configuration}</input>`;

describe('parseInputDefinition', () => {
  it('reads the SDK fixture with two stanzas, params and param_lists', () => {
    expect(parseInputDefinition(fixtureUtf8('sdkpy_conf_with_2_inputs.xml'))).toEqual({
      serverHost: 'tiny',
      serverUri: 'https://127.0.0.1:8089',
      sessionKey: '123102983109283019283',
      checkpointDir: '/some/dir',
      stanzas: [
        { name: 'foobar://aaa', inputName: 'aaa', app: 'search', params: { param1: 'value1', param2: 'value2', disabled: '0', index: 'default' } },
        {
          name: 'foobar://bbb',
          inputName: 'bbb',
          app: 'my_app',
          params: {
            param1: 'value11',
            param2: 'value22',
            disabled: '0',
            index: 'default',
            multiValue: ['value1', 'value2'],
            multiValue2: ['value3', 'value4'],
          },
        },
      ],
    });
  });

  it.each([
    ['without an XML declaration', ''],
    ['with an XML declaration', '<?xml version="1.0" encoding="UTF-8"?>\n'],
    ['with a UTF-8 BOM', '\uFEFF<?xml version="1.0"?>'],
  ])('accepts a document %s, decoding entities and UTF-8 text', (_n, decl) => {
    const def = parseInputDefinition(
      minimal('<configuration><stanza name="sophos_central://Zürich &amp; co" app="TA-sophos-central"><param name="tenants">Ünïcode, a&lt;b</param><param name="empty"></param><param name="self"/></stanza></configuration>', decl),
    );
    expect(def.sessionKey).toBe('k&1');
    expect(def.stanzas).toEqual([
      { name: 'sophos_central://Zürich & co', inputName: 'Zürich & co', app: 'TA-sophos-central', params: { tenants: 'Ünïcode, a<b', empty: '', self: '' } },
    ]);
  });

  it('decodes numeric character references in text and attributes, and each reference only once', () => {
    const def = parseInputDefinition(
      minimal('<configuration><stanza name="sophos_central://O&#39;Brien &#x41;G" app="TA-sophos-central"><param name="tenants">O&#39;Brien &#x41;cme&#13;&#10;x, &#x1F600;</param><param name="client_secret">a&amp;#39;b&amp;amp;c&amp;nbsp;</param></stanza></configuration>'),
    );
    expect(def.stanzas[0]).toMatchObject({
      name: "sophos_central://O'Brien AG",
      inputName: "O'Brien AG",
      params: { tenants: "O'Brien Acme\r\nx, \u{1F600}", client_secret: 'a&#39;b&amp;c&nbsp;' },
    });
  });

  it('accepts an empty configuration', () => {
    expect(parseInputDefinition(minimal('<configuration/>')).stanzas).toEqual([]);
    expect(parseInputDefinition(minimal('<configuration></configuration>')).stanzas).toEqual([]);
  });

  it.each([
    ['a truncated document', minimal('<configuration><stanza name="s://a">').slice(0, -8), /^incomplete <input> document on stdin: <input>, <configuration>, <stanza> never closed$/],
    ['mismatched tags', '<input><server_host>h</server_uri></input>', /^malformed <input> document on stdin: .*line 1/],
    ['plain text', 'hello', /^malformed <input> document on stdin/],
    ['another root', '<items></items>', /^expected an <input> document on stdin, got <items>$/],
    ['a missing session key', '<input><server_host>h</server_host><server_uri>u</server_uri><checkpoint_dir>c</checkpoint_dir></input>', /has no <session_key>$/],
    ['a stanza without a name', minimal('<configuration><stanza app="a"></stanza></configuration>'), /a <stanza> in the <input> document has no name attribute/],
    ['a param without a name', minimal('<configuration><stanza name="s://a"><param>x</param></stanza></configuration>'), /a <param> in stanza s:\/\/a has no name attribute/],
  ])('rejects %s with a ProtocolError', (_n, xml, message) => {
    expect(() => parseInputDefinition(xml)).toThrow(ProtocolError);
    expect(() => parseInputDefinition(xml)).toThrow(message);
  });
});

describe('parseValidationDefinition', () => {
  it('reads the SDK fixture: item name and params', () => {
    const def = parseValidationDefinition(fixtureUtf8('sdkpy_validation.xml'));
    expect(def.name).toBe('aaa');
    expect(def.checkpointDir).toBe('/opt/splunk/var/lib/splunk/modinputs');
    expect(def.params).toEqual({ param1: 'value1', param2: 'value2', disabled: '0', index: 'default', multiValue: ['value1', 'value2'], multiValue2: ['value3', 'value4'] });
  });

  it('requires exactly one <item>', () => {
    const items = (body: string) => `<items><server_host>h</server_host><server_uri>u</server_uri><session_key>k</session_key><checkpoint_dir>c</checkpoint_dir>${body}</items>`;
    expect(() => parseValidationDefinition(items(''))).toThrow(/exactly one <item>, got 0/);
    expect(() => parseValidationDefinition(items('<item name="a"/><item name="b"/>'))).toThrow(/exactly one <item>, got 2/);
  });
});

describe('readStdin', () => {
  it('returns at EOF', async () => {
    const s = new PassThrough();
    const p = readStdin(s);
    s.write('<input>');
    s.end('</input>');
    expect(await p).toBe('<input></input>');
  });

  it('returns at the closing tag without waiting for EOF, even split across chunks and UTF-8 sequences', async () => {
    const s = new PassThrough();
    const p = readStdin(s, { timeoutMs: 5000 });
    const bytes = Buffer.from('<items><x>é€</x></it' + 'ems>');
    for (let i = 0; i < bytes.length; i += 3) s.write(bytes.subarray(i, i + 3));
    expect(await p).toBe('<items><x>é€</x></items>');
  });

  it('reads on past a closing tag inside a CDATA section or comment, to the one that ends the document', async () => {
    const s = new PassThrough();
    const p = readStdin(s, { timeoutMs: 5000 });
    const doc = '<input><!-- no </input> here --><x><![CDATA[a </input> b]]></x></input>';
    for (const part of doc.split(/(?<=<\/input>)/)) s.write(part);
    expect(await p).toBe(doc);
  });

  it.each([
    ['a timeout', (s: PassThrough) => s.write('<input>'), /^no complete document on stdin after 0 s/],
    ['empty stdin', (s: PassThrough) => s.end('  \n'), /^stdin was empty/],
    ['invalid UTF-8', (s: PassThrough) => s.end(Buffer.from([0x3c, 0xff, 0xfe, 0x3e])), /^stdin is not valid UTF-8/],
    ['UTF-16 (the raw SDK fixture)', (s: PassThrough) => s.end(readFileSync(join(FIXTURES, 'splunk', 'sdkpy_validation.xml'))), /^stdin is not valid UTF-8/],
  ])('rejects %s with a ProtocolError', async (_n, feed, message) => {
    const s = new PassThrough();
    const p = readStdin(s, { timeoutMs: 50 });
    feed(s);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as Error).message).toMatch(message);
  });

  it('gives up at once with an AbortedError when stopped (SIGTERM) before the document is complete', async () => {
    const s = new PassThrough();
    const stop = new AbortController();
    const p = readStdin(s, { timeoutMs: 30_000, signal: stop.signal });
    s.write('<input><server_host>');
    stop.abort();
    expect(await p.catch((e: unknown) => e)).toBeInstanceOf(AbortedError);
    // Already stopped: it does not start reading.
    expect(await readStdin(new PassThrough(), { signal: stop.signal }).catch((e: unknown) => e)).toBeInstanceOf(AbortedError);
  });
});
