// Where collectors hand their events: the Splunk XML stream in the modular input, stdout, JSON files
// or HEC in the CLI. A collector moves its checkpoint only after `write` resolves.

export interface OutRecord {
  /** Event time, epoch seconds (fractional). */
  time: number;
  sourcetype: string;
  /** The event as compact one-line JSON. */
  data: string;
  tenantId?: string;
  tenantName?: string;
}

export interface EventSink {
  /** Resolves once every record is durably handed over (stdout drained, file renamed, HEC acknowledged). */
  write(records: OutRecord[]): Promise<void>;
  /**
   * Optional: does the CPU work of `write` (encoding) now and returns what hands the records over, which
   * then does what `write` does. Lets a collector encode a page while the previous page's checkpoint is saved.
   */
  prepare?(records: OutRecord[]): () => Promise<void>;
}
