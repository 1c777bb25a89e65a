import { createServer } from 'node:net';
import type { AppConfig } from '../config/app-config';

/** Errors of `listen`/`bind` that a start-up can name in one line: a taken port, a privileged one, a foreign address. */
const LISTEN_CODES: ReadonlySet<string> = new Set(['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL']);

interface ListenErrno {
  readonly code: string;
  readonly syscall: string;
  readonly address?: string;
  readonly port?: number;
}

function isListenErrno(e: unknown): e is ListenErrno {
  if (typeof e !== 'object' || e === null) return false;
  const { code, syscall } = e as { code?: unknown; syscall?: unknown };
  return typeof code === 'string' && LISTEN_CODES.has(code) && (syscall === 'listen' || syscall === 'bind');
}

/**
 * Fails as `listen` would when `host:port` cannot take a TCP listener; port 0 always can. Run before the HTTP
 * server listens, so that a taken port is reported before the database and SIP are opened.
 */
export function assertTcpPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => {
      probe.close(() => {
        resolve();
      });
    });
  });
}

/**
 * One line naming the listener that could not open its socket, why, and the setting to change; undefined for
 * any other error. UDP binds (`bind`) are SIP's; TCP listens are HTTP's on http.port, SIP TLS's on sip.tlsPort
 * (when TLS is configured) and SIP TCP's otherwise.
 */
export function listenFailure(e: unknown, config: AppConfig): string | undefined {
  if (!isListenErrno(e)) return undefined;
  const http = e.syscall === 'listen' && e.port === config.http.port;
  const tls =
    !http && e.syscall === 'listen' && config.sip.tlsCert !== '' && e.port === config.sip.tlsPort && e.port !== 0;
  const [what, portEnv, hostEnv] = http
    ? ['HTTP', 'HTTP_PORT (http.port)', 'HTTP_HOST (http.host)']
    : tls
      ? ['SIP TLS', 'SIP_TLS_PORT (sip.tlsPort)', 'SIP_HOST (sip.host)']
      : [e.syscall === 'bind' ? 'SIP UDP' : 'SIP TCP', 'SIP_PORT (sip.port)', 'SIP_HOST (sip.host)'];
  const where = `${e.address ?? (http ? config.http.host : config.sip.host)}:${e.port ?? '?'}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `Cannot start: ${what} port ${where} is already in use; stop what listens there or set ${portEnv}`;
    case 'EACCES':
      return `Cannot start: ${what} port ${where} needs privileges this process lacks (ports below 1024); set ${portEnv}`;
    default:
      return `Cannot start: ${what} address ${where} is not an address of this machine; set ${hostEnv}`;
  }
}
