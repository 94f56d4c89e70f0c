// Command-line flags, compatible with Sophos's sophos_central_main.py (argparse): the same long and
// short names (-pa and -ll are multi-letter short forms), `--flag value` and `--flag=value`, last one wins.
// Pure: argv in, options out, ConfigError (one line) on anything wrong.
import { ConfigError } from '../errors.js';
import { parseLogLevel, type LogLevel } from '../log.js';
import { AUTH_MODES, HEC_TOKEN_SOURCES, type AuthMode, type HecTokenSource } from './credentials.js';

export const GET_TYPES = ['tenants', 'inventory', 'alerts', 'events'] as const;
export type GetType = (typeof GET_TYPES)[number];
export const OUTPUTS = ['stdout', 'json', 'splunk', 'splunk_trans'] as const;
export type OutputKind = (typeof OUTPUTS)[number];

export interface CliOptions {
  auth: AuthMode;
  get: GetType;
  tenant?: string;
  days: number;
  /** True when --days was given (it only applies to a first poll or after --reset). */
  daysGiven: boolean;
  pollAlerts: boolean;
  reset: boolean;
  output: OutputKind;
  outputDir?: string;
  logLevel: LogLevel;
  config?: string;
  splunkConfig?: string;
  stateDir?: string;
  hecAuth: HecTokenSource;
}

export type ParsedArgs = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; options: CliOptions };

interface FlagSpec {
  key: keyof CliOptions | 'help' | 'version';
  short?: string;
  /** Flags without a value. */
  boolean?: boolean;
  choices?: readonly string[];
}

const FLAGS: Record<string, FlagSpec> = {
  auth: { key: 'auth', short: 'a', choices: AUTH_MODES },
  get: { key: 'get', short: 'g', choices: GET_TYPES },
  tenant: { key: 'tenant', short: 't' },
  days: { key: 'days', short: 'd' },
  poll_alerts: { key: 'pollAlerts', short: 'pa', boolean: true },
  reset: { key: 'reset', short: 'r', boolean: true },
  output: { key: 'output', short: 'o', choices: OUTPUTS },
  output_dir: { key: 'outputDir' },
  log_level: { key: 'logLevel', short: 'll' },
  config: { key: 'config', short: 'c' },
  splunk_config: { key: 'splunkConfig' },
  state_dir: { key: 'stateDir' },
  hec_auth: { key: 'hecAuth', choices: HEC_TOKEN_SOURCES },
  help: { key: 'help', short: 'h', boolean: true },
  version: { key: 'version', short: 'V', boolean: true },
};

const BY_SHORT = new Map(Object.entries(FLAGS).flatMap(([long, spec]) => (spec.short ? [[spec.short, long] as const] : [])));

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const seen = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const raw = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      name = raw.replace(/-/g, '_');
      if (!FLAGS[name]) throw new ConfigError(`unknown option --${raw} (see sophos-central --help)`, raw);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const eq = arg.indexOf('=');
      const raw = eq === -1 ? arg.slice(1) : arg.slice(1, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      name = BY_SHORT.get(raw);
      if (!name) throw new ConfigError(`unknown option -${raw} (see sophos-central --help)`, raw);
    } else {
      throw new ConfigError(`unexpected argument "${arg}" (options start with -- ; see sophos-central --help)`);
    }
    const spec = FLAGS[name] as FlagSpec;
    if (spec.boolean) {
      if (inline !== undefined) throw new ConfigError(`--${name} takes no value`, name);
      seen.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && /^-[a-z-]/i.test(value))) {
      throw new ConfigError(`--${name} needs a value${spec.choices ? ` (${spec.choices.join('|')})` : ''}`, name);
    }
    if (spec.choices && !spec.choices.includes(value)) {
      throw new ConfigError(`--${name} must be one of ${spec.choices.join(', ')}; got "${value}"`, name);
    }
    seen.set(name, value);
  }

  if (seen.has('help')) return { kind: 'help' };
  if (seen.has('version')) return { kind: 'version' };

  const str = (k: string) => seen.get(k) as string | undefined;
  const auth = str('auth') as AuthMode | undefined;
  if (!auth) throw new ConfigError(`--auth is required (${AUTH_MODES.join('|')})`, 'auth');
  const get = str('get') as GetType | undefined;
  if (!get) throw new ConfigError(`--get is required (${GET_TYPES.join('|')})`, 'get');

  const daysRaw = str('days');
  const days = daysRaw === undefined ? 1 : Number(daysRaw);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    throw new ConfigError(`--days must be a whole number from 1 to 90 (Sophos Central keeps 90 days); got "${daysRaw}"`, 'days');
  }
  const levelRaw = str('log_level');
  const logLevel = levelRaw === undefined ? 'WARN' : parseLogLevel(levelRaw);
  if (!logLevel) throw new ConfigError(`--log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; got "${levelRaw}"`, 'log_level');

  const pollAlerts = seen.has('poll_alerts');
  if (pollAlerts && get !== 'alerts' && get !== 'events') {
    throw new ConfigError(`--poll_alerts works with --get alerts or --get events, not --get ${get}`, 'poll_alerts');
  }
  const reset = seen.has('reset');
  if (reset && !pollAlerts) throw new ConfigError('--reset clears the polling state: use it with --poll_alerts', 'reset');
  const output = (str('output') ?? 'stdout') as OutputKind;
  const outputDir = str('output_dir');
  if (outputDir !== undefined && output !== 'json') throw new ConfigError('--output_dir is for --output json', 'output_dir');
  const tenant = str('tenant');
  if (tenant !== undefined && tenant.trim() === '') throw new ConfigError('--tenant needs a tenant ID', 'tenant');
  for (const k of ['config', 'splunk_config', 'state_dir', 'output_dir']) {
    if (seen.has(k) && str(k) === '') throw new ConfigError(`--${k} needs a path`, k);
  }

  return {
    kind: 'run',
    options: {
      auth,
      get,
      tenant: tenant?.trim(),
      days,
      daysGiven: daysRaw !== undefined,
      pollAlerts,
      reset,
      output,
      outputDir,
      logLevel,
      config: str('config'),
      splunkConfig: str('splunk_config'),
      stateDir: str('state_dir'),
      hecAuth: (str('hec_auth') ?? 'auto') as HecTokenSource,
    },
  };
}

