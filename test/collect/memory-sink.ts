// A real collecting EventSink for tests: keeps every record written, in order, and can be told to fail
// (a closed stdout, a refused HEC batch) from the n-th write on.
import type { EventSink, OutRecord } from '../../src/collect/sink.js';

export class MemorySink implements EventSink {
  readonly records: OutRecord[] = [];
  writes = 0;
  failFromWrite?: number;

  async write(records: OutRecord[]): Promise<void> {
    this.writes++;
    if (this.failFromWrite !== undefined && this.writes >= this.failFromWrite) throw new Error('sink closed');
    // Hand over asynchronously, as a stream that drains does.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.records.push(...records);
  }

  of(sourcetype: string): OutRecord[] {
    return this.records.filter((r) => r.sourcetype === sourcetype);
  }

  /** Parsed events of one sourcetype. */
  events(sourcetype: string): Array<Record<string, unknown>> {
    return this.of(sourcetype).map((r) => JSON.parse(r.data) as Record<string, unknown>);
  }

  health(type?: string): Array<Record<string, unknown>> {
    return this.events('sophos:central:health').filter((h) => type === undefined || h.type === type);
  }
}
