// Checkpoint keys: one per stanza, data type and tenant, and what a key or file name says about its stanza
// (the house-keeping that removes the checkpoints of deleted inputs reads them back).
import { checkpointFileName, checkpointFilePrefix } from './file-store.js';

/** The data types that keep a checkpoint per tenant. */
export type CheckpointData = 'alerts' | 'events' | 'endpoints';

/** One checkpoint per stanza, data type and tenant. The store turns the key into a safe file name. */
export function checkpointKey(stanza: string, data: CheckpointData, tenantId: string): string {
  return `${stanza}|${data}|${tenantId}`;
}

/** The stanza a checkpoint key belongs to (a stanza name may itself hold `|`), or undefined for another key. */
export function checkpointStanza(key: string): string | undefined {
  const tenantAt = key.lastIndexOf('|');
  const dataAt = tenantAt > 0 ? key.lastIndexOf('|', tenantAt - 1) : -1;
  return dataAt > 0 ? key.slice(0, dataAt) : undefined;
}

/**
 * Whether a checkpoint file name is exactly the one a key of these stanzas has, for the tenant it names:
 * such a file belongs to something that exists and need not be read to know it. A name this cannot
 * rebuild (a truncated long stanza name, a tenant ID in capitals) answers false and is simply read.
 */
export function isCheckpointNameOf(stanzas: readonly string[]): (name: string) => boolean {
  const prefixes = stanzas.map((stanza) => ({ stanza, prefix: checkpointFilePrefix(`${stanza}|`) }));
  return (name) =>
    prefixes.some(({ stanza, prefix }) => {
      if (!name.startsWith(prefix)) return false;
      const m = /^(alerts|events|endpoints)_([0-9a-f-]{36})\.[0-9a-f]{16}\.json$/.exec(name.slice(prefix.length));
      return m !== null && checkpointFileName(checkpointKey(stanza, m[1] as CheckpointData, m[2]!)) === name;
    });
}
