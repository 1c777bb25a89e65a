/**
 * A throw-away PKI for TLS tests (unit and e2e; not part of the stack's public surface), made at test time with the `openssl` CLI (node:crypto cannot issue X.509
 * certificates): a CA, a server certificate for localhost/127.0.0.1 signed by it, and a client certificate
 * whose subjectAltName is a SIP URI (a peer server proving its domain, RFC 5922 §7.1).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** File paths (PEM). */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** The CA certificate's PEM text, for clients that verify the server. */
  readonly caPem: string;
  /** Removes the directory. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Issues a certificate for `name` signed by the CA in `dir`, with the given subjectAltName. */
function issue(dir: string, name: string, cn: string, san: string): void {
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** Makes a CA, a server pair for localhost and a client pair for `clientDomain`, in a fresh temporary directory. */
export function makeTestPki(clientDomain = 'proxy.example.com'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'pki-'));
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '2',
      '-subj',
      '/CN=Presence Hub test CA',
    ],
    dir,
  );
  issue(dir, 'server', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  issue(dir, 'client', clientDomain, `URI:sip:${clientDomain},DNS:${clientDomain}`);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    caPem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
