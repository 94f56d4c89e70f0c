// What splunkd runs (through bin/sophos_central.sh or .cmd) for the sophos_central scheme. It answers --scheme
// itself and loads the input (sophos_central_input.js) for everything else, compiled from the code cache.
import { join } from 'node:path';
import { stopOnSignals } from '../abort.js';
import { codeCacheDir, requireCompiled, type Compiled } from '../code-cache.js';
import { renderScheme } from '../splunk/scheme.js';
import type { run } from './sophos_central_input.js';

// Run without the wrappers, which check it first, an older Node would fail further on with a stack trace in
// splunkd.log (String#isWellFormed is Node 20's): the wrappers' one ERROR line instead.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`ERROR TA-sophos-central: Node.js 20 or newer is required, found ${process.version}. Install Node.js 20+ on this host.\n`);
  process.exitCode = 1;
} else if (process.argv.length === 3 && process.argv[2] === '--scheme') {
  // splunkd introspects every scheme at start-up: answered without loading the input.
  // A reader that went away (splunkd stopping) gets exit 1, not Node's stack trace for an unhandled EPIPE.
  process.stdout.on('error', () => process.exit(1));
  process.stdout.write(renderScheme());
} else {
  // Listened for before the input loads (tens of milliseconds): splunkd stopping the input then ends the run as
  // cleanly as later, where the signal's default action would kill the process.
  const stop = stopOnSignals();
  const input = join(__dirname, 'sophos_central_input.js');
  let loaded: Compiled | undefined;
  try {
    loaded = requireCompiled(input, codeCacheDir(process.env));
  } catch (err) {
    // A broken install: the wrappers' one ERROR line, not Node's stack trace in splunkd.log.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    process.stderr.write(`ERROR TA-sophos-central: ${input} is missing: reinstall the add-on.\n`);
    process.exitCode = 1;
  }
  if (loaded) {
    // Kept from a collection run only: splunkd's --validate-arguments, often an input's very first start, calls
    // a fraction of what a run does, and a cache once kept is used until the next release.
    if (process.argv.length === 2) process.once('exit', loaded.keep);
    (loaded.exports as { run: typeof run }).run(stop);
  }
}
