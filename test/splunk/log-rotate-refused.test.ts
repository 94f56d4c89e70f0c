// A log directory that refuses new entries (permissions, a read-only mount) cannot take the rotation lock:
// the file goes on growing, which is better than losing lines, but the admin is told once, and the lock is
// not asked for again on every line.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSplunkLogger, LOG_FILE_NAME } from '../../src/splunk/log.js';

const refuse = vi.hoisted(() => ({ locks: false, asked: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    mkdirSync: (...args: Parameters<typeof fs.mkdirSync>) => {
      if (String(args[0]).endsWith('.rotation-lock')) {
        refuse.asked++;
        if (refuse.locks) throw Object.assign(new Error(`EACCES: permission denied, mkdir '${String(args[0])}'`), { code: 'EACCES' });
      }
      return fs.mkdirSync(...args);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  refuse.locks = false;
  refuse.asked = 0;
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});

describe('log rotation the directory refuses', () => {
  it('keeps every line in the one file, warns once on stderr, and asks again only a minute later', () => {
    const splunkHome = mkdtempSync(join(tmpdir(), 'ta-log-'));
    dirs.push(splunkHome);
    const stderr: string[] = [];
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const logger = createSplunkLogger({ splunkHome, maxBytes: 1_000, stderr: { write: (t: string) => stderr.push(t) }, now: () => new Date(clock), level: 'DEBUG' });
    refuse.locks = true;
    for (let i = 0; i < 200; i++) logger.debug(`line ${i}`);
    const dir = join(splunkHome, 'var', 'log', 'splunk');
    expect(readdirSync(dir)).toEqual([LOG_FILE_NAME]);
    expect(stderr).toEqual([expect.stringMatching(/^WARN TA-sophos-central: cannot rotate .*ta_sophos_central\.log, so it grows past 1000 bytes until .* lets this user create files: EACCES: permission denied/)]);
    expect(refuse.asked).toBe(1);
    clock += 61_000;
    refuse.locks = false;
    logger.debug('after a minute');
    expect(refuse.asked).toBe(2);
    expect(readdirSync(dir).sort()).toEqual([LOG_FILE_NAME, `${LOG_FILE_NAME}.1`]);
  });
});
