// A throw-away CA and a splunkd server certificate shaped like Splunk's default one (CN=SplunkServerDefaultCert,
// no subjectAltName), generated with the openssl CLI into $SPLUNK_HOME/etc/auth like a real install.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SplunkCerts {
  caPath: string;
  cert: string;
  key: string;
  ca: string;
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function generateSplunkCerts(splunkHome: string, commonName = 'SplunkServerDefaultCert'): SplunkCerts {
  const dir = join(splunkHome, 'etc', 'auth');
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=SplunkCommonCA/O=Splunk', '-keyout', 'ca.key', '-out', 'cacert.pem']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}/O=SplunkUser`, '-keyout', 'server.key', '-out', 'server.csr']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'cacert.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'server.crt']);
  return {
    caPath: join(dir, 'cacert.pem'),
    ca: readFileSync(join(dir, 'cacert.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
  };
}
