// What splunkd runs (through bin/sophos_central.sh or .cmd) for the sophos_central scheme.
import { TaError } from '../errors.js';
import type { CollectFn } from '../splunk/modinput.js';
import { renderScheme } from '../splunk/scheme.js';

// The collectors (src/collect/run.ts) are wired here when they join this build.
const collect: CollectFn = async () => {
  throw new TaError('data collection is not part of this build yet');
};

// splunkd introspects every scheme at start-up: answer --scheme without loading the HTTP stack.
if (process.argv.length === 3 && process.argv[2] === '--scheme') process.stdout.write(renderScheme());
else void import('../splunk/modinput.js').then(({ runProcess }) => runProcess(collect));
