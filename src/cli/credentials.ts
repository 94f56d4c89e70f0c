// Where the CLI (and `sophos-central cleanup`) gets its secrets: the Sophos Central client ID and secret
// for `--auth static|aws|env|prompt`, and the Splunk HEC token from the same kinds of source.
// A secret value never goes into a message, a log line or an error.
import { AbortedError, ConfigError, CredentialError, describeError } from '../errors.js';
import { isUuid } from '../config/input-config.js';
import type { SophosConfig, SplunkConfig } from './ini-config.js';

export { loadSophosConfig, loadSplunkConfig, defaultConfigPath, type SophosConfig, type SplunkConfig } from './ini-config.js';

export const AUTH_MODES = ['static', 'aws', 'env', 'prompt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export interface SophosCredentials {
  clientId: string;
  clientSecret: string;
}

export interface SecretIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  /** Where prompts are written (never stdout, which carries data). */
  stderr: NodeJS.WritableStream;
  warn(message: string): void;
}

export const ENV_CLIENT_ID = 'SOPHOS_CENTRAL_CLIENT_ID';
export const ENV_CLIENT_SECRET = 'SOPHOS_CENTRAL_CLIENT_SECRET';
export const ENV_HEC_TOKEN = 'SPLUNK_HEC_TOKEN';

export async function resolveSophosCredentials(auth: AuthMode, config: SophosConfig, io: SecretIo): Promise<SophosCredentials> {
  switch (auth) {
    case 'static': {
      const where = `sophos_config.ini${config.path ? ` ${config.path}` : ''}`;
      const { clientId, clientSecret } = config.static;
      if (!clientId || !clientSecret) {
        throw new ConfigError(`${where}: [static] client_id and client_secret must both be set for --auth static`, 'static');
      }
      io.warn('--auth static reads the client secret from a plain-text file: use it for testing only (prefer --auth env, prompt or aws)');
      return { clientId, clientSecret };
    }
    case 'env': {
      const clientId = io.env[ENV_CLIENT_ID]?.trim();
      const clientSecret = io.env[ENV_CLIENT_SECRET]?.trim();
      if (!clientId || !clientSecret) {
        throw new CredentialError(`--auth env needs the environment variables ${ENV_CLIENT_ID} and ${ENV_CLIENT_SECRET}`);
      }
      return { clientId, clientSecret };
    }
    case 'prompt': {
      requireTty(io, '--auth prompt');
      const clientId = (await promptLine('Sophos Central client ID: ', true, io)).trim();
      const clientSecret = (await promptLine('Sophos Central client secret: ', false, io)).trim();
      if (!clientId || !clientSecret) throw new CredentialError('--auth prompt: the client ID and secret may not be empty');
      return { clientId, clientSecret };
    }
    case 'aws': {
      const { secretName, regionName, clientIdKey, clientSecretKey } = config.aws;
      const where = `sophos_config.ini${config.path ? ` ${config.path}` : ''}`;
      if (!secretName || !regionName || !clientIdKey || !clientSecretKey) {
        throw new ConfigError(
          `${where}: [aws] secret_name, region_name, client_id_key and client_secret_key must all be set for --auth aws`,
          'aws',
        );
      }
      const secret = await getAwsSecret(secretName, regionName);
      return { clientId: secretField(secret, clientIdKey, secretName), clientSecret: secretField(secret, clientSecretKey, secretName) };
    }
  }
}

export const HEC_TOKEN_SOURCES = ['auto', ...AUTH_MODES] as const;
export type HecTokenSource = (typeof HEC_TOKEN_SOURCES)[number];

/**
 * `auto` keeps sophos_central_main.py's rule ([splunk_aws] splunk_aws = 1 means AWS, else [splunk_static]
 * token) and adds the safer sources first: SPLUNK_HEC_TOKEN in the environment, then a prompt on a terminal.
 */
