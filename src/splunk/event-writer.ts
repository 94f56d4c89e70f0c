// The XML event stream on stdout (splunk-addon.md §1.7). One `<stream>` per process, opened before the first
// event and closed at the end; one write per batch, resolved only once the OS has the bytes, so a collector
// that moves its checkpoint after `write` resolves never checkpoints data still in this process. Bytes in the
// pipe that splunkd never reads (it died) are beyond any writer's reach: a pipe has no acknowledgement.
import type { Writable } from 'node:stream';
import type { EventSink, OutRecord } from '../collect/sink.js';
import { AbortedError } from '../errors.js';
import { escapeJsonData, escapeXml } from './xml.js';

const STREAM_OPEN = Buffer.from('<stream>\n');

/**
 * How long a write may stay unflushed once the process is told to stop: splunkd stopping may read stdout no
 * more, and the process must exit all the same. The batch is then left unconfirmed, so no checkpoint moves past it.
 */
export const STOP_GRACE_MS = 5_000;

export interface XmlStreamOptions {
  /** Aborted on SIGTERM: from then on a write waits at most `stopGraceMs` for the OS to take it. */
  signal?: AbortSignal;
  stopGraceMs?: number;
}

/**
 * Batch buffers are reused once the OS has taken their bytes, up to this many kept free: a page of 1,000 events
 * is a buffer of about 1.2 MB, and with a new one per page, left for the garbage collector to free, four tenants
 * collected at once peaked 5-7 MB higher (npm run bench). Batches smaller than POOLED_MIN get their own.
 */
const POOL_FREE = 4;
const POOLED_MIN = 64 * 1024;

/** The process-wide `<stream>` on one Writable (stdout), shared by the writers of every stanza. */
export class XmlStream {
  private opened = false;
  private closed = false;
  private failure: Error | undefined;
  /** Buffers this stream handed out and may take back: never one of Node's shared small-buffer pool. */
  private readonly pooled = new WeakSet<ArrayBufferLike>();
  private readonly free: Buffer[] = [];

  constructor(
    private readonly out: Writable,
    private readonly options: XmlStreamOptions = {},
  ) {
    // An EPIPE (splunkd went away) must reject the pending write, not crash the process as an unhandled 'error'.
    out.on('error', (err: Error) => {
      this.failure ??= err;
    });
  }

  /**
   * A buffer of exactly `bytes` to encode a batch into, for `write`: part of one an earlier write has finished
   * with where one is free. It must not be kept after it is written.
   */
  buffer(bytes: number): Buffer {
    if (bytes < POOLED_MIN) return Buffer.allocUnsafe(bytes);
    const at = this.free.findIndex((b) => b.length >= bytes);
    if (at >= 0) return this.free.splice(at, 1)[0]!.subarray(0, bytes);
    // An eighth more, so that the next pages, a little larger or smaller, fit the same buffer.
    const whole = Buffer.allocUnsafeSlow(bytes + (bytes >> 3));
    this.pooled.add(whole.buffer);
    return whole.subarray(0, bytes);
  }

  /** Writes complete events, opening `<stream>` first if needed; resolves once flushed to the OS. */
  write(events: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the XML event stream is already closed'));
    // One write per batch, the first one included (a single copy, once per process).
    const chunk = this.opened ? events : Buffer.concat([STREAM_OPEN, events]);
    this.opened = true;
    // Taken back only once the OS has the bytes: a write that failed or was given up may still hold them.
    return this.send(chunk).then(() => this.takeBack(events));
  }

  private takeBack(events: Buffer): void {
    const whole = events.buffer;
    if (this.free.length < POOL_FREE && this.pooled.has(whole)) this.free.push(Buffer.from(whole));
  }

  /** Writes `</stream>` if the stream was opened; idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.opened ? this.send('</stream>\n') : Promise.resolve();
  }

  private send(chunk: Buffer | string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const { signal, stopGraceMs: grace = STOP_GRACE_MS } = this.options;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      // Once stopping, the wait for the OS is bounded; after one write gave up, every later one gives up at once.
      const onAbort = () => {
        timer = setTimeout(() => {
          this.failure ??= new AbortedError(`stopping, and splunkd read nothing from stdout for ${grace / 1000} s: the last batch is left unconfirmed`);
          reject(this.failure);
        }, grace);
      };
      // The callback runs once this chunk left Node's buffer for the OS (or failed). Waiting for it is the
      // back-pressure: the next batch is not produced before this one is gone.
      this.out.write(chunk, (err?: Error | null) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const failure = err ?? this.failure;
        if (failure) reject(failure);
        else resolve();
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

const EVENT_END = Buffer.from('</data><done/></event>\n');
const TIME_OPEN = Buffer.from('<time>');
const TIME_CLOSE = Buffer.from('</time>');

/** Whether text holds one of the three characters XML escapes in text. */
function hasMarkup(text: string): boolean {
  return text.indexOf('<') >= 0 || text.indexOf('>') >= 0 || text.indexOf('&') >= 0;
}

/** Whether text, `bytes` long in UTF-8, is ASCII without markup: written as it is. */
function plain(text: string, bytes: number): boolean {
  return bytes === text.length && !hasMarkup(text);
}

export interface StanzaOutput {
  /** Full stanza name, e.g. `sophos_central://prod`. */
  stanza: string;
  index?: string;
  host?: string;
}

/** EventSink for one stanza: each record becomes one `<event unbroken="1">...<done/></event>`. */
export class XmlEventWriter implements EventSink {
  /** `<event ...>`, UTF-8. */
  private readonly head: Buffer;
  private readonly tail: string;
  private readonly sourcetypes = new Map<string, Buffer>();
  private lastPiece: string | undefined;
  private lastPieceBytes: Buffer | undefined;

