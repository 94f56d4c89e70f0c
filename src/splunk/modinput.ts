// The modular input's three modes (splunk-addon.md §1.3): --scheme, --validate-arguments and run mode.
// Run mode does everything up to collection (parse, validate, logger, secret, checkpoint store, XML stream);
// the collection itself is passed in (`collect`), so the entry point wires the collectors and tests wire a
// small function of their own.
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { stopOnSignals } from '../abort.js';
import type { RequestStats } from '../central/types.js';
import type { CheckpointStore } from '../checkpoint/types.js';
import { failureScope, FileCheckpointStore } from '../checkpoint/file-store.js';
import { checkpointStanza, isCheckpointNameOf } from '../checkpoint/keys.js';
import { runLockFile, takeRunLock, type Held, type RunLock } from '../checkpoint/run-lock.js';
import type { EventSink, OutRecord } from '../collect/sink.js';
import {
  type InputConfig,
  intervalProblem,
  misfitParams,
  likelyTypos,
  proxyCredential,
  proxyUrl,
  single,
  stanzaOutput,
  validateInputFields,
  validateInputParams,
} from '../config/input-config.js';
import { failedRunRecord, skippedRunRecord } from '../collect/run.js';
import { AbortedError, ConfigError, EXIT_FAILURE, EXIT_OK, SplunkdError, describeError } from '../errors.js';
import { parseLogLevel, type Logger, type LogLevel } from '../log.js';
import { VERSION } from '../version.js';
import { clearSecretFields, clientSecretEntry, proxyPasswordEntry, resolveSecrets, type SecretEntry, type SecretVerdict, storedSecret } from './credentials.js';
import { XmlEventWriter, XmlStream } from './event-writer.js';
import { type InputDefinition, type Params, parseInputDefinition, parseValidationDefinition, readStdin, type StanzaDefinition } from './input.js';
import { confStanza } from './conf.js';
import { createSplunkLogger } from './log.js';
import { SCHEME, SETTINGS_CONF } from './names.js';
import { SplunkdClient } from './rest.js';
import { renderScheme, SCHEME_PARAMS } from './scheme.js';
import { escapeXml } from './xml.js';

/** How long a stopped process waits for stdout and stderr to drain before it exits anyway. */
const EXIT_FLUSH_MS_STOPPING = 1_000;

/** The stanza keys that mean something: this scheme's parameters and Splunk's own (splunk-addon.md §1.5). */
const KNOWN_PARAMS = [...SCHEME_PARAMS.map((p) => p.name), 'interval', 'index', 'host', 'sourcetype', 'disabled', 'python.version'];

/** Everything one stanza's collection needs. */
export interface StanzaRun {
  /** Full stanza name, e.g. `sophos_central://prod`. */
  stanza: string;
  config: InputConfig;
  /** The clear secret, from the stanza or from storage/passwords. Never log or store it. */
  clientSecret: string;
  /** The stanza's fields still holding a secret in clear in inputs.conf (not stored, not masked, or not checked yet), when any do. */
  secretsInClear?: string[];
  /** Requests to Sophos Central before collecting (the check of a newly typed secret), for the run_summary. */
  priorRequests?: RequestStats;
  sink: EventSink;
  store: CheckpointStore;
  logger: Logger;
  /** Aborted on SIGTERM: finish or drop the current page consistently, save, return. */
  signal: AbortSignal;
}

/**
 * One stanza's collection. It logs its own failures; a result with `status: 'error'` (runCollection's
 * RunSummary when no tenant could be listed or every tenant failed) makes the process exit 1, so
 * splunkd.log shows the failed run.
 */
export type CollectFn = (run: StanzaRun) => Promise<unknown>;

/**
 * Asks Sophos Central whether it accepts a client secret, through the stanza's proxy when it has one: the check
 * before a client secret or proxy password typed into a stanza replaces a different one stored for its client ID
 * or proxy account.
 */
export type CheckSecretFn = (
  check: Pick<StanzaRun, 'logger' | 'signal'> & Pick<InputConfig, 'clientId' | 'proxyUrl' | 'proxyName'> & { clientSecret: string },
) => Promise<{ verdict: SecretVerdict; requests: RequestStats }>;

