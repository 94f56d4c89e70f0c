// Where the secrets of a stanza live: the client secret in storage/passwords in app TA-sophos-central, realm
// sophos_central, username = client ID (interfaces.md); a proxy password given in proxy_url in realm
// sophos_central_proxy, username = `<user>@<host>:<port>`. A secret typed into the stanza is moved there on the
// first run and the stanza is masked, so after one run inputs.conf holds only ********.
import type { InputConfig } from '../config/input-config.js';
import { isClearSecret, SECRET_MASK, proxyCredential, withProxyPassword } from '../config/input-config.js';
import { AbortedError, ConfigError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StanzaDefinition } from './input.js';
import { APP, PROXY_REALM, REALM } from './names.js';
import type { SplunkdClient } from './rest.js';

/** The part of SplunkdClient the credential flow needs (a seam for the stand-in-free unit tests). */
export type SecretStore = Pick<SplunkdClient, 'getPassword' | 'storePassword' | 'updateInput'>;

export function missingSecretMessage(clientId: string): string {
  return `no secret stored for client_id ${clientId}; set client_secret in the input or on the setup page`;
}

/** Where one of a stanza's secrets is stored, and the error when it is not there. */
export interface SecretEntry {
  realm: string;
  account: string;
  missing(): ConfigError;
}

export function clientSecretEntry(clientId: string): SecretEntry {
  return { realm: REALM, account: clientId, missing: () => new ConfigError(missingSecretMessage(clientId), 'client_secret') };
}

export function proxyPasswordEntry(account: string): SecretEntry {
  // The way to write it is spelled out without a URL: the log's redaction would blank a user:password@ after ://.
  const message = `no proxy password stored for ${account}; type proxy_url again with the password in it, as user:password@ before host:port`;
  return { realm: PROXY_REALM, account, missing: () => new ConfigError(message, 'proxy_url') };
}

/** The stored secret, or the entry's ConfigError when there is none. */
export async function storedSecret(rest: Pick<SecretStore, 'getPassword'>, entry: SecretEntry): Promise<string> {
  const stored = await rest.getPassword(entry.realm, entry.account);
  if (stored === undefined || stored === '') throw entry.missing();
  return stored;
}

/**
 * The fields of a stanza as a .conf file holds it that carry a secret in clear: a client_secret as the input
 * reads one (isClearSecret), a proxy_url with a password that is not the mask. Values only read, never shown.
 */
export function clearSecretFields(stanza: Record<string, string> | undefined): string[] {
  if (stanza === undefined) return [];
  const fields: string[] = [];
  if (stanza.client_secret !== undefined && isClearSecret(stanza.client_secret)) fields.push('client_secret');
  let proxy: ReturnType<typeof proxyCredential>;
  try {
    proxy = stanza.proxy_url ? proxyCredential(stanza.proxy_url) : undefined;
  } catch {
    // Not a URL the input takes: it holds no password it would store either.
    proxy = undefined;
  }
  if (proxy && !proxy.masked) fields.push('proxy_url');
  return fields;
}

/** A stanza's secrets in clear. Never log or store them. */
export interface StanzaSecrets {
  clientSecret: string;
  /** The stanza's proxy_url with its password in clear, when it has one. */
  proxyUrl?: string;
  /** The stanza's fields that still hold a secret in clear in inputs.conf after this run, when any do. */
  inClear?: string[];
}

/** What becomes of a clear secret: `store` it, `create` it where none is stored yet, `keep` the stored one for now, or the error that fails the stanza. */
type Fate = 'store' | 'create' | 'keep' | ConfigError;

/** One clear secret of the stanza: where it goes, and its field's value once masked. */
interface Moved {
  what: string;
  /** Whose secret it is, for messages. */
  whose: string;
  entry: SecretEntry;
  secret: string;
  field: string;
  masked: string;
  /** Set when nothing was stored at the verdict: the entry is only created, and on a 409 (another input stored one since) judged again. */
  judgeAgain?: () => Promise<Fate>;
}

/**
 * Sophos Central's answer on a client secret: its token service accepted it, refused it, or could not be
 * asked; or the stanza's proxy refused its user and password (407) before it could be.
 */
export type SecretVerdict = 'accepted' | 'refused' | 'proxy refused' | 'unknown';

