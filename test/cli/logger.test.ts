import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createStderrLogger } from '../../src/cli/logger.js';

function capture() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return { out, text: () => text };
}

describe('createStderrLogger', () => {
  it('writes at --log_level and above, one line per message', () => {
    const { out, text } = capture();
    const logger = createStderrLogger('WARN', out);
    logger.info('not shown');
    logger.warn('first\nsecond');
    logger.error('bad');
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+ WARN first second$/);
    expect(lines[1]).toMatch(/ ERROR bad$/);
  });

  it('redacts a secret that a foreign error message carries, as the modular input logger does', () => {
    const { out, text } = capture();
    createStderrLogger('DEBUG', out).warn('proxy http://user:hunter2@proxy:3128 said client_secret=s3cr3t-value, Authorization: Bearer abcdefghijkl');
    expect(text()).not.toMatch(/hunter2|s3cr3t-value|abcdefghijkl/);
    expect(text()).toContain('<redacted>');
  });
});