  constructor(
    private readonly stream: XmlStream,
    output: StanzaOutput,
  ) {
    this.head = Buffer.from(`<event stanza="${escapeXml(output.stanza)}" unbroken="1">`);
    this.tail =
      (output.index === undefined ? '' : `<index>${escapeXml(output.index)}</index>`) +
      (output.host === undefined ? '' : `<host>${escapeXml(output.host)}</host>`);
  }

  /** A writer with its own `<stream>` on `out`, for a process that has a single stanza. */
  static open(out: Writable, output: StanzaOutput): XmlEventWriter {
    return new XmlEventWriter(new XmlStream(out), output);
  }

  write(records: OutRecord[]): Promise<void> {
    return this.prepare(records)();
  }

  /** Encodes the batch now; the returned function writes it (collectors encode while a checkpoint is saved). */
  prepare(records: OutRecord[]): () => Promise<void> {
    if (records.length === 0) return () => Promise.resolve();
    // Hot path. Encoding the pieces straight into one exactly sized Buffer is about 40% cheaper in CPU than
    // concatenating one big string and letting the stream encode it: no rope to flatten, no second copy. What
    // is the same for every event of a sourcetype (its head, what follows its time) is encoded once and copied
    // in with TypedArray#set, a V8 built-in: a call into Node's string encoding per piece, on a string built
    // per event, made a page of 1,000 alerts take 1.07 ms here instead of 0.81-0.86 (a micro-benchmark of the
    // writer). That leaves one such call per event, for its data. Data that is all ASCII (nearly every event) is
    // copied as latin1, which is byte for byte its UTF-8: a native test plus a plain copy costs a fraction of
    // measuring and encoding it as UTF-8 twice.
    const n = records.length;
    const times = new Array<string>(n);
    const afters = new Array<Buffer>(n);
    const data = new Array<string>(n);
    const ascii = new Array<boolean>(n);
    const appended = new Array<Buffer | undefined>(n);
    let bytes = n * (EVENT_END.length + this.head.length);
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      // Epoch seconds (splunk-addon.md §1.7): a time before 1970 (a placeholder date such as 0001-01-01) is none.
      const time = r.time >= 0 && r.time !== Infinity ? r.time.toFixed(3) : '';
      const after = this.afterTime(r.sourcetype);
      times[i] = time;
      afters[i] = after;
      bytes += (time === '' ? 0 : TIME_OPEN.length + time.length + TIME_CLOSE.length) + after.length;
      // Data that is ASCII without markup (nearly every event) is copied as is. Its UTF-8 length and three
      // native searches cost about a quarter of one anchored regex over it, which was the largest cost of
      // encoding. Beyond ASCII it may hold a character XML forbids (U+FFFE, U+FFFF, a lone surrogate), which
      // escapeJsonData writes as a JSON escape. No test for raw control characters is needed: OutRecord.data
      // is JSON text, and JSON escapes them inside strings and allows none outside.
      // An item's text and what was added to it are taken as they are, where both are plain: reading `data`
      // would copy the two into one new string first. Anything else escapes the event whole.
      const pieces = r.pieces;
      let added = pieces === undefined ? undefined : this.encodedPiece(pieces[1]);
      let text = pieces !== undefined && added !== undefined ? pieces[0] : r.data;
      let length = Buffer.byteLength(text);
      if (!plain(text, length)) {
        added = undefined;
        text = escapeJsonData(r.data);
        length = Buffer.byteLength(text);
      }
      data[i] = text;
      ascii[i] = length === text.length;
      appended[i] = added;
      bytes += length + (added === undefined ? 0 : added.length);
    }
    const chunk = this.stream.buffer(bytes);
    const head = this.head;
    let offset = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        chunk.set(EVENT_END, offset);
        offset += EVENT_END.length;
      }
      chunk.set(head, offset);
      offset += head.length;
      const time = times[i]!;
      if (time !== '') {
        chunk.set(TIME_OPEN, offset);
        offset += TIME_OPEN.length;
        // toFixed gives ASCII only.
        for (let k = 0; k < time.length; k++) chunk[offset++] = time.charCodeAt(k);
        chunk.set(TIME_CLOSE, offset);
        offset += TIME_CLOSE.length;
      }
      const after = afters[i]!;
      chunk.set(after, offset);
      offset += after.length;
      offset += chunk.write(data[i]!, offset, ascii[i] ? 'latin1' : 'utf8');
      const added = appended[i];
      if (added !== undefined) {
        chunk.set(added, offset);
        offset += added.length;
      }
    }
    chunk.set(EVENT_END, offset);
    return () => this.stream.write(chunk);
  }

  /** Ends the `<stream>` (shared by every writer on it). */
  close(): Promise<void> {
    return this.stream.close();
  }

  /** A piece appended to events (one tenant's members), UTF-8, when it is ASCII without markup; the last one is kept. */
  private encodedPiece(piece: string): Buffer | undefined {
    if (piece !== this.lastPiece) {
      this.lastPiece = piece;
      this.lastPieceBytes = plain(piece, Buffer.byteLength(piece)) ? Buffer.from(piece, 'latin1') : undefined;
    }
    return this.lastPieceBytes;
  }

  /** What follows `<time>` in an event of this sourcetype, up to `<data>`, UTF-8; encoded once per sourcetype. */
  private afterTime(sourcetype: string): Buffer {
    let after = this.sourcetypes.get(sourcetype);
    if (after === undefined) {
      after = Buffer.from(`<sourcetype>${escapeXml(sourcetype)}</sourcetype>${this.tail}<data>`);
      this.sourcetypes.set(sourcetype, after);
    }
    return after;
  }
}
