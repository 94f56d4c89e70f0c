// What splunkd runs (through bin/sophos_central.sh or .cmd) for the sophos_central scheme.
import { renderScheme } from '../splunk/scheme.js';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--scheme') {
  process.stdout.write(renderScheme());
} else {
  process.stderr.write('ERROR TA-sophos-central: only --scheme is available in this build\n');
  process.exitCode = 1;
}
