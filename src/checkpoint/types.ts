// Per-stanza, per-tenant state that survives runs: Splunk's checkpoint_dir for the modular input,
// the user's XDG state directory for the CLI.

export interface CheckpointStore {
  /**
   * The saved value, or undefined when there is none. An unreadable one is set aside, then reported as a
   * CorruptCheckpointError, so that the next load is a clean miss and the caller can say what restarted.
   */
  load<T>(key: string): Promise<T | undefined>;
  /** Atomic: write, fsync, rename. A crash leaves either the old or the new value. */
  save<T>(key: string, value: T, options?: SaveOptions): Promise<void>;
  /**
   * Resolves once every save so far is durable; rejects with a failure to make one so that no save has reported
   * yet. Only stores that leave such work running after a save (`dirSync: 'later'`) have one.
   */
  flush?(): Promise<void>;
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

export interface SaveOptions {
  /**
   * 'later': resolve once the new value is in place, before the directory's fsync has made its rename durable;
   * the next save, and flush(), wait for that fsync. For a page loop's saves, which come one after another: a
   * process that dies meanwhile (kill -9) finds the new value, as the rename is done; only a power cut in those
   * milliseconds may bring back the value before it, and what was sent since is sent again, not lost.
   */
  dirSync?: 'later';
}
