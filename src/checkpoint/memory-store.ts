// A CheckpointStore that lives as long as the process: for one-shot CLI runs (`--get alerts --days 7`
// without polling) and for tests. Values are kept as JSON text, so a caller that mutates an object
// after saving it cannot change what was saved, exactly as with the file store.

import type { CheckpointStore } from './types.js';

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly values = new Map<string, string>();

  async load<T>(key: string): Promise<T | undefined> {
    const text = this.values.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async save<T>(key: string, value: T): Promise<void> {
    this.values.set(key, JSON.stringify(value));
  }

  /** Nowhere to put it aside: dropped, as the restart's save would. */
  async setAside(key: string): Promise<undefined> {
    this.values.delete(key);
    return undefined;
  }

  /** Every saved key, in the order first saved. */
  keys(): string[] {
    return [...this.values.keys()];
  }
}
