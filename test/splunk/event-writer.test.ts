import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it, vi } from 'vitest';
import type { OutRecord } from '../../src/collect/sink.js';
import { XmlEventWriter, XmlStream } from '../../src/splunk/event-writer.js';

function collect(): { out: Writable; text: () => string; writes: () => number } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { out, text: () => Buffer.concat(chunks).toString('utf8'), writes: () => chunks.length };
}

/** Strict: validates the whole document and returns its events as the parser sees them. */
function parseStream(xml: string): Array<Record<string, unknown>> {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, isArray: (n) => n === 'event' }).parse(xml);
  return (doc.stream.event ?? []) as Array<Record<string, unknown>>;
}

const record = (data: string, extra: Partial<OutRecord> = {}): OutRecord => ({ time: 1714557600.1234, sourcetype: 'sophos:central:alerts', data, ...extra });

describe('XmlEventWriter', () => {
  it('writes nothing at all when there were no events, and close is idempotent', async () => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 'sophos_central://a' });
    await w.write([]);
    await w.close();
    await w.close();
    expect(text()).toBe('');
  });

  it('writes one <stream> with complete events in the SDK child order, one write per batch', async () => {
    const { out, text, writes } = collect();
    const w = XmlEventWriter.open(out, { stanza: 'sophos_central://prod', index: 'sophos', host: 'central' });
    await w.write([record('{"a":1}')]);
    await w.write([record('{"b":2}', { sourcetype: 'sophos:central:health', time: 5 })]);
    await w.close();
    expect(text()).toBe(
      '<stream>\n' +
        '<event stanza="sophos_central://prod" unbroken="1"><time>1714557600.123</time><sourcetype>sophos:central:alerts</sourcetype><index>sophos</index><host>central</host><data>{"a":1}</data><done/></event>\n' +
        '<event stanza="sophos_central://prod" unbroken="1"><time>5.000</time><sourcetype>sophos:central:health</sourcetype><index>sophos</index><host>central</host><data>{"b":2}</data><done/></event>\n' +
        '</stream>\n',
    );
    expect(writes()).toBe(3);
    await expect(w.write([record('{}')])).rejects.toThrow(/already closed/);
  });

  it('encodes non-ASCII stanza, host and data as UTF-8 next to plain ASCII events in one batch', async () => {
    const { out, text } = collect();
    const stream = new XmlStream(out);
    const w = new XmlEventWriter(stream, { stanza: 'sophos_central://Zürich', host: '東京' });
    const w2 = new XmlEventWriter(stream, { stanza: 'sophos_central://plain' });
    const data = ['{"a":"plain"}', '{"n":"é 日本 😀"}', '{"x":"a<b & c>d"}', '{"y":"ü<"}'];
    await w.write(data.map((d) => record(d)));
    await w2.write(data.map((d) => record(d)));
    await w.close();
    const events = parseStream(text());
    expect(events.map((e) => e.data)).toEqual([...data, ...data]);
    expect(events.map((e) => e['@_stanza'])).toEqual([...data.map(() => 'sophos_central://Zürich'), ...data.map(() => 'sophos_central://plain')]);
    expect(events[0]!.host).toBe('東京');
  });

  it('encodes a non-ASCII stanza name as UTF-8 when host, index and sourcetype are ASCII', async () => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 'sophos_central://Zürich', host: 'central', index: 'main' });
    await w.write([record('{"a":1}')]);
    await w.close();
    expect(parseStream(text())[0]!['@_stanza']).toBe('sophos_central://Zürich');
  });

  it('escapes markup and XML 1.0 forbidden characters, so a strict parser reads the data back with the values the API sent', async () => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 'sophos_central://x<&">', index: 'a&b' });
    const nasty = JSON.stringify({
      d: 'a<b>&c "q" ]]> <![CDATA[ x ]]> &amp; </data></event></stream>',
      ctl: 'nul\u0000 bell\u0007 vt\u000b ff\u000c esc\u001b tab\t lf\n cr\r',
    }).replace('"ctl"', '"ctl\u0001"');
    // JSON text as the API may send it, raw: characters XML forbids inside its strings, keys included.
    const surrogates = '{"s":"ok \uD83D\uDE00 lone-high \uD800 lone-low \uDC00 nonchars \uFFFE\uFFFF","k\uFFFF":"v","k":"w"}';
    await w.write([record(nasty), record(surrogates)]);
    await w.close();
    const xml = text();
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    const events = parseStream(xml);
    expect(events).toHaveLength(2);
    expect(events[0]!['@_stanza']).toBe('sophos_central://x<&">');
    expect(events[0]!.index).toBe('a&b');
    const expected = nasty.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '');
    expect(events[0]!.data).toBe(expected);
    expect(JSON.parse(events[0]!.data as string).d).toBe('a<b>&c "q" ]]> <![CDATA[ x ]]> &amp; </data></event></stream>');
    // Written as JSON escapes, they read back as the same values, and the two keys stay two.
    expect(JSON.parse(events[1]!.data as string)).toEqual({ s: 'ok \uD83D\uDE00 lone-high \uD800 lone-low \uDC00 nonchars \uFFFE\uFFFF', 'k\uFFFF': 'v', k: 'w' });
  });

  it.each([
    ['an & with no < or >', '{"customer":"AT&T"}'],
    ['a ]]> with no < or &', '{"cmd":"echo ]]>x"}'],
    ['a < with no > or &', '{"expr":"a<b"}'],
  ])('escapes data that holds one markup character only (%s)', async (_what, data) => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 's' });
    await w.write([record(data)]);
    await w.close();
    expect(text()).not.toContain(']]>');
    expect(parseStream(text())[0]!.data).toBe(data);
  });

  it('writes an item text and its appended members as given, without reading the joined data', async () => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 's' });
    const appended = ',"tenant":{"id":"t-1","name":"Acme"}}';
    const pieces = ['{"id":"e1","n":"a"', '{"id":"e2"'].map((item) => {
      const r = record('', { pieces: [item, appended] });
      // A rope V8 would copy whole on the first read: the writer must not read it.
      Object.defineProperty(r, 'data', {
        get() {
          throw new Error('data was read');
        },
      });
      return r;
    });
    await w.write(pieces);
    // Another tenant's members, in the next batch and mixed within one.
    const other = ',"tenant":{"id":"t-2","name":"Other"}}';
    await w.write([record('{"id":"e3","tenant":{"id":"t-2","name":"Other"}}', { pieces: ['{"id":"e3"', other] }), record('{"id":"e4","tenant":{"id":"t-1","name":"Acme"}}', { pieces: ['{"id":"e4"', appended] })]);
    await w.close();
    expect(parseStream(text()).map((e) => e.data)).toEqual([
      '{"id":"e1","n":"a","tenant":{"id":"t-1","name":"Acme"}}',
      '{"id":"e2","tenant":{"id":"t-1","name":"Acme"}}',
      '{"id":"e3","tenant":{"id":"t-2","name":"Other"}}',
      '{"id":"e4","tenant":{"id":"t-1","name":"Acme"}}',
    ]);
  });

  it.each([
    ['markup in the item', '{"d":"a<b"', ',"tenant":{"id":"t","name":"T"}}'],
    ['non-ASCII in the item', '{"d":"é"', ',"tenant":{"id":"t","name":"T"}}'],
    ['markup in the appended members', '{"d":"a"', ',"tenant":{"id":"t","name":"AT&T <x>"}}'],
    ['non-ASCII in the appended members', '{"d":"a"', ',"tenant":{"id":"t","name":"Zürich 東京"}}'],
  ])('escapes and encodes data given in pieces as the whole it is (%s)', async (_what, item, appended) => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 's' });
    const plain = record(`{"d":"plain"${appended}`, { pieces: ['{"d":"plain"', appended] });
    await w.write([record(item + appended, { pieces: [item, appended] }), plain]);
    await w.close();
    expect(parseStream(text()).map((e) => e.data)).toEqual([item + appended, `{"d":"plain"${appended}`]);
  });

  it('reuses a batch buffer only once the OS has taken its bytes, never while a write of it is pending', async () => {
    // A consumer that takes each chunk only when told to; what the chunk holds is read at that moment.
    const pending: Array<{ chunk: Buffer; done: () => void }> = [];
    const taken: Array<{ text: string; memory: ArrayBufferLike }> = [];
    const out = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        pending.push({ chunk, done: cb });
      },
    });
    const take = async (): Promise<void> => {
      await vi.waitFor(() => expect(pending.length).toBeGreaterThan(0));
      const { chunk, done } = pending.shift()!;
      taken.push({ text: chunk.toString('utf8'), memory: chunk.buffer });
      done();
    };
    const w = new XmlEventWriter(new XmlStream(out), { stanza: 's' });
    const batch = (tag: string) => Array.from({ length: 200 }, (_, i) => record(JSON.stringify({ tag, i, pad: 'x'.repeat(400) })));
    const tagsOf = (text: string) => [...new Set([...text.matchAll(/"tag":"(\w)"/g)].map((m) => m[1]))];
    // `<stream>` goes out with a first, small batch: the large ones below are written from their own buffers.
    const opened = w.write([record('{"tag":"o"}')]);
    await take();
    await opened;
    // Four batches in flight at once (four tenants): none may be encoded into another's buffer.
    const writes = ['a', 'b', 'c', 'd'].map((tag) => w.write(batch(tag)));
    for (let n = 0; n < 4; n++) await take();
    await Promise.all(writes);
    expect(taken.map((t) => tagsOf(t.text))).toEqual([['o'], ['a'], ['b'], ['c'], ['d']]);
    expect(new Set(taken.slice(1).map((t) => t.memory)).size).toBe(4);
    // Once taken, their buffers serve the next batches.
    const later = ['e', 'f'].map((tag) => w.write(batch(tag)));
    for (let n = 0; n < 2; n++) await take();
    await Promise.all(later);
    expect(taken.slice(5).map((t) => tagsOf(t.text))).toEqual([['e'], ['f']]);
    for (const t of taken.slice(5)) expect(taken.slice(1, 5).map((e) => e.memory)).toContain(t.memory);
  });

  it('never encodes a batch into a buffer it did not hand out', async () => {
    const { out } = collect();
    const stream = new XmlStream(out);
    const own = Buffer.alloc(256 * 1024, 0x20);
    await stream.write(own);
    await new XmlEventWriter(stream, { stanza: 's' }).write(Array.from({ length: 200 }, (_, i) => record(JSON.stringify({ i, pad: 'x'.repeat(400) }))));
    expect(own.every((b) => b === 0x20)).toBe(true);
  });

  it.each([
    ['none', Number.NaN],
    ['one before 1970 (a placeholder date such as 0001-01-01)', Date.parse('0001-01-01T00:00:00.000Z') / 1000],
  ])('omits <time> for a record without a usable time (%s), leaving it to splunkd', async (_what, time) => {
    const { out, text } = collect();
    const w = XmlEventWriter.open(out, { stanza: 's' });
    await w.write([record('{}', { time })]);
    await w.close();
    expect(text()).not.toContain('<time>');
    expect(parseStream(text())[0]).not.toHaveProperty('time');
  });

  it('shares one <stream> between the writers of several stanzas', async () => {
    const { out, text } = collect();
    const stream = new XmlStream(out);
    const a = new XmlEventWriter(stream, { stanza: 'sophos_central://a' });
    const b = new XmlEventWriter(stream, { stanza: 'sophos_central://b' });
    await a.write([record('1')]);
    await b.write([record('2')]);
    await stream.close();
    expect(parseStream(text()).map((e) => e['@_stanza'])).toEqual(['sophos_central://a', 'sophos_central://b']);
    expect(text().match(/<stream>/g)).toHaveLength(1);
  });

  it('resolves write only after the chunk left the Writable (back-pressure)', async () => {
    let release: (() => void) | undefined;
    const out = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, cb) {
        release = cb;
      },
    });
    const w = XmlEventWriter.open(out, { stanza: 's' });
    let done = false;
    const p = w.write([record('x'.repeat(100))]).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    release!();
    await p;
    expect(done).toBe(true);
  });

  it('rejects a write when the consumer went away (EPIPE), instead of crashing', async () => {
    const out = new PassThrough();
    const w = XmlEventWriter.open(out, { stanza: 's' });
    out.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await expect(w.write([record('{}')])).rejects.toThrow();
  });

  it('loses nothing through a real pipe to a consumer that reads slowly', async () => {
    // The child reads 4 KB every 2 ms and reports what it got; the writer must wait for it, never drop.
    const reader = `
      const fs = require('fs'); const chunks = []; const buf = Buffer.alloc(4096);
      (function step() {
        let n = 0;
        try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EAGAIN') return setTimeout(step, 2); throw e; }
        if (n === 0) { process.stdout.write(Buffer.concat(chunks)); return; }
        chunks.push(Buffer.from(buf.subarray(0, n))); setTimeout(step, 2);
      })();`;
    const child = spawn(process.execPath, ['-e', reader], { stdio: ['pipe', 'pipe', 'inherit'] });
    const received: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => received.push(d));
    const closed = new Promise((r) => child.on('close', r));
    const w = XmlEventWriter.open(child.stdin, { stanza: 'sophos_central://slow' });
    const batches = 40;
    for (let b = 0; b < batches; b++) {
      await w.write(Array.from({ length: 50 }, (_, i) => record(JSON.stringify({ b, i, pad: 'é'.repeat(200) }))));
      // A resolved write means Node's buffer is empty: nothing piles up in memory however slow the reader.
      expect(child.stdin.writableLength).toBe(0);
    }
    await w.close();
    child.stdin.end();
    await closed;
    const events = parseStream(Buffer.concat(received).toString('utf8'));
    expect(events).toHaveLength(batches * 50);
    expect(events.map((e) => JSON.parse(e.data as string)).map((d) => `${d.b}/${d.i}`)).toEqual(
      Array.from({ length: batches * 50 }, (_, n) => `${Math.floor(n / 50)}/${n % 50}`),
    );
  });
});

