// `sophos-central`: the standalone CLI. Flags and ini files as sophos_central_main.py; collection by the
// same client and collectors as the modular input, with the CLI's own sinks and polling state.
import { readFileSync } from 'node:fs';
import { createCentralClient } from '../central/client.js';
import { MemoryCheckpointStore } from '../checkpoint/memory-store.js';
import type { CentralClient } from '../central/types.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { checkpointKey } from '../checkpoint/keys.js';
import type { TenantDataType } from '../collect/collector.js';
import { runCollection, type CollectConfig, type RunSummary } from '../collect/run.js';
import { ConfigError, describeError, EXIT_FAILURE, EXIT_OK, EXIT_PARTIAL, type HecError } from '../errors.js';
import type { Logger } from '../log.js';
import { VERSION } from '../version.js';
import { HELP, parseArgs, type CliOptions, type GetType } from './args.js';
import { defaultConfigPath, loadSophosConfig, loadSplunkConfig, resolveHecToken, resolveSophosCredentials, type SecretIo } from './credentials.js';
import { HecClient } from './hec.js';
import { createStderrLogger } from './logger.js';
import { HecSink, JsonFileSink, StdoutSink, type CliSink } from './outputs.js';
import { Progress } from './progress.js';
import { DeferredCheckpointStore, openPollState, resolveStateDir, type PollState } from './state.js';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: SecretIo['stdin'];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM: collectors stop at a page boundary with their state consistent. */
  signal?: AbortSignal;
  /** The polling state store for a directory (the file store of src/checkpoint). */
  openStore(dir: string): CheckpointStore;
  /** `sophos-central cleanup ...`, when this build has it. */
  cleanup?(argv: string[]): Promise<number>;
}

/** The data type behind each --get, also the noun of the summary lines. */
const DATA: Record<GetType, CollectConfig['data']> = { tenants: 'tenants', inventory: 'endpoints', alerts: 'alerts', events: 'events' };
const STANZA = 'cli';

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (err: unknown) => {
    io.stderr.write(`sophos-central: error: ${describeError(err)}\n`);
    return EXIT_FAILURE;
  };
  if (argv[0] === 'cleanup') {
    if (!io.cleanup) return fail(new ConfigError('this build has no cleanup command'));
    return io.cleanup(argv.slice(1));
  }
  let options: CliOptions;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(HELP);
      return EXIT_OK;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`sophos-central ${VERSION}\n`);
      return EXIT_OK;
    }
    options = parsed.options;
  } catch (err) {
    return fail(err);
  }
  const progress = io.stderr.isTTY ? new Progress(io.stderr, DATA[options.get]) : undefined;
  const logger = createStderrLogger(options.logLevel, io.stderr, () => progress?.clear());
  try {
    return await run(options, io, logger, progress);
  } catch (err) {
    progress?.clear();
    return fail(err);
  }
}