export interface ModinputIo {
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Aborted when the process gets SIGTERM. */
  signal: AbortSignal;
  stdinTimeoutMs?: number;
  /** How long a run waits for another run of its stanza to finish before it leaves collecting to that one. */
  runLockWaitMs?: number;
}

/**
 * RUN_LOCK_WAIT_MS: long enough for a run that was stopped (an edit restarts the input) to finish its page and
 * exit, its writes to splunkd given up after STOP_GRACE_MS at the latest.
 */
const RUN_LOCK_WAIT_MS = 15_000;

/** Optional log level override for support cases: DEBUG adds detail (and stacks) to the log file. */
export const LOG_LEVEL_ENV = 'TA_SOPHOS_CENTRAL_LOG_LEVEL';

/** The environment override first, then the app-wide [logging] loglevel, then INFO. */
function logLevel(env: NodeJS.ProcessEnv, appLevel?: string): LogLevel {
  for (const candidate of [env[LOG_LEVEL_ENV], appLevel]) {
    const level = parseLogLevel(candidate ?? '');
    if (level) return level;
  }
  return 'INFO';
}

/** The logger of this process, or of one stanza, at the level the environment and the app settings give. */
function inputLogger(io: Pick<ModinputIo, 'env' | 'stderr'>, opts: { appLevel?: string; stanza?: string } = {}): Logger {
  return createSplunkLogger({ level: logLevel(io.env, opts.appLevel), stanza: opts.stanza, splunkHome: io.env.SPLUNK_HOME, stderr: io.stderr });
}

/** splunkd's REST API as the input definition names it, with the run's stop signal. */
function splunkdFor(io: ModinputIo, def: { serverUri: string; sessionKey: string }): SplunkdClient {
  return new SplunkdClient({ serverUri: def.serverUri, sessionKey: def.sessionKey, splunkHome: io.env.SPLUNK_HOME, signal: io.signal });
}

/** One ERROR line for splunkd.log; the stack only at DEBUG, in the add-on's own log file. */
function logFailure(logger: Logger, err: unknown, prefix = ''): void {
  logger.error(`${prefix}${describeError(err)}`);
  if (err instanceof Error && err.stack) logger.debug(err.stack);
}

/** Dispatches on argv and returns the exit code. Never throws; never prints a stack on stderr. */
export async function runModularInput(argv: readonly string[], io: ModinputIo, collect: CollectFn, checkSecret?: CheckSecretFn): Promise<number> {
  // Opened on first use: --scheme, which splunkd asks every scheme for at start-up, leaves no log file behind.
  let opened: Logger | undefined;
  const processLogger = (): Logger => (opened ??= inputLogger(io));
  try {
    if (argv.length === 1 && argv[0] === '--scheme') {
      await writeAll(io.stdout, renderScheme());
      return EXIT_OK;
    }
    if (argv.length === 1 && argv[0] === '--validate-arguments') return await validateArguments(io, processLogger());
    if (argv.length === 0) return await runInputs(io, collect, processLogger(), checkSecret);
    processLogger().error(
      `unknown arguments ${JSON.stringify(argv.join(' '))}; splunkd runs this script with no argument, --scheme or --validate-arguments`,
    );
    return EXIT_FAILURE;
  } catch (err) {
    logFailure(processLogger(), err);
    return EXIT_FAILURE;
  }
}

/**
 * Runs as the process splunkd started: argv, stdio, SIGTERM/SIGINT (`controller`, aborted by them: stops the
 * collection, which stops consistently and saves), then exit with the code once stdout and stderr are
 * flushed. Exiting explicitly means no idle keep-alive socket can hold the process open.
 */
