// What splunkd runs (through bin/sophos_central_cleanup.sh) for the sophos_central_cleanup alert action:
// `--execute` with the JSON payload on stdin. Messages go to stderr, which splunkd logs.
import { createCentralClient } from '../central/client.js';
import { parseAlertPayload, readStoredSecret, runAlertAction } from '../cleanup/alert-action.js';
import { describeApplySummary } from '../cleanup/apply.js';
import { describeError, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL } from '../errors.js';
import { readStdin } from '../splunk/input.js';

async function main(): Promise<number> {
  if (process.argv[2] !== '--execute') {
    process.stderr.write('ERROR sophos_central_cleanup: run by Splunk as a custom alert action with --execute\n');
    return EXIT_FAILURE;
  }
  const payload = parseAlertPayload(await readStdin(process.stdin, { endTags: [] }));
  const run = await runAlertAction(payload, {
    secret: (p, clientId) => readStoredSecret(p, clientId, process.env),
    client: (clientId, clientSecret) => createCentralClient({ clientId, clientSecret }),
    env: process.env,
    now: Date.now,
  });
  const s = run.summary;
  process.stderr.write(
    `INFO sophos_central_cleanup: ${run.config.execute ? 'executed' : 'dry run'} on ${run.plan.devices.length} devices: ${describeApplySummary(s)}; audit ${run.auditPath}\n`,
  );
  for (const f of s.failures) process.stderr.write(`ERROR sophos_central_cleanup: ${f}\n`);
  return s.failures.length > 0 ? EXIT_PARTIAL : EXIT_OK;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ERROR sophos_central_cleanup: ${describeError(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
