// `npm run demo` works (through the wrapper and the stand-in), and its real output passes the knowledge checks:
// every dashboard and saved-search field, every CIM field and every props rule is checked against the events the
// add-on itself wrote (SOPHOS_CENTRAL_SAMPLE_EVENTS of test/knowledge/samples.ts), not only against fixtures.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const eventsFile = join(dir, 'demo-events.jsonl');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  // The child vitest must not believe it is one of this run's workers.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

describe('npm run demo', () => {
  it('collects every data type twice with zero duplicates of alerts and events, and keeps the secret in storage/passwords', async () => {
    const r = await run([tsx, 'scripts/demo.ts', '--events-out', eventsFile]);
    expect(r.out).toContain('demo: OK');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sophos:central:alerts\s+\d+\s+12\s+0\n/);
    expect(r.out).toMatch(/sophos:central:events\s+\d+\s+20\s+0\n/);
    // The overlap read again holds the alerts run 1 sent just before it: dedup drops them, counted in the run_summary.
    expect(r.out).toMatch(/which holds 8 alerts run 1 sent \(raised five minutes before it\): 8 dropped as already sent\.\n/);
    expect(r.out).toMatch(/run 2 alerts .* duplicates_dropped=8 /);
    expect(r.out).toContain('neither the secret nor the session key appears');
    const lines = readFileSync(eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { sourcetype: string; event: object });
    const sourcetypes = new Set(lines.map((l) => l.sourcetype));
    expect([...sourcetypes].sort()).toEqual(['sophos:central:alerts', 'sophos:central:endpoints', 'sophos:central:events', 'sophos:central:health', 'sophos:central:tenants']);
  });

  it("passes the dashboard, CIM and props checks with its own events added to the samples", async () => {
    const r = await run([vitest, 'run', 'test/knowledge/dashboards.test.ts', 'test/knowledge/cim.test.ts', 'test/knowledge/props.test.ts'], {
      SOPHOS_CENTRAL_SAMPLE_EVENTS: eventsFile,
    });
    expect(r.out).toMatch(/Test Files\s.*3 passed/);
    expect(r.code).toBe(0);
  });
});