export function runProcess(collect: CollectFn, checkSecret?: CheckSecretFn, controller: AbortController = stopOnSignals()): void {
  // Each tenant at work listens for the stop: with tenant_concurrency over 10 that is more than Node's
  // leak-warning threshold, and no leak.
  setMaxListeners(0, controller.signal);
  const logger = () => inputLogger(process);
  // Node prints its warnings as two lines without a severity, which splunkd.log would show as ERROR: one WARN instead.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger().warn(`Node.js: ${warning.name}: ${warning.message}`));
  // An error that escapes every await (an emitter, a timer) would otherwise print Node's multi-line stack
  // into splunkd.log: one ERROR line instead, the stack only at DEBUG in the log file, then exit 1.
  const fatal = (err: unknown) => {
    logFailure(logger(), err, 'unexpected failure, exiting: ');
    process.stderr.write('', () => process.exit(EXIT_FAILURE));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  void runModularInput(
    process.argv.slice(2),
    { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal },
    collect,
    checkSecret,
  ).then((code) => {
    const exit = () => process.exit(code);
    // Stopped, every batch was either confirmed or given up (XmlStream): what is left in Node's buffer is
    // given up with it if splunkd no longer reads stdout.
    if (controller.signal.aborted) setTimeout(exit, EXIT_FLUSH_MS_STOPPING);
    process.stdout.write('', () => process.stderr.write('', exit));
  });
}

function writeAll(out: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
}

async function validateArguments(io: ModinputIo, logger: Logger): Promise<number> {
  let message: string;
  try {
    const def = parseValidationDefinition(await readStdin(io.stdin, { timeoutMs: io.stdinTimeoutMs, signal: io.signal }));
    const rest = splunkdFor(io, def);
    try {
      const { clientId, clientSecret, proxyUrl: proxy } = validateInputFields(await withStoredStanza(def.name, def.params, rest, logger));
      // A masked or empty secret must be stored already: by an earlier run, or by the setup page. An edit that
      // leaves client_id out leaves the credential as it was; one that changes it (Splunk Web posts the masked
      // secret back) needs the secret of the new client ID.
      const needed: SecretEntry[] = [];
      if (clientSecret === undefined && clientId !== undefined) needed.push(clientSecretEntry(clientId));
      // A masked proxy password was stored under the proxy's user, host and port: an edit of the host or user
      // finds none, which the admin hears now rather than from the next run.
      const proxyAccount = proxy === undefined ? undefined : proxyCredential(proxy);
      if (proxyAccount?.masked) needed.push(proxyPasswordEntry(proxyAccount.account));
      for (const entry of needed) {
        try {
          await storedSecret(rest, entry);
        } catch (err) {
          // Whose session key an edit's validation gets is not documented (splunk-addon.md §3): a user without
          // list_storage_passwords cannot look, and is not refused an edit for it. The next run reads the
          // secret as splunk-system-user and fails loudly if it is missing.
          if (!(err instanceof SplunkdError && err.status === 403)) throw err;
          logger.info(`validation could not check the stored secret (${describeError(err)}); the next run will`);
        }
      }
    } finally {
      await rest.close();
    }
    return EXIT_OK;
  } catch (err) {
    message = describeError(err);
    logger.debug(`validation failed: ${message}`);
  }
  await writeAll(io.stdout, `<error><message>${escapeXml(message)}</message></error>`);
  return EXIT_FAILURE;
}

/**
 * An edit's fields as validation should see them, with what the stored stanza says where the edit does not:
 * - its `data` when the edit leaves it out (an edit of `page_size` alone): the checks that depend on the data
 *   type then run too, instead of the next run failing on what was saved. Only `data`: a stored client ID would
 *   make the secret check ask for a secret the stanza may still hold in clear;
 * - an `interval` validation refuses (under 60 seconds, a malformed cron) that the stanza already had (set in
 *   inputs.conf, which the run only warns about) is not this edit's doing: it is left out, so that the input's
 *   own masking edit is not refused (and the secret left in clear) if splunkd hands validation the whole
 *   stanza rather than the fields posted;
 * - likewise a parameter that does not fit the data type (misfitParams) with the value the stanza already has,
 *   unless the edit changes `data` (then it is this edit's doing): most likely inherited from the
 *   `[sophos_central]` default stanza, which the run warns about and collects without.
 * Best effort: splunkd not answering leaves those checks as the fields sent allow, rather than refusing the edit.
 */
async function withStoredStanza(name: string, params: Params, rest: SplunkdClient, logger: Logger): Promise<Params> {
  const needsData = !('data' in params);
  const interval = intervalProblem(params) === undefined ? undefined : single(params, 'interval');
  if (!needsData && interval === undefined && misfitParams(params).length === 0) return params;
  let stored: Record<string, unknown> | undefined;
  try {
    stored = await rest.inputFields(name);
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    logger.debug(`stored stanza ${name} not read, so validated on the fields sent only: ${describeError(err)}`);
  }
  const out = { ...params };
  if (needsData && typeof stored?.data === 'string' && stored.data.trim() !== '') out.data = stored.data;
  // splunkd's JSON gives some values typed (a number, a boolean): compared as text.
  const asStored = (param: string): boolean => stored?.[param] !== undefined && String(stored[param]).trim() === single(params, param).trim();
  if (interval !== undefined && asStored('interval')) delete out.interval;
  if (needsData || asStored('data')) for (const param of misfitParams(out)) if (asStored(param)) delete out[param];
  return out;
}

function appProxyUrl(raw: string): string {
  try {
    return proxyUrl(raw);
  } catch (err) {
    throw new ConfigError(`ta_sophos_central_settings.conf [proxy]: ${describeError(err)}; fix it on the setup page`, 'proxy_url');
  }
}

async function runInputs(io: ModinputIo, collect: CollectFn, logger: Logger, checkSecret?: CheckSecretFn): Promise<number> {
  let text: string;
  try {
    text = await readStdin(io.stdin, { timeoutMs: io.stdinTimeoutMs, signal: io.signal });
  } catch (err) {
    // splunkd stopping while it was still writing the definition: nothing was collected, nothing is wrong.
    if (!(err instanceof AbortedError)) throw err;
    logger.info(`${err.message}, on SIGTERM`);
    return EXIT_OK;
  }
  const def = parseInputDefinition(text);
  const stream = new XmlStream(io.stdout, { signal: io.signal });
  let code = EXIT_OK;
  // The setup page's log level, as the stanzas read it: the house-keeping after them logs at it too.
  let appLogLevel: string | undefined;
  try {
    for (const stanza of def.stanzas) {
      if (io.signal.aborted) break;
      const run = await runStanza(stanza, def.serverUri, def.sessionKey, def.checkpointDir, stream, io, collect, checkSecret);
      appLogLevel = run.appLogLevel ?? appLogLevel;
      if (!run.ok) code = EXIT_FAILURE;
    }
  } finally {
    // Close the stream even after a failure, so splunkd gets every complete event written so far.
    await stream.close().catch(() => undefined);
  }
  // Only after a run that went well: when anything failed or was stopped, nothing is deleted.
  if (code === EXIT_OK && !io.signal.aborted) {
    await removeCheckpointsOfDeletedInputs(def, io, appLogLevel ? inputLogger(io, { appLevel: appLogLevel }) : logger);
  }
  return code;
}

/**
 * Deletes the checkpoints of inputs that no longer exist (splunk-addon.md §4.7), so that a new input given
 * the name of a deleted one starts afresh instead of resuming its cursor. Runs after collection, once per
 * run: splunkd lists every sophos_central stanza, and only checkpoints written before that list was asked
 * for are candidates, so an input created meanwhile keeps its first save. Disabled inputs are listed too
 * and keep theirs. When splunkd cannot be asked, or its list lacks a stanza this very run was given (a list
 * not to be trusted), nothing is deleted; and nothing here ever fails the run.
 */
async function removeCheckpointsOfDeletedInputs(def: InputDefinition, io: ModinputIo, logger: Logger): Promise<void> {
  const listedAt = Date.now();
  const rest = splunkdFor(io, def);
  let inputs: Set<string>;
  try {
    inputs = await rest.listInputs();
  } catch (err) {
    // House-keeping only: a stop (SIGTERM) leaves it to the next run, and says nothing.
    if (err instanceof AbortedError) return;
    logger.warn(`checkpoints of deleted inputs not checked: ${describeError(err)}`);
    return;
  } finally {
    await rest.close();
  }
  const prefix = `${SCHEME}://`;
  const unlisted = def.stanzas.find((s) => !inputs.has(s.inputName));
  if (unlisted !== undefined) {
    logger.warn(`checkpoints of deleted inputs not checked: splunkd's list of ${SCHEME} inputs lacks ${unlisted.name}, which is running`);
    return;
  }
  const deleted = (key: string): boolean => {
    const stanza = checkpointStanza(key);
    return stanza !== undefined && stanza.startsWith(prefix) && !inputs.has(stanza.slice(prefix.length));
  };
  let removed: string[];
  try {
    const live = isCheckpointNameOf([...inputs].map((name) => `${prefix}${name}`));
    removed = await new FileCheckpointStore(def.checkpointDir).removeOrphans(deleted, listedAt, live);
  } catch (err) {
    // House-keeping: it never fails a run whose data is already written.
    logger.warn(`checkpoints of deleted inputs not removed: ${describeError(err)}`);
    return;
  }
  const perStanza = new Map<string, number>();
  for (const key of removed) {
    const stanza = checkpointStanza(key)!;
    perStanza.set(stanza, (perStanza.get(stanza) ?? 0) + 1);
  }
  for (const [stanza, count] of perStanza) logger.info(`removed ${count} checkpoint(s) of ${stanza}, which no longer exists`);
}

/**
 * The stanza's secrets that inputs.conf files holds in clear where the edit that masks it does not reach: the
 * stanza itself, or the `[sophos_central]` or `[default]` stanza it inherits them from, in its app's
 * default/inputs.conf (where a deployment server or an app package ships inputs; the edit writes local/, which
 * takes precedence, and never changes default/), and those two inherited stanzas in its app's local/ and in
 * etc/system/local (the edit masks the input's own stanza, not the one it inherits from). Said, not silently left.
 */
function clearOutOfReach(splunkHome: string | undefined, stanza: StanzaDefinition): Array<{ file: string; fields: string[]; where: string[] }> {
  if (!splunkHome || !stanza.app) return [];
  const app = join(splunkHome, 'etc', 'apps', stanza.app);
  const places: Array<[string, string[]]> = [
    [join(app, 'default', 'inputs.conf'), [stanza.name, SCHEME, 'default']],
    [join(app, 'local', 'inputs.conf'), [SCHEME, 'default']],
    [join(splunkHome, 'etc', 'system', 'local', 'inputs.conf'), [SCHEME, 'default']],
  ];
  const found: Array<{ file: string; fields: string[]; where: string[] }> = [];
  for (const [file, names] of places) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const fields = new Set<string>();
    const where: string[] = [];
    for (const name of names) {
      for (const field of clearSecretFields(confStanza(text, name))) {
        fields.add(field);
        where.push(`${field} in [${name}]`);
      }
    }
    if (fields.size > 0) found.push({ file, fields: [...fields], where });
  }
  return found;
}

