// `npm run demo`: the modular input against the built-in Sophos Central emulator, run exactly as splunkd runs
// it (bin/sophos_central.sh, the <input> document on stdin, the XML stream on stdout) by the splunkd stand-in.
// A partner with four tenants in two regions; every data type runs twice, with new alerts and SIEM events
// raised in between, and alerts raised just before the first run that the second reads again and drops.
// `--events-out <file>` also writes every event as a JSON line {"sourcetype","event"} (the format
// SOPHOS_CENTRAL_SAMPLE_EVENTS of the knowledge tests reads).
// tsx runs this file as CommonJS: no top-level await.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { duplicates, health, ids, SOURCETYPE, startWorld, type Collected, type DataType } from '../test/e2e/world.js';

const DATA: DataType[] = ['tenants', 'endpoints', 'alerts', 'events'];
const NEW_ALERTS = 3;
const NEW_EVENTS = 5;
/** Alerts per tenant raised five minutes before the first run: inside the overlap the second run reads again. */
const RECENT_ALERTS = 2;

function parseArgs(argv: string[]): { eventsOut?: string } {
  const out: { eventsOut?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--events-out' && argv[i + 1]) out.eventsOut = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: npm run demo [-- --events-out <file.jsonl>]`);
  }
  return out;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const pad = (s: string | number, n: number) => String(s).padEnd(n);

function sample(event: Record<string, unknown>, max = 600): string {
  const text = JSON.stringify(event, null, 2);
  return text.length <= max ? text : `${text.slice(0, max)}\n  … (${text.length - max} more characters)`;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  say('Starting the Sophos Central emulator (partner, 4 tenants in eu01 and us01) and the splunkd stand-in ...');
  const world = await startWorld({
    seed: 'demo',
    tenants: 4,
    idType: 'partner',
    regions: ['eu01', 'us01'],
    endpointsPerTenant: 20,
    alertsPerTenant: 120,
    eventsPerTenant: 300,
    clockMode: 'wall',
  });
  const { emu, splunkd } = world;
  let failed = false;
  try {
    say();
    say('Tenants of the partner credential:');
    for (const t of emu.tenants) say(`  ${pad(t.name, 28)} ${t.id}  ${t.dataRegion}`);

    const runs: Array<Record<DataType, Collected[]>> = [];
    const outputs: string[] = [];
    for (const t of emu.tenants) emu.addAlerts(t.id, RECENT_ALERTS, { raisedAt: emu.clock.now() - 5 * 60_000 });
    for (const pass of [1, 2]) {
      if (pass === 2) {
        // Raised two minutes ago: inside the overlap window the next alerts run looks at again.
        for (const t of emu.tenants) {
          emu.addAlerts(t.id, NEW_ALERTS, { raisedAt: emu.clock.now() - 2 * 60_000 });
          emu.addEvents(t.id, NEW_EVENTS);
        }
        say();
        say(`Between the runs: ${NEW_ALERTS} new alerts and ${NEW_EVENTS} new SIEM events per tenant.`);
      }
      const got = {} as Record<DataType, Collected[]>;
      for (const data of DATA) {
        const r = await world.run(`demo_${data}`, pass === 1 ? world.params(data, { start_days: '30' }) : undefined);
        outputs.push(r.stdout, ...r.stderr);
        if (r.exitCode !== 0) {
          failed = true;
          say(`  run ${pass} of demo_${data} exited ${r.exitCode}:`);
          for (const l of r.stderr) say(`    ${l}`);
        }
        got[data] = r.records;
      }
      runs.push(got);
    }

    say();
    say('Events per sourcetype:');
    say(`  ${pad('sourcetype', 28)} ${pad('run 1', 8)} ${pad('run 2', 8)} run 2 duplicates`);
    for (const data of DATA) {
      const st = SOURCETYPE[data];
      const [a, b] = [ids(runs[0]![data], st), ids(runs[1]![data], st)];
      const dups = duplicates(a, b);
      const note = data === 'alerts' || data === 'events' ? (dups === 0 ? '0' : `${dups}  <-- unexpected`) : `${dups} (a full snapshot every run, by design)`;
      if ((data === 'alerts' || data === 'events') && dups !== 0) failed = true;
      say(`  ${pad(st, 28)} ${pad(a.length, 8)} ${pad(b.length, 8)} ${note}`);
    }
    const healthCounts = runs.map((r) => DATA.reduce((n, d) => n + health(r[d]).length, 0));
    say(`  ${pad('sophos:central:health', 28)} ${pad(healthCounts[0]!, 8)} ${pad(healthCounts[1]!, 8)}`);
    say(`  New in run 2: alerts ${NEW_ALERTS * emu.tenants.length} raised, ${ids(runs[1]!.alerts, SOURCETYPE.alerts).length} collected; ` +
      `SIEM events ${NEW_EVENTS * emu.tenants.length} raised, ${ids(runs[1]!.events, SOURCETYPE.events).length} collected.`);
    // The alerts run 1 sent that run 2's overlap read again: dedup by ID must have dropped them.
    const dropped = Number(health(runs[1]!.alerts, 'run_summary')[0]?.duplicates_dropped ?? 0);
    const recent = RECENT_ALERTS * emu.tenants.length;
    if (dropped < recent) failed = true;
    say(`  Run 2 read its 15-minute overlap again, which holds ${recent} alerts run 1 sent (raised five minutes before it): ` +
      `${dropped} dropped as already sent${dropped < recent ? `  <-- expected at least ${recent}` : ''}.`);

    say();
    say('One sample event per sourcetype (run 1):');
    for (const data of DATA) {
      const first = runs[0]![data].find((r) => r.sourcetype === SOURCETYPE[data]);
      say(`--- ${SOURCETYPE[data]}`);
      say(first ? sample(first.event) : '(none)');
    }
    const tenantRun = health(runs[0]!.alerts, 'tenant_run')[0];
    say('--- sophos:central:health (tenant_run)');
    say(tenantRun ? sample(tenantRun) : '(none)');

    say();
    say('Health summaries (run_summary records):');
    runs.forEach((r, i) => {
      for (const data of DATA) {
        for (const s of health(r[data], 'run_summary')) {
          say(`  run ${i + 1} ${pad(data, 10)} status=${pad(String(s.status), 8)} tenants=${s.tenants_ok}/${s.tenants} events=${pad(String(s.events), 5)} ` +
            `requests=${pad(String(s.requests), 4)} retries=${s.retries} data_gaps=${s.data_gaps}` +
            `${s.duplicates_dropped === undefined ? '' : ` duplicates_dropped=${s.duplicates_dropped}`} ${s.duration_ms} ms`);
        }
      }
    });

    say();
    say('Where the client secret went:');
    const stored = [...splunkd.passwords.values()].filter((p) => p.username === emu.clientId && p.password === emu.clientSecret);
    say(`  storage/passwords: ${stored.length === 1 ? `realm ${stored[0]!.realm}, user ${stored[0]!.username} (app ${stored[0]!.app})` : 'MISSING'}`);
    for (const data of DATA) say(`  stanza sophos_central://demo_${data}: client_secret = ${splunkd.stanzas.get(`demo_${data}`)?.params.client_secret}`);
    const haystack = [
      ...outputs,
      JSON.stringify([...splunkd.stanzas.values()]),
      ...filesUnder(splunkd.splunkHome).map((f) => readFileSync(f, 'utf8')),
    ].join('\n');
    const leaked = haystack.includes(emu.clientSecret) || haystack.includes(splunkd.sessionKey);
    if (leaked || stored.length !== 1) failed = true;
    say(`  stdout, stderr, ta_sophos_central.log, checkpoints and stanzas searched: ${leaked ? 'the secret or session key LEAKED' : 'neither the secret nor the session key appears'}`);

    if (args.eventsOut) {
      const lines = runs.flatMap((r) => DATA.flatMap((d) => r[d])).map((c) => JSON.stringify({ sourcetype: c.sourcetype, event: c.event }));
      writeFileSync(args.eventsOut, `${lines.join('\n')}\n`);
      say();
      say(`Wrote ${lines.length} events to ${args.eventsOut} (SOPHOS_CENTRAL_SAMPLE_EVENTS=${args.eventsOut} npx vitest run test/knowledge checks them).`);
    }
  } finally {
    await world.stop();
  }
  say();
  say(failed ? 'demo: FAILED (see above)' : 'demo: OK');
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