export const HELP = `sophos-central: pull Sophos Central tenants, inventory, alerts and SIEM events to stdout, JSON files or Splunk HEC.
Compatible with Sophos's sophos_central_main.py: same flags, same sophos_config.ini and splunk_config.ini.

Usage:
  sophos-central --auth <static|aws|env|prompt> --get <tenants|inventory|alerts|events> [options]
  sophos-central cleanup plan|apply ...        (stale-device clean-up; see sophos-central cleanup --help)

Options:
  -a,  --auth static|aws|env|prompt   where the Sophos Central client ID and secret come from (required):
                                      env    SOPHOS_CENTRAL_CLIENT_ID and SOPHOS_CENTRAL_CLIENT_SECRET
                                      prompt ask on the terminal (the secret is not echoed)
                                      aws    AWS Secrets Manager, [aws] in sophos_config.ini
                                      static [static] in sophos_config.ini (testing only)
  -g,  --get tenants|inventory|alerts|events   what to pull (required)
  -t,  --tenant <id>                  one tenant only (default: every tenant the credential sees)
  -d,  --days <1-90>                  how far back alerts go (default 1); events reach back at most 24 h
  -pa, --poll_alerts                  remember what was sent; the next run sends only what is new
                                      (alerts or events, any output)
  -r,  --reset                        with --poll_alerts: forget the state and start --days back
  -o,  --output stdout|json|splunk|splunk_trans   (default stdout)
                                      stdout       one JSON object per line
                                      json         one file per tenant, <tenant name>_<tenant id>.json
                                      splunk       Splunk HEC, [splunk_hec] in splunk_config.ini
                                      splunk_trans HEC with host/source/sourcetype from [splunk_transform]
       --output_dir <dir>             where --output json writes (default: the current directory)
  -ll, --log_level DEBUG|INFO|WARNING|ERROR|CRITICAL   stderr logging (default WARNING)
  -c,  --config <file>                sophos_config.ini (default ./sophos_config.ini, else
                                      $XDG_CONFIG_HOME/ta-sophos-central/sophos_config.ini)
       --splunk_config <file>         splunk_config.ini (same default rule)
       --hec_auth auto|static|aws|env|prompt   where the HEC token comes from (default auto:
                                      SPLUNK_HEC_TOKEN, else [splunk_aws] when splunk_aws = 1, else [splunk_static])
       --state_dir <dir>              polling state (default $SOPHOS_CENTRAL_STATE_DIR, else
                                      $XDG_STATE_HOME/ta-sophos-central, else ~/.local/state/ta-sophos-central)
  -h,  --help                         this help
  -V,  --version                      print the version

Environment: SOPHOS_CENTRAL_CLIENT_ID, SOPHOS_CENTRAL_CLIENT_SECRET, SPLUNK_HEC_TOKEN, HTTPS_PROXY, NO_PROXY,
SOPHOS_CENTRAL_STATE_DIR, AWS_* (for --auth aws).

Exit codes: 0 success, 1 failure, 2 partial (some tenants failed; see the summary lines on stderr).

Examples:
  sophos-central --auth static --get tenants
  sophos-central --auth env --get inventory --output json --output_dir ./inventory
  sophos-central --auth aws --get alerts --days 7 --poll_alerts --output splunk
  sophos-central -a prompt -g events -t 11111111-2222-3333-4444-555555555555 -ll INFO
`;
