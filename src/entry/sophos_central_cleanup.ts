// What splunkd runs (through bin/sophos_central_cleanup.sh) for the sophos_central_cleanup alert action:
// `--execute` with the JSON payload on stdin. Messages go to stderr, which splunkd logs.
import { createCentralClient } from '../central/client.js';
import { runAlertAction, parseAlertPayload } from '../cleanup/alert-action.js';
import { readClientSecret } from '../cleanup/storage-password.js';
import { describeError } from '../errors.js';
import { readStdin } from '../splunk/input.js';

async function main(): Promise<number> {
  if (process.argv[2] !== '--execute') {
    process.stderr.write('ERROR sophos_central_cleanup: run by Splunk as a custom alert action with --execute\n');
    return 1;
  }
  const payload = parseAlertPayload(await readStdin(process.stdin, { endTags: [] }));
  const run = await runAlertAction(payload, {
    secret: (p, clientId) => readClientSecret(p.server_uri, p.session_key, clientId),
    client: (clientId, clientSecret) => createCentralClient({ clientId, clientSecret }),
    env: process.env,
    now: Date.now,
  });
  const s = run.summary;
  process.stderr.write(
    `INFO sophos_central_cleanup: ${run.config.execute ? 'executed' : 'dry run'} on ${run.plan.devices.length} devices: deleted ${s.deleted}, would delete ${s.wouldDelete}, failed ${s.failed}, over the cap ${s.capped}, manual ${s.manual}, skipped ${s.skipped}; audit ${run.auditPath}\n`,
  );
  for (const f of s.failures) process.stderr.write(`ERROR sophos_central_cleanup: delete failed, raised for manual action (not retried): ${f}\n`);
  return s.failed > 0 ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ERROR sophos_central_cleanup: ${describeError(err)}\n`);
    process.exitCode = 1;
  },
);