async function runStanza(
  stanza: StanzaDefinition,
  serverUri: string,
  sessionKey: string,
  checkpointDir: string,
  stream: XmlStream,
  io: ModinputIo,
  collect: CollectFn,
  checkSecret?: CheckSecretFn,
): Promise<{ ok: boolean; appLogLevel?: string }> {
  const makeLogger = (appLevel?: string) => inputLogger(io, { appLevel, stanza: stanza.name });
  let logger = makeLogger();
  let appLogLevel: string | undefined;
  const started = Date.now();
  /** Seconds since the run began, as its last log line gives them. */
  const elapsed = (): string => ((Date.now() - started) / 1000).toFixed(1);
  let config: InputConfig | undefined;
  const priorRequests: RequestStats = { requests: 0, retries: 0, rateLimited: 0, errors: 0 };
  try {
    const misfits: string[] = [];
    config = validateInputParams(stanza.params, { checkInterval: false, onMisfit: (problem, instead) => misfits.push(`${problem.message}: ${instead}`) });
    const rest = splunkdFor(io, { serverUri, sessionKey });
    let clientSecret: string;
    let secretsInClear: string[] | undefined;
    try {
      const settings = await rest.getAppSettings().catch((err: unknown) => {
        if (err instanceof AbortedError) throw err;
        logger.warn(`app-wide settings not read, using defaults: ${describeError(err)}`);
        return {} as { proxyUrl?: string; logLevel?: string };
      });
      appLogLevel = settings.logLevel;
      if (settings.logLevel) {
        logger = makeLogger(settings.logLevel);
        if (!parseLogLevel(settings.logLevel)) {
          logger.warn(`[logging] loglevel = ${settings.logLevel} in ta_sophos_central_settings.conf is not DEBUG, INFO, WARN(ING) or ERROR, so it is ignored`);
        }
      }
      // The stanza's own proxy_url wins over the app-wide one, which is read only for a stanza without one.
      const appProxy = (): Pick<InputConfig, 'proxyUrl' | 'proxyName'> =>
        settings.proxyUrl ? { proxyUrl: appProxyUrl(settings.proxyUrl), proxyName: `${SETTINGS_CONF}.conf [proxy] proxy_url` } : {};
      const { clientId } = config;
      const check = checkSecret && (async (clientSecret: string, proxyUrl: string | undefined) => {
        const { verdict, requests } = await checkSecret({ clientId, clientSecret, ...(proxyUrl ? { proxyUrl } : appProxy()), logger, signal: io.signal });
        for (const k of Object.keys(priorRequests) as (keyof RequestStats)[]) priorRequests[k] += requests[k];
        return verdict;
      });
      // The stanza's own secrets first: the app-wide proxy is not the stanza's to store or mask, and a broken
      // one must not keep a clear secret in inputs.conf.
      const secrets = await resolveSecrets(stanza, config, rest, logger, check);
      clientSecret = secrets.clientSecret;
      const leftInClear = clearOutOfReach(io.env.SPLUNK_HOME, stanza);
      for (const left of leftInClear) {
        logger.warn(
          `${left.file} holds a secret of ${stanza.name} in clear text (${left.where.join(', ')}), which masking the input does not ` +
            'change (a deployment server or an admin may have put it there): remove it from that file; the input keeps its secrets in storage/passwords',
        );
      }
      const inClear = new Set([...(secrets.inClear ?? []), ...leftInClear.flatMap((left) => left.fields)]);
      secretsInClear = inClear.size > 0 ? [...inClear] : undefined;
      if (secrets.proxyUrl) {
        config = { ...config, proxyUrl: secrets.proxyUrl };
      } else {
        const app = appProxy();
        if (app.proxyUrl && proxyCredential(app.proxyUrl)) {
          // Used all the same: refusing it would stop collection. The file is readable by every Splunk user.
          logger.warn(
            `${app.proxyName} holds a proxy password in clear text, which any Splunk user can read: remove it there and ` +
              "give each input its proxy_url with the password, which the input keeps in storage/passwords",
          );
        }
        config = { ...config, ...app };
      }
    } finally {
      await rest.close();
    }
    // splunkd validates only inputs created or edited through REST; one set in inputs.conf (by hand or a
    // deployment server) reaches the run unchecked. Refusing to run would stop collection, so warn.
    const interval = intervalProblem(stanza.params);
    if (interval) logger.warn(`${interval}; collecting anyway: correct the interval in inputs.conf`);
    for (const misfit of misfits) logger.warn(`${misfit}, collecting anyway`);
    for (const { given, meant } of likelyTypos(stanza.params, KNOWN_PARAMS)) {
      logger.warn(`"${given}" is not a parameter of this input and is ignored, so ${meant} keeps its setting or default: did you mean ${meant}? Correct it in inputs.conf`);
    }
    // Without a next run to leave collecting to, the run waits for the lock: interval -1 runs once, and 0 is
    // started again as soon as it exits (inputs.conf.spec), so leaving would only spin.
    const noNextRun = config.intervalSeconds === undefined && !/\s/.test(single(stanza.params, 'interval'));
    const waitMs = noNextRun ? Infinity : (io.runLockWaitMs ?? RUN_LOCK_WAIT_MS);
    const lockAsked = Date.now();
    const lock = await stanzaLock(checkpointDir, stanza.name, waitMs, io.signal, logger);
    const other = lock && 'heldBy' in lock ? `another run of this input${lock.heldBy === undefined ? '' : ` (pid ${lock.heldBy})`}` : undefined;
    if (io.signal.aborted) {
      // Stopped while waiting, even when the lock came free meanwhile (the other run stopped too): not collected.
      if (lock && !('heldBy' in lock)) lock.release();
      logger.info(`stopped on SIGTERM after ${elapsed()} s${other ? `, while ${other} was collecting` : ''}`);
      return { ok: true, appLogLevel };
    }
    if (lock && 'heldBy' in lock) {
      const reason = `${other} was still collecting after ${waitMs / 1000} s, so this run collected nothing; the next run goes on from where that one stops`;
      logger.warn(reason);
      const record = skippedRunRecord(stanza.name, config.data, reason, Date.now() - started, Date.now(), { secretsInClear, priorRequests });
      await writeRunSummary(stream, stanza.name, config, record, logger);
      return { ok: true, appLogLevel };
    }
    const waited = Date.now() - lockAsked;
    if (lock && waited >= 1000) logger.info(`waited ${(waited / 1000).toFixed(1)} s for another run of this input to finish`);
    let result: unknown;
    try {
      // At INFO: which Node splunkd's host really runs the input with is the first thing support asks (splunk-addon.md §2).
      logger.info(`starting ${config.data} collection with TA-sophos-central ${VERSION} on Node ${process.version}`);
      result = await collect({
        stanza: stanza.name,
        config,
        clientSecret,
        ...(secretsInClear ? { secretsInClear } : {}),
        priorRequests,
        sink: new XmlEventWriter(stream, { stanza: stanza.name, index: config.index, host: config.host }),
        store: new FileCheckpointStore(checkpointDir),
        logger,
        signal: io.signal,
      });
    } finally {
      lock?.release();
    }
    const failed = (result as { status?: unknown } | undefined)?.status === 'error';
    logger.info(`${io.signal.aborted ? 'stopped on SIGTERM' : failed ? 'run failed' : 'run finished'} after ${elapsed()} s`);
    return { ok: !failed, appLogLevel };
  } catch (err) {
    if (io.signal.aborted && (err instanceof AbortedError || (err as Error)?.name === 'AbortError')) {
      logger.info(`stopped on SIGTERM after ${elapsed()} s`);
      return { ok: true, appLogLevel };
    }
    logFailure(logger, err);
    // A stanza that failed validation still names its data type and where its events go.
    const target = config ?? { data: single(stanza.params, 'data'), ...stanzaOutput(stanza.params) };
    await writeRunSummary(stream, stanza.name, target, failedRunRecord(stanza.name, target.data, err, Date.now() - started, Date.now(), priorRequests), logger);
    return { ok: false, appLogLevel };
  }
}

