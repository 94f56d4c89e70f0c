// The XML event stream on stdout (splunk-addon.md §1.7). One `<stream>` per process, opened before the first
// event and closed at the end; one write per batch, resolved only once the OS has the bytes, so a collector
// that moves its checkpoint after `write` resolves never checkpoints data splunkd has not received.
import type { Writable } from 'node:stream';
import type { EventSink, OutRecord } from '../collect/sink.js';
import { escapeXml, escapeXmlText } from './xml.js';

/** The process-wide `<stream>` on one Writable (stdout), shared by the writers of every stanza. */
export class XmlStream {
  private opened = false;
  private closed = false;
  private failure: Error | undefined;

  constructor(private readonly out: Writable) {
    // An EPIPE (splunkd went away) must reject the pending write, not crash the process as an unhandled 'error'.
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  /** Writes complete events, opening `<stream>` first if needed; resolves once flushed to the OS. */
  write(events: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the XML event stream is already closed'));
    const chunk = this.opened ? events : `<stream>\n${events}`;
    this.opened = true;
    return this.send(chunk);
  }

  /** Writes `</stream>` if the stream was opened; idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.opened ? this.send('</stream>\n') : Promise.resolve();
  }

  private send(chunk: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      // The callback runs once this chunk left Node's buffer for the OS (or failed). Waiting for it is the
      // back-pressure: the next batch is not produced before this one is gone.
      this.out.write(chunk, 'utf8', (err) => {
        const failure = err ?? this.failure;
        if (failure) reject(failure);
        else resolve();
      });
    });
  }
}

export interface StanzaOutput {
  /** Full stanza name, e.g. `sophos_central://prod`. */
  stanza: string;
  source?: string;
  index?: string;
  host?: string;
}

/** EventSink for one stanza: each record becomes one `<event unbroken="1">...<done/></event>`. */
export class XmlEventWriter implements EventSink {
  private readonly head: string;
  private readonly source: string;
  private readonly tail: string;
  private readonly sourcetypes = new Map<string, string>();

  constructor(
    private readonly stream: XmlStream,
    output: StanzaOutput,
  ) {
    this.head = `<event stanza="${escapeXml(output.stanza)}" unbroken="1">`;
    this.source = output.source === undefined ? '' : `<source>${escapeXml(output.source)}</source>`;
    this.tail =
      (output.index === undefined ? '' : `<index>${escapeXml(output.index)}</index>`) +
      (output.host === undefined ? '' : `<host>${escapeXml(output.host)}</host>`);
  }

  /** A writer with its own `<stream>` on `out`, for a process that has a single stanza. */
  static open(out: Writable, output: StanzaOutput): XmlEventWriter {
    return new XmlEventWriter(new XmlStream(out), output);
  }

  async write(records: OutRecord[]): Promise<void> {
    if (records.length === 0) return;
    // String concatenation builds a rope in V8; one flat chunk per batch costs one write syscall.
    let chunk = '';
    for (const r of records) {
      chunk +=
        this.head +
        (Number.isFinite(r.time) ? `<time>${r.time.toFixed(3)}</time>` : '') +
        this.source +
        this.sourcetype(r.sourcetype) +
        this.tail +
        '<data>' +
        escapeXmlText(r.data) +
        '</data><done/></event>\n';
    }
    await this.stream.write(chunk);
  }

  /** Ends the `<stream>` (shared by every writer on it). */
  close(): Promise<void> {
    return this.stream.close();
  }

  private sourcetype(name: string): string {
    let element = this.sourcetypes.get(name);
    if (element === undefined) {
      element = `<sourcetype>${escapeXml(name)}</sourcetype>`;
      this.sourcetypes.set(name, element);
    }
    return element;
  }
}
