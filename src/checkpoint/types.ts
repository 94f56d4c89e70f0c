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
   * Moves a value that loaded but is of no use to its reader (an unknown shape: a hand edit, a newer release's)
   * out of the way, as load() does with an unreadable one, so the restart that follows does not destroy it.
   * Returns where it went, when it went somewhere an admin can look; undefined when there was nothing to move.
   */
  setAside(key: string): Promise<string | undefined>;
  /**
   * Fails as save() would when no save can succeed now (no rights, a read-only or full disk), changing no
   * checkpoint. Stores whose saves cannot fail that way have none.
   */
  probe?(): Promise<void>;
}