/** Asks Sophos Central about a client secret of the stanza, through `proxyUrl` (clear) when the stanza has one. */
export type CheckSecret = (clientSecret: string, proxyUrl: string | undefined) => Promise<SecretVerdict>;

/**
 * Returns the clear secrets of this stanza: the client secret, and the proxy_url with its password. Clear
 * secrets in the stanza are stored (created or updated), then the stanza is masked in one edit, then they are
 * used. Masked or empty ones are read from storage/passwords. A clear secret that differs from the one stored
 * for its client ID or proxy account replaces it only once `checkSecret` shows it works (see `fateOf`).
 */
export async function resolveSecrets(
  stanza: Pick<StanzaDefinition, 'name' | 'inputName' | 'app' | 'params'>,
  config: Pick<InputConfig, 'clientId' | 'clientSecret' | 'proxyUrl'>,
  rest: SecretStore,
  logger: Logger,
  checkSecret?: CheckSecret,
): Promise<StanzaSecrets> {
  // Both secrets typed in and both different from the stored ones: one token request answers for the two.
  const ask = checkSecret && askedOnce(checkSecret);
  const clientEntry = clientSecretEntry(config.clientId);
  const proxy = config.proxyUrl === undefined ? undefined : proxyCredential(config.proxyUrl);
  // The stanza's proxy_url in clear: a masked password is read when needed, after the clear secrets are stored.
  const proxyInClear = async (): Promise<string | undefined> =>
    proxy?.masked ? withProxyPassword(config.proxyUrl!, await storedSecret(rest, proxyPasswordEntry(proxy.account))) : config.proxyUrl;
  const clear: Moved[] = [];
  /** Fields typed in clear, until the edit that masks them succeeds. */
  const inClear = new Set<string>();
  let refused: ConfigError | undefined;
  const judged = async (moved: Moved, judge: () => Promise<Fate>) => {
    inClear.add(moved.field);
    const fate = await judge();
    if (fate instanceof ConfigError) refused ??= fate;
    else if (fate !== 'keep') clear.push({ ...moved, ...(fate === 'create' ? { judgeAgain: judge } : {}) });
  };
  if (config.clientSecret !== undefined) {
    const secret = config.clientSecret;
    const whose = `client_id ${config.clientId}`;
    const kept = `the different secret stored for ${whose}, which other inputs with this client ID use, is kept`;
    await judged({ what: 'client_secret', whose, entry: clientEntry, secret, field: 'client_secret', masked: SECRET_MASK }, () =>
      fateOf(secret, clientEntry, rest, logger, ask && {
        trial: async () => {
          const verdict = await ask(secret, await proxyInClear());
          return verdict === 'accepted' ? 'works' : verdict === 'refused' ? 'refused' : 'unknown';
        },
        refused: () =>
          new ConfigError(
            `Sophos Central refuses the client_secret typed into ${stanza.name}, so ${kept} and this input's stays in inputs.conf: ` +
              `type the right secret, or ${SECRET_MASK} to use the stored one`,
            'client_secret',
          ),
        untried: () =>
          `client_secret in ${stanza.name} differs from the secret stored for ${whose} and Sophos Central could not be asked whether it is right, so ${kept} for now; the next run asks again`,
      }),
    );
  }
  if (proxy && !proxy.masked) {
    const entry = proxyPasswordEntry(proxy.account);
    const kept = `the different password stored for ${proxy.account}, which other inputs with this proxy account use, is kept`;
    await judged({ what: 'the proxy_url password', whose: proxy.account, entry, secret: proxy.password, field: 'proxy_url', masked: withProxyPassword(config.proxyUrl!, SECRET_MASK) }, () =>
      fateOf(proxy.password, entry, rest, logger, ask && {
        // Any answer from Sophos Central, even a refused client secret, came through the proxy.
        trial: async () => {
          const verdict = await ask(config.clientSecret ?? (await storedSecret(rest, clientEntry)), config.proxyUrl);
          return verdict === 'proxy refused' ? 'refused' : verdict === 'unknown' ? 'unknown' : 'works';
        },
        refused: () =>
          new ConfigError(
            `the proxy refuses the password in the proxy_url typed into ${stanza.name}, so ${kept} and this input's stays in inputs.conf: ` +
              `type the right password, or ${SECRET_MASK} in its place to use the stored one`,
            'proxy_url',
          ),
        untried: () =>
          `the proxy_url password in ${stanza.name} differs from the one stored for ${proxy.account} and the proxy could not be asked whether it is right, so ${kept} for now; the next run asks again`,
      }),
    );
  }
  const stored: Moved[] = [];
  for (const moved of clear) {
    try {
      let how = await rest.storePassword(moved.entry.realm, moved.entry.account, moved.secret, undefined, moved.judgeAgain ? { createOnly: true } : {});
      if (how === 'exists') {
        // Stored by another input since this run looked: judged like any other secret stored before.
        const again = await moved.judgeAgain!();
        if (again instanceof ConfigError) refused ??= again;
        if (again !== 'store' && again !== 'create') continue;
        how = await rest.storePassword(moved.entry.realm, moved.entry.account, moved.secret);
      }
      logger.info(`${moved.what} for ${moved.whose} ${how} in storage/passwords (realm ${moved.entry.realm})`);
      stored.push(moved);
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      // Collection still works with the secret at hand; the stanza stays unmasked until a run can store it.
      logger.warn(`could not store ${moved.what} in storage/passwords, so it stays in inputs.conf for now: ${describeError(err)}`);
    }
  }
  if (stored.length > 0) {
    const what = stored.map((m) => m.what).join(' and ');
    try {
      // The masked fields only: an edit leaves what it does not post as it was, where posting the rest back would
      // pin what the stanza inherits from the [sophos_central] default stanza (a later change there would no
      // longer reach it) and have validation refuse a parameter inherited for another data type. Validation of
      // an edit without client_id and data checks what it holds (validateInputFields).
      await rest.updateInput(stanza.app ?? APP, stanza.inputName, Object.fromEntries(stored.map((m) => [m.field, m.masked])));
      logger.info(`${what} in ${stanza.name} replaced by ${SECRET_MASK}`);
      for (const m of stored) inClear.delete(m.field);
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      logger.warn(`stored ${what} but could not mask ${stored.length > 1 ? 'them' : 'it'} in ${stanza.name}; the next run tries again: ${describeError(err)}`);
    }
  }
  // Only now: the stanza's other secrets are stored and masked whatever became of the refused one.
  if (refused) throw refused;
  const clientSecret = config.clientSecret ?? (await storedSecret(rest, clientEntry));
  const proxyUrl = await proxyInClear();
  return { clientSecret, ...(proxyUrl === undefined ? {} : { proxyUrl }), ...(inClear.size > 0 ? { inClear: [...inClear] } : {}) };
}