/**
 * The stanza's run lock, waited for up to `waitMs`; undefined when the file system refuses it. Collection goes on
 * without it rather than stop: a checkpoint_dir that cannot be used then stops the run at the collection's own
 * check, with its ERROR line; anything else (a file system without hard links) is said in a WARN line.
 */
async function stanzaLock(checkpointDir: string, stanza: string, waitMs: number, signal: AbortSignal, logger: Logger): Promise<RunLock | Held | undefined> {
  try {
    return await takeRunLock(runLockFile(checkpointDir, stanza), waitMs, signal);
  } catch (err) {
    const line = `collecting without the run lock, so a run started while this one collects would send the same items: ${describeError(err)}`;
    if (failureScope(err, checkpointDir) === 'directory') logger.debug(line);
    else logger.warn(line);
    return undefined;
  }
}

/**
 * A run that collected nothing (it failed before, or another run was at it) still leaves its `run_summary`, so
 * the health dashboard and alerts see it. Best effort: when the stream itself is what failed (splunkd went
 * away), the log line is all.
 */
async function writeRunSummary(stream: XmlStream, stanza: string, output: Pick<InputConfig, 'index' | 'host'>, record: OutRecord, logger: Logger): Promise<void> {
  try {
    await new XmlEventWriter(stream, { stanza, index: output.index, host: output.host }).write([record]);
  } catch (writeErr) {
    logger.debug(`run_summary not written: ${describeError(writeErr)}`);
  }
}
