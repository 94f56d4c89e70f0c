// Per-stanza, per-tenant state that survives runs: Splunk's checkpoint_dir for the modular input,
// the user's XDG state directory for the CLI.

export interface CheckpointStore {
  /**
   * The saved value, or undefined when there is none. An unreadable one is set aside, then reported as a
   * CorruptCheckpointError, so that the next load is a clean miss and the caller can say what restarted.
   */
  load<T>(key: string): Promise<T | undefined>;
  /** Atomic: write, fsync, rename. A crash leaves either the old or the new value. */
  save<T>(key: string, value: T): Promise<void>;
  /**
   * Fails as save() would when no save can succeed now (no rights, a read-only or full disk), changing no
   * checkpoint. Stores whose saves cannot fail that way have none.
   */
  probe?(): Promise<void>;
}
