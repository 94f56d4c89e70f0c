// What splunkd runs (through bin/sophos_central.sh or .cmd) for the sophos_central scheme.
import { stopOnSignals } from '../abort.js';
import type { CentralClientOptions } from '../central/client.js';
import type { CentralClient } from '../central/types.js';
import { AbortedError, BadCredentialsError, NetworkError } from '../errors.js';
import type { SecretVerdict } from '../splunk/credentials.js';
import type { CheckSecretFn, CollectFn } from '../splunk/modinput.js';
import { renderScheme } from '../splunk/scheme.js';

/** Per-request timeout to Sophos Central in ms (default 60 s); for tests and very slow links only. */
const HTTP_TIMEOUT_ENV = 'TA_SOPHOS_CENTRAL_HTTP_TIMEOUT_MS';

async function centralClient(opts: CentralClientOptions) {
  const { createCentralClient } = await import('../central/client.js');
  const timeout = process.env[HTTP_TIMEOUT_ENV];
  return createCentralClient({ ...opts, ...(timeout ? { timeoutMs: Number(timeout) } : {}) });
}

// One stanza's run: a client for its credential, the collectors, and the client closed whatever happens.
const collect: CollectFn = async ({ stanza, config, clientSecret, secretsInClear, priorRequests, sink, store, logger, signal }) => {
  const [client, { runCollection }] = await Promise.all([
    centralClient({
      clientId: config.clientId,
      clientSecret,
      proxyUrl: config.proxyUrl,
      proxyName: config.proxyName,
      logger,
      signal,
      // Every tenant collected at once gets at least one request slot.
      ...(config.tenantConcurrency ? { concurrency: { total: Math.max(8, config.tenantConcurrency) } } : {}),
    }),
    import('../collect/run.js'),
  ]);
  try {
    return await runCollection({ client, config, stanza, sink, store, logger, signal, priorRequests, ...(secretsInClear ? { secretsInClear } : {}) });
  } finally {
    await client.close();
  }
};

/** Whether Sophos Central takes the client's secret: a token and whoami, the first requests of every run. */
async function secretVerdict(client: CentralClient): Promise<SecretVerdict> {
  try {
    await client.whoami();
    return 'accepted';
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    if (err instanceof BadCredentialsError) return 'refused';
    return err instanceof NetworkError && err.proxyStatus === 407 ? 'proxy refused' : 'unknown';
  }
}

// With the requests it took, which the run's run_summary counts.
const checkSecret: CheckSecretFn = async ({ clientId, clientSecret, proxyUrl, proxyName, logger, signal }) => {
  const client = await centralClient({ clientId, clientSecret, proxyUrl, proxyName, logger, signal });
  try {
    return { verdict: await secretVerdict(client), requests: { ...client.stats } };
  } finally {
    await client.close();
  }
};

// Run without the wrappers, which check it first, an older Node would fail further on with a stack trace in
// splunkd.log (String#isWellFormed is Node 20's): the wrappers' one ERROR line instead.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`ERROR TA-sophos-central: Node.js 20 or newer is required, found ${process.version}. Install Node.js 20+ on this host.\n`);
  process.exitCode = 1;
} else if (process.argv.length === 3 && process.argv[2] === '--scheme') {
  // splunkd introspects every scheme at start-up: answered without loading the HTTP stack.
  // A reader that went away (splunkd stopping) gets exit 1, not Node's stack trace for an unhandled EPIPE.
  process.stdout.on('error', () => process.exit(1));
  process.stdout.write(renderScheme());
} else {
  // Listened for before the input's modules load (tens of milliseconds): splunkd stopping the input then ends
  // the run as cleanly as later, where the signal's default action would kill the process.
  const stop = stopOnSignals();
  void import('../splunk/modinput.js').then(({ runProcess }) => runProcess(collect, checkSecret, stop));
}
