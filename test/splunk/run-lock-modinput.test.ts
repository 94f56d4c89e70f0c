// A run that finds another run of its stanza at work waits for it, then leaves collecting to it: a WARN line,
// a run_summary of status skipped, exit 0, and nothing collected twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLockFile } from '../../src/checkpoint/run-lock.js';
import { runModularInput } from '../../src/splunk/modinput.js';
import { inputDocument, parseXmlStream, startSplunkd, type SplunkdStandIn } from '../splunkd/index.js';

let splunkd: SplunkdStandIn;
let other: ChildProcess;
let checkpointDir: string;
beforeAll(async () => {
  splunkd = await startSplunkd();
  other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  checkpointDir = mkdtempSync(join(tmpdir(), 'ta-lock-run-'));
});
afterAll(async () => {
  other.kill('SIGKILL');
  await splunkd.stop();
  rmSync(checkpointDir, { recursive: true, force: true });
});

const capture = () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString('utf8') };
};

async function runOnce(name: string, runLockWaitMs: number) {
  const params = { client_id: 'c1', client_secret: 'clear-secret', data: 'alerts', index: 'sophos' };
  splunkd.stanzas.set(name, { app: 'TA-sophos-central', params });
  const doc = inputDocument({ serverUri: splunkd.uri, sessionKey: splunkd.sessionKey, checkpointDir, stanzas: [{ name, app: 'TA-sophos-central', params }] });
  const [stdout, stderr] = [capture(), capture()];
  let collected = 0;
  const code = await runModularInput([], { stdin: new PassThrough().end(doc), stdout: stdout.stream, stderr: stderr.stream, env: {}, signal: new AbortController().signal, runLockWaitMs }, async () => {
    collected++;
  });
  return { code, collected, stderr: stderr.text().split('\n').filter(Boolean), events: parseXmlStream(stdout.bytes(), false).events };
}

describe('a run while another run of its stanza holds the lock', () => {
  it('waits, then collects nothing, says so in a WARN line and a skipped run_summary, and exits 0', async () => {
    writeFileSync(runLockFile(checkpointDir, 'sophos_central://busy'), JSON.stringify({ pid: other.pid, token: 'theirs' }));
    const t0 = Date.now();
    const r = await runOnce('busy', 400);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(r.code).toBe(0);
    expect(r.collected).toBe(0);
    expect(r.stderr.filter((l) => !l.startsWith('INFO'))).toEqual([
      `WARN TA-sophos-central sophos_central://busy: another run of this input (pid ${other.pid}) was still collecting after 0.4 s, so this run collected nothing; the next run goes on from where that one stops`,
    ]);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ sourcetype: 'sophos:central:health', index: 'sophos' });
    expect(JSON.parse(r.events[0]!.data)).toMatchObject({ type: 'run_summary', stanza: 'sophos_central://busy', data: 'alerts', status: 'skipped', events: 0, reason: expect.stringMatching(/^another run/) });
  });

  it('runs as usual once the lock is free, and leaves none behind', async () => {
    const r = await runOnce('free', 400);
    expect(r.code).toBe(0);
    expect(r.collected).toBe(1);
    expect(r.stderr.filter((l) => !l.startsWith('INFO'))).toEqual([]);
    expect(existsSync(runLockFile(checkpointDir, 'sophos_central://free'))).toBe(false);
    const again = await runOnce('free', 400);
    expect(again.collected).toBe(1);
  });
});