/** `check`, asked at most once per client secret and proxy URL. */
function askedOnce(check: CheckSecret): CheckSecret {
  const answers = new Map<string, Promise<SecretVerdict>>();
  return (clientSecret, proxyUrl) => {
    const key = JSON.stringify([clientSecret, proxyUrl]);
    let answer = answers.get(key);
    if (!answer) answers.set(key, (answer = check(clientSecret, proxyUrl)));
    return answer;
  };
}

/** How a clear secret is tried, and what is said when it fails or cannot be tried. */
interface Trial {
  trial(): Promise<'works' | 'refused' | 'unknown'>;
  refused(): ConfigError;
  untried(): string;
}

/**
 * The fate of a clear secret typed into a stanza. A different secret stored in `entry` is the one every other
 * input with that client ID or proxy account reads: a mistyped secret put over it would fail them all, hidden
 * behind the mask. So it replaces one only once it is seen to work (a rotated secret); refused, it fails this
 * stanza alone; when it cannot be tried, the stored one is kept and the next run tries again. Without a way to
 * try it, it is stored.
 */
async function fateOf(secret: string, entry: SecretEntry, rest: SecretStore, logger: Logger, how: Trial | undefined): Promise<Fate> {
  if (!how) return 'store';
  let current: string | undefined;
  try {
    current = await rest.getPassword(entry.realm, entry.account);
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    // splunkd cannot be asked: storing fails the same way and says so.
    return 'store';
  }
  // Nothing stored yet: created, unless another input stores one first.
  if (!current) return 'create';
  if (current === secret) return 'store';
  let result: 'works' | 'refused' | 'unknown';
  try {
    result = await how.trial();
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    // A secret the trial needs is not stored, say: the run fails on it after this, with its own message.
    result = 'unknown';
  }
  if (result === 'works') return 'store';
  if (result === 'refused') return how.refused();
  logger.warn(how.untried());
  return 'keep';
}