async function run(options: CliOptions, io: CliIo, logger: Logger, progress?: Progress): Promise<number> {
  const secretIo: SecretIo = { env: io.env, stdin: io.stdin, stderr: io.stderr, warn: (m) => logger.warn(m) };
  const sophosConfig = loadSophosConfig(options.config ?? defaultConfigPath('sophos_config.ini', io.env, io.cwd), {
    required: options.config !== undefined || options.auth === 'static' || options.auth === 'aws',
  });
  const data = DATA[options.get];
  const splunkOut = options.output === 'splunk' || options.output === 'splunk_trans';
  const splunkConfig = splunkOut
    ? loadSplunkConfig(options.splunkConfig ?? defaultConfigPath('splunk_config.ini', io.env, io.cwd), { required: true })
    : undefined;
  const hecSettings = splunkConfig?.hec;
  if (splunkConfig && !hecSettings) {
    throw new ConfigError(`splunk_config.ini ${splunkConfig.path}: [splunk_hec] splunk_url is not set (e.g. https://splunk.example.com:8088/services/collector)`, 'splunk_url');
  }
  if (options.output === 'splunk_trans' && splunkConfig && !Object.values(splunkConfig.transform).some(Boolean)) {
    logger.warn('--output splunk_trans with an empty [splunk_transform]: events keep host, source and sourcetype as with --output splunk');
  }
  if (data === 'events' && options.days > 1) {
    logger.warn(`--days ${options.days}: SIEM events reach back at most 24 hours, so events start 24 hours back`);
  }

  // Secrets first, so that a bad token or credential fails before anything is collected.
  const credentials = await resolveSophosCredentials(options.auth, sophosConfig, secretIo);
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  let fatal: HecError | undefined;
  let hec: HecClient | undefined;
  if (hecSettings && splunkConfig) {
    const token = await resolveHecToken(options.hecAuth, splunkConfig, secretIo);
    let caPem: string | undefined;
    if (hecSettings.caFile) {
      try {
        caPem = readFileSync(hecSettings.caFile, 'utf8');
      } catch (err) {
        throw new ConfigError(`[splunk_hec] ca_file ${hecSettings.caFile}: ${(err as Error).message}`, 'ca_file');
      }
    }
    hec = new HecClient({
      url: hecSettings.url,
      token,
      channel: hecSettings.channel,
      ack: hecSettings.ackEnabled,
      verifyAck: hecSettings.verifyAck,
      ackBatchSize: hecSettings.ackBatchSize,
      verifyTls: hecSettings.verifyTls,
      caPem,
      maxBatchBytes: hecSettings.maxBatchBytes,
      logger,
    });
  }

  let poll: PollState | undefined;
  let store: CheckpointStore = new MemoryCheckpointStore();
  let deferred: DeferredCheckpointStore | undefined;
  if (options.pollAlerts) {
    poll = openPollState(resolveStateDir(options.stateDir, io.env), data, options.reset);
    if (poll.existed && options.daysGiven) {
      logger.warn(`--days ${options.days} applies to the first poll only: this poll continues from the saved state (add --reset to start ${options.days} days back)`);
    }
    store = io.openStore(poll.dir);
    logger.info(`polling state in ${poll.dir}`);
  }

  let sink: CliSink;
  if (hec) {
    sink = new HecSink(hec, {
      transform: options.output === 'splunk_trans' ? splunkConfig?.transform : undefined,
      onFatal: (err) => {
        fatal = err;
        controller.abort();
      },
    });
  } else if (options.output === 'json') {
    if (poll) store = deferred = new DeferredCheckpointStore(store);
    const commit = deferred;
    sink = new JsonFileSink(options.outputDir ?? io.cwd, {
      // Polls accumulate in the file; --reset starts it afresh, as it starts the state afresh.
      merge: poll !== undefined && !options.reset,
      tenantsFile: data === 'tenants',
      onTenantDone: commit ? (tenantId) => commit.commit(checkpointKey(STANZA, data as TenantDataType, tenantId)) : undefined,
    });
  } else {
    sink = new StdoutSink(io.stdout);
  }

  const rawClient = createCentralClient({ clientId: credentials.clientId, clientSecret: credentials.clientSecret, logger, signal: controller.signal, env: io.env });
  const client = progress ? progress.wrapClient(rawClient) : rawClient;
  if (progress) sink = progress.wrapSink(sink);
  const pageSize = data === 'endpoints' ? sophosConfig.pageSize.inventory : data === 'alerts' ? sophosConfig.pageSize.alerts : undefined;
  let summary: RunSummary | undefined;
  let failure: unknown;
  try {
    // Credentials checked once, up front (the client keeps the answer): a refusal is one line, not one per tenant.
    await client.whoami();
    if (options.tenant && !(await hasTenant(rawClient, options.tenant))) {
      throw new ConfigError(`--tenant ${options.tenant}: no such tenant for this credential (see --get tenants)`, 'tenant');
    }
    summary = await runCollection({
      client,
      config: { data, tenants: options.tenant ? [options.tenant] : [], excludeTenants: [], startDays: options.days, excludeTypes: [], pageSize },
      stanza: STANZA,
      sink,
      store,
      logger,
      signal: controller.signal,
      tenantWarnLines: Number.POSITIVE_INFINITY,
    });
    if (summary.failure !== undefined) throw summary.failure;
  } catch (err) {
    failure = err;
  } finally {
    await sink.close().catch((err: unknown) => {
      failure ??= err;
    });
    await client.close();
    poll?.release();
    progress?.clear();
  }

  if (fatal) {
    io.stderr.write(`sophos-central: error: ${describeError(fatal)}\n`);
    return EXIT_FAILURE;
  }
  if (failure !== undefined) throw failure;
  return report(summary as RunSummary, options, io, logger);
}

/** Stops listing at the first match, so a valid --tenant costs at most the pages before it. */
async function hasTenant(client: CentralClient, idOrName: string): Promise<boolean> {
  for await (const t of client.tenants({ include: [idOrName] })) if (t) return true;
  return false;
}

function report(summary: RunSummary, options: CliOptions, io: CliIo, logger: Logger): number {
  const noun = DATA[options.get];
  if (summary.status === 'aborted') {
    io.stderr.write(`sophos-central: interrupted; ${summary.events} ${noun} were written and the polling state matches them\n`);
    return EXIT_FAILURE;
  }
  if (options.get === 'tenants') {
    io.stderr.write(`sophos-central: ${summary.events} tenants\n`);
    return EXIT_OK;
  }
  for (const t of summary.results) {
    const head = `tenant ${t.tenant.name} (${t.tenant.id})`;
    io.stderr.write(
      t.status === 'ok'
        ? `${head}: ok, ${t.events} ${noun}\n`
        : `${head}: ${t.status === 'error' ? 'FAILED' : t.status}, ${t.events} ${noun} written: ${t.error ?? ''}\n`,
    );
  }
  if (summary.tenants === 0) logger.warn('this credential sees no tenant');
  if (summary.status === 'ok') return EXIT_OK;
  return summary.status === 'partial' ? EXIT_PARTIAL : EXIT_FAILURE;
}
