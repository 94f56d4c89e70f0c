// Checkpoint keys: one per stanza, data type and tenant, and the stanza read back from a key (used to find
// the checkpoints of deleted inputs).
import { describe, expect, it } from 'vitest';
import { checkpointKey, checkpointStanza } from '../../src/checkpoint/keys.js';

describe('checkpoint keys', () => {
  it('give back the stanza they were made for, whatever the stanza name holds', () => {
    for (const stanza of ['sophos_central://prod', 'sophos_central://a|b', 'sophos_central://', 'sophos_central://x||y']) {
      for (const data of ['alerts', 'events', 'endpoints'] as const) {
        expect(checkpointStanza(checkpointKey(stanza, data, '6c2c3e3c-3a34-4e4b-b0a6-111111111111'))).toBe(stanza);
      }
    }
  });

  it('name no stanza for keys of another shape', () => {
    for (const key of ['sophos_central://prod/sample', 'sophos_central://prod|alerts', '|alerts|t1', '']) {
      expect(checkpointStanza(key), key).toBeUndefined();
    }
  });
});
