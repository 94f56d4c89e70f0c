// Where collectors hand their events: the Splunk XML stream in the modular input, stdout, JSON files
// or HEC in the CLI. A collector moves its checkpoint only after `write` resolves.

export interface OutRecord {
  /** Event time, epoch seconds (fractional). */
  time: number;
  sourcetype: string;
  /** The event as compact one-line JSON. */
  data: string;
  /**
   * Set when `data` is these two joined: an item's text without its closing brace, and the members added to
   * it. A sink may write the two in turn. `data` itself is then a rope, which V8 copies into one new string
   * (about 700 bytes of garbage per SIEM event) the first time anything reads it.
   */
  pieces?: readonly [string, string];
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
