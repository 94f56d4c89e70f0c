// The sophos_central modular input's run (run mode and --validate-arguments), which bin/app/sophos_central.js
// loads through the code cache (src/code-cache.ts) once it is not asked for the scheme. Not run on its own.
import type { CentralClientOptions } from '../central/client.js';
import type { CentralClient } from '../central/types.js';
import { AbortedError, BadCredentialsError, NetworkError } from '../errors.js';
import type { SecretVerdict } from '../splunk/credentials.js';
import { runProcess, type CheckSecretFn, type CollectFn } from '../splunk/modinput.js';

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

/** Runs the input in this process; `stop` is the loader's, listened for before this bundle loaded. */
export function run(stop: AbortController): void {
  runProcess(collect, checkSecret, stop);
}