describe('XmlStream when told to stop while splunkd reads nothing', () => {
  /** stdout of a process whose reader stopped: nothing written is ever taken, until `drain`. */
  function stuck() {
    const pending: Array<() => void> = [];
    const out = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        pending.push(() => cb());
      },
    });
    return { out, drain: () => pending.splice(0).forEach((cb) => cb()) };
  }

  it('gives up a write the grace after the stop, and every later write at once, with an AbortedError', async () => {
    const { out } = stuck();
    const stop = new AbortController();
    const stream = new XmlStream(out, { signal: stop.signal, stopGraceMs: 200 });
    const first = stream.write(Buffer.from('<event/>'));
    let settled = false;
    first.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    // Not stopping: a reader that is slow is waited for, however long.
    expect(settled).toBe(false);
    const stoppedAt = Date.now();
    stop.abort();
    await expect(first).rejects.toMatchObject({ code: 'TA_ERR_ABORTED', message: expect.stringMatching(/^stopping, and splunkd read nothing from stdout for 0\.2 s/) });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(190);
    const later = Date.now();
    await expect(stream.write(Buffer.from('<event/>'))).rejects.toMatchObject({ code: 'TA_ERR_ABORTED' });
    await expect(stream.close()).rejects.toMatchObject({ code: 'TA_ERR_ABORTED' });
    expect(Date.now() - later).toBeLessThan(100);
  });

  it('gives up a write begun after the stop once the grace is over', async () => {
    const { out } = stuck();
    const stop = new AbortController();
    stop.abort();
    const stream = new XmlStream(out, { signal: stop.signal, stopGraceMs: 100 });
    await expect(stream.write(Buffer.from('<event/>'))).rejects.toMatchObject({ code: 'TA_ERR_ABORTED' });
  });

  it('confirms a write the OS takes within the grace after the stop', async () => {
    const { out, drain } = stuck();
    const stop = new AbortController();
    const stream = new XmlStream(out, { signal: stop.signal, stopGraceMs: 1_000 });
    const write = stream.write(Buffer.from('<event/>'));
    stop.abort();
    setTimeout(drain, 100);
    await expect(write).resolves.toBeUndefined();
    const close = stream.close();
    setTimeout(drain, 100);
    await expect(close).resolves.toBeUndefined();
  });
});
