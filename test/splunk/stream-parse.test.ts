// The splunkd stand-in reads the XML stream as an XML 1.0 parser does, so that a test passing through it proves
// splunkd would read the same: what it refuses, how it resolves references and normalises whitespace; and the
// event writer's output read back through it unchanged.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { XmlEventWriter } from '../../src/splunk/event-writer.js';
import { parseXmlStream } from '../splunkd/index.js';

const stream = (events: string): Buffer => Buffer.from(`<stream>\n${events}</stream>\n`);
const event = (data: string, attrs = 'stanza="s"', more = ''): string => `<event ${attrs}>${more}<data>${data}</data><done/></event>\n`;

describe('the stand-in reads the stream as XML 1.0 does', () => {
  it.each([
    [']]> in character data', event('a]]>b'), /]]> in character data/],
    ['an undefined entity', event('&foo;'), /undefined entity &foo;/],
    ['a bare ampersand', event('a & b'), /not well-formed|bare &/],
    ['a reference to NUL', event('&#0;'), /forbids: &#0;/],
    ['a reference to U+FFFE', event('&#xFFFE;'), /forbids: &#xFFFE;/],
    ['< in an attribute value', event('x', 'stanza="a<b"'), /< in an attribute value/],
    ['< after > in an attribute value', event('x', 'stanza="a>b<c"'), /< in an attribute value/],
    // splunk-addon.md §1.8: a stray console.log corrupts the stream; §1.7: its shape.
    ['text between events (a stray console.log)', `${event('a')}debug: page 2 of 7\n${event('b')}`, /XML stream has text outside its elements: debug/],
    ['text inside an event', event('x', 'stanza="s"', 'oops'), /event 0 has text outside its elements: oops/],
    ['a <time> that is not epoch seconds', event('x', 'stanza="s"', '<time>abc</time>'), /<time>abc<\/time>, not epoch seconds/],
    ['an empty <time>', event('x', 'stanza="s"', '<time></time>'), /<time><\/time>, not epoch seconds/],
    ['<time> twice', event('x', 'stanza="s"', '<time>1</time><time>2</time>'), /<time> more than once/],
    ['unbroken other than 1 or 0', event('x', 'unbroken="yes"'), /unbroken="yes", not "1" or "0"/],
    ['an <event> inside an <event>', event('x', 'stanza="s"', '<event><data>y</data><done/></event>'), /event 0 has a <event> it should not/],
    // §1.7 and the fixtures: stanza and unbroken are attributes of <event>, the rest child elements.
    ['a time attribute', event('x', 'stanza="s" time="1700000000.000"'), /event 0 has an attribute time it should not/],
    ['a <stanza> element', event('x', 'unbroken="1"', '<stanza>s</stanza>'), /event 0 has a <stanza> it should not/],
    ['an <unbroken> element', event('x', 'stanza="s"', '<unbroken>1</unbroken>'), /event 0 has a <unbroken> it should not/],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parseXmlStream(stream(body), false)).toThrow(message);
  });

  it('refuses an XML declaration after the start', () => {
    expect(() => parseXmlStream(Buffer.from('<stream>\n<?xml version="1.0"?>\n</stream>\n'), false)).toThrow(/declaration that is not at its start/);
  });

  it('reads CDATA as the text it holds, and takes ]]> in comments and a later processing instruction in stride', () => {
    const { events } = parseXmlStream(
      Buffer.from(`<stream>\n<!-- ]]> -->\n<?xml-stylesheet href="a"?>\n${event('<![CDATA[&amp; a & b <c>]]>x')}</stream>\n`),
      false,
    );
    expect(events[0]!.data).toBe('&amp; a & b <c>x');
  });

  it('joins the <data> of unbroken="1" fragments into one event, which <done/> closes (splunk-addon.md §1.7)', () => {
    const fragments =
      '<event stanza="s" unbroken="1"><time>1</time><data>{"id":"a",</data></event>\n' +
      '<event stanza="s" unbroken="1"><data>"x":1}</data><done/></event>\n' +
      event('{"id":"b"}', 'stanza="s" unbroken="1"');
    const { events } = parseXmlStream(stream(fragments), false);
    expect(events).toEqual([
      expect.objectContaining({ stanza: 's', time: 1, data: '{"id":"a","x":1}', done: true }),
      expect.objectContaining({ data: '{"id":"b"}', done: true }),
    ]);
  });

  it('resolves references once, normalises attribute whitespace and line ends', () => {
    const { events } = parseXmlStream(
      stream(event('&#60;b&#x3E; &amp;#60; &#x1F600; a\r\nb\rc', 'stanza="a\tb&#9;c"', '<host>h&#13;1</host>')),
      false,
    );
    expect(events[0]).toMatchObject({ stanza: 'a b\tc', host: 'h\r1', data: '<b> &#60; \u{1F600} a\nb\nc' });
  });
});

describe('the event writer, read back by the stand-in', () => {
  it('keeps tab, LF and CR in the stanza, host and index as they were', async () => {
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const output = { stanza: 'sophos_central://a\tb\nc\rd', host: 'h\r\n1', index: 'i\t2' };
    const writer = XmlEventWriter.open(out, output);
    await writer.write([{ time: 1, sourcetype: 'sophos:central:alerts', data: '{"a":"x\\r\\ny"}' }]);
    await writer.close();
    const { events } = parseXmlStream(Buffer.concat(chunks), false);
    expect(events[0]).toMatchObject({ ...output, data: '{"a":"x\\r\\ny"}' });
  });
});
