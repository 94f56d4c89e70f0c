// Where the client secret lives: storage/passwords in app TA-sophos-central, realm sophos_central, username =
// client ID (interfaces.md). A secret typed into the stanza is moved there on the first run and the stanza is
// masked, so after one run inputs.conf holds only ********.
import type { InputConfig } from '../config/input-config.js';
import { SECRET_MASK } from '../config/input-config.js';
import { ConfigError, describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StanzaDefinition } from './input.js';
import { APP, REALM } from './names.js';
import type { SplunkdClient } from './rest.js';
import { SCHEME_PARAMS } from './scheme.js';

/** The part of SplunkdClient the credential flow needs (a seam for the stand-in-free unit tests). */
export type SecretStore = Pick<SplunkdClient, 'getPassword' | 'storePassword' | 'updateInput'>;

export function missingSecretMessage(clientId: string): string {
  return `no secret stored for client_id ${clientId}; set client_secret in the input or on the setup page`;
}

/**
 * The fields of the edit that masks the secret: every scheme argument the stanza has, with client_secret
 * replaced by the mask. The edit runs this input's external validation, and splunkd builds that
 * validation's <items> from the fields of the request (splunk-addon.md §1.6, §3: add-ons re-post all
 * fields); posting client_secret alone would fail validation for lack of client_id and data, and the
 * secret would stay in clear in inputs.conf.
 */
export function maskingFields(params: StanzaDefinition['params']): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const { name } of SCHEME_PARAMS) {
    const value = params[name];
    if (typeof value === 'string') fields[name] = value;
  }
  fields.client_secret = SECRET_MASK;
  return fields;
}

/**
 * Returns the clear client secret for this stanza. A clear secret in the stanza is stored (created or
 * updated), then the stanza is masked, then it is used. A masked or empty one is read from storage/passwords.
 */
export async function resolveClientSecret(
  stanza: Pick<StanzaDefinition, 'name' | 'inputName' | 'app' | 'params'>,
  config: Pick<InputConfig, 'clientId' | 'clientSecret'>,
  rest: SecretStore,
  logger: Logger,
): Promise<string> {
  if (config.clientSecret !== undefined) {
    try {
      const how = await rest.storePassword(REALM, config.clientId, config.clientSecret);
      logger.info(`client_secret for client_id ${config.clientId} ${how} in storage/passwords (realm ${REALM})`);
    } catch (err) {
      // Collection still works with the secret at hand; the stanza stays unmasked until a run can store it.
      logger.warn(`could not store client_secret in storage/passwords, so it stays in inputs.conf for now: ${describeError(err)}`);
      return config.clientSecret;
    }
    try {
      await rest.updateInput(stanza.app ?? APP, stanza.inputName, maskingFields(stanza.params));
      logger.info(`client_secret in ${stanza.name} replaced by ${SECRET_MASK}`);
    } catch (err) {
      logger.warn(`stored client_secret but could not mask it in ${stanza.name}; the next run tries again: ${describeError(err)}`);
    }
    return config.clientSecret;
  }
  const stored = await rest.getPassword(REALM, config.clientId);
  if (stored === undefined || stored === '') throw new ConfigError(missingSecretMessage(config.clientId), 'client_secret');
  return stored;
}