export async function resolveHecToken(source: HecTokenSource, config: SplunkConfig, io: SecretIo): Promise<string> {
  const chosen = source === 'auto' ? autoHecSource(config, io) : source;
  const where = `splunk_config.ini${config.path ? ` ${config.path}` : ''}`;
  let token: string;
  switch (chosen) {
    case 'env':
      token = io.env[ENV_HEC_TOKEN]?.trim() ?? '';
      if (!token) throw new CredentialError(`the HEC token is read from the environment variable ${ENV_HEC_TOKEN}, which is empty`);
      break;
    case 'static':
      token = config.static.token;
      if (!token) throw new ConfigError(`${where}: [splunk_static] token is empty`, 'token');
      break;
    case 'prompt':
      requireTty(io, 'the HEC token prompt');
      token = (await promptLine('Splunk HEC token: ', false, io)).trim();
      break;
    case 'aws': {
      const { secretName, regionName, tokenKey } = config.aws;
      if (!secretName || !regionName || !tokenKey) {
        throw new ConfigError(`${where}: [splunk_aws] secret_name, region_name and token_key must all be set to read the HEC token from AWS`, 'splunk_aws');
      }
      token = secretField(await getAwsSecret(secretName, regionName), tokenKey, secretName);
      break;
    }
  }
  if (!isUuid(token)) {
    throw new CredentialError(`the HEC token from ${chosen === 'static' ? '[splunk_static]' : chosen} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  }
  if (chosen === 'static') io.warn('the HEC token comes from [splunk_static] in a plain-text file: use it for testing only');
  return token;
}

function autoHecSource(config: SplunkConfig, io: SecretIo): AuthMode {
  if (io.env[ENV_HEC_TOKEN]?.trim()) return 'env';
  if (config.aws.enabled) return 'aws';
  if (config.static.token) return 'static';
  if (io.stdin.isTTY) return 'prompt';
  throw new CredentialError(
    `no HEC token: set ${ENV_HEC_TOKEN}, [splunk_static] token, or [splunk_aws] splunk_aws = 1 with its secret in splunk_config.ini`,
  );
}

function requireTty(io: SecretIo, what: string): void {
  if (!io.stdin.isTTY || typeof io.stdin.setRawMode !== 'function') {
    throw new CredentialError(`${what} needs a terminal, but stdin is not one; use --auth env or --auth aws in scripts`);
  }
}

/** Reads one line from a TTY in raw mode, echoing only when asked (never for a secret). */
export function promptLine(question: string, echo: boolean, io: SecretIo): Promise<string> {
  const { stdin, stderr } = io;
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (err?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new AbortedError('interrupted at the prompt'));
        if (ch === '\u0004') {
          if (value === '') return finish(new CredentialError('no input at the prompt'));
          continue;
        }
        if (ch === '\u007f' || ch === '\b') {
          if (value.length > 0) {
            value = value.slice(0, -1);
            if (echo) stderr.write('\b \b');
          }
          continue;
        }
        value += ch;
        if (echo) stderr.write(ch);
      }
    };
    stderr.write(question);
    stdin.setRawMode?.(true);
    stdin.on('data', onData);
    stdin.resume();
  });
}

type SecretJson = Record<string, unknown>;

/**
 * GetSecretValue through the AWS SDK (credentials, region and AWS_ENDPOINT_URL_SECRETS_MANAGER as the SDK
 * resolves them). The SDK is loaded only when --auth aws or [splunk_aws] is used.
 */
export async function getAwsSecret(secretName: string, regionName: string): Promise<SecretJson> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({ region: regionName, maxAttempts: 3 });
  let text: string;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
    if (out.SecretString !== undefined) text = out.SecretString;
    else if (out.SecretBinary !== undefined) text = Buffer.from(out.SecretBinary).toString('utf8');
    else throw new CredentialError(`AWS Secrets Manager secret "${secretName}" has no value`);
  } catch (err) {
    if (err instanceof CredentialError) throw err;
    // SDK errors name the failure (ResourceNotFoundException, AccessDeniedException, ...) and never hold the value.
    throw new CredentialError(`AWS Secrets Manager could not read secret "${secretName}" in ${regionName}: ${describeError(err)}`);
  } finally {
    client.destroy();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CredentialError(`AWS Secrets Manager secret "${secretName}" is not a JSON object of key/value pairs`);
  }
  return parsed as SecretJson;
}

function secretField(secret: SecretJson, key: string, secretName: string): string {
  const value = secret[key];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CredentialError(`AWS Secrets Manager secret "${secretName}" has no non-empty key "${key}"`);
  }
  return value.trim();
}
