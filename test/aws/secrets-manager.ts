// A local AWS Secrets Manager stand-in speaking the AWS JSON 1.1 protocol (POST / with
// X-Amz-Target: secretsmanager.GetSecretValue). It accepts any SigV4 signature but requires one, as the
// real service refuses unsigned requests. Point the SDK at it with AWS_ENDPOINT_URL_SECRETS_MANAGER.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStandIn {
  url: string;
  /** Secret name -> SecretString (usually a JSON object). */
  secrets: Map<string, string>;
  /** Every request: target, SecretId and whether it was signed (never the secret value). */
  requests: Array<{ target: string; secretId?: string; signed: boolean; region?: string }>;
  /** Env vars that make the AWS SDK in a child process talk to this stand-in with dummy credentials. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startSecretsManager(secrets: Record<string, string | Record<string, string>> = {}): Promise<SecretsManagerStandIn> {
  const store = new Map(Object.entries(secrets).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const requests: SecretsManagerStandIn['requests'] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const auth = String(req.headers.authorization ?? '');
      const signed = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/secretsmanager\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(auth);
      const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth)?.[1];
      let body: { SecretId?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return fail(res, 400, 'SerializationException', 'Malformed JSON body');
      }
      requests.push({ target, secretId: body.SecretId, signed, region });
      if (req.method !== 'POST' || req.url !== '/') return fail(res, 404, 'UnknownOperationException', 'Unknown operation');
      if (!signed) return fail(res, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      if (target !== 'secretsmanager.GetSecretValue') return fail(res, 400, 'UnknownOperationException', `Unknown operation ${target}`);
      if (!body.SecretId) return fail(res, 400, 'InvalidParameterException', 'SecretId is required');
      const value = store.get(body.SecretId);
      if (value === undefined) return fail(res, 400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          ARN: `arn:aws:secretsmanager:${region ?? 'eu-west-1'}:123456789012:secret:${body.SecretId}-AbCdEf`,
          Name: body.SecretId,
          SecretString: value,
          VersionId: '01234567-89ab-4cde-8f01-23456789abcd',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1700000000,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    secrets: store,
    requests,
    env: () => ({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function fail(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type });
  res.end(JSON.stringify({ __type: type, message }));
}
