import type { IncomingMessage, Server } from 'node:http';
import { OriginPolicy } from '../common/origin-policy';
import { readPem } from '../common/tls-files';
import type { AppConfig } from '../config/app-config';
import { TcpTransport, TlsTransport, UdpTransport, WsTransport, type Flow, type Transport } from '../sip';

/** URL path of SIP over WebSocket on the HTTP server. */
export const SIP_WS_PATH = '/sip';

/**
 * Largest WebSocket frame taken in (twice the largest sip.maxMessageSize allowed): frames up to it reach
 * the stack, which answers 513 to those above sip.maxMessageSize; a larger frame closes the socket (1009).
 */
const WS_FRAME_LIMIT = 2 * 1_048_576;

/** What the transports ask of the bridge. */
export interface TransportHooks {
  /** Whether a connection carries something of a feature (kept open while idle). */
  isPinned(flow: Flow): boolean;
  /** Checks a /sip upgrade (API key, HTTP rate); the HTTP response that refuses it, or undefined. */
  checkUpgrade: ConstructorParameters<typeof WsTransport>[0]['checkUpgrade'];
  /** A /sip connection was accepted. */
  onWsConnection(id: string, req: IncomingMessage): void;
}

/**
 * The SIP transports the configuration asks for: UDP and TCP on sip.host:sip.port, TLS on sip.tlsPort when its
 * certificate and key are set, WS (WSS on an HTTPS server) at {@link SIP_WS_PATH} on the HTTP server.
 */
export function createTransports(
  config: AppConfig,
  advertisedHost: string,
  httpServer: Server | undefined,
  hooks: TransportHooks,
): Transport[] {
  const { sip } = config;
  const out: Transport[] = [];
  const limits = {
    maxConnections: sip.maxConnections,
    idleTimeout: sip.idleConnectionMs,
    partialTimeout: sip.partialMessageMs,
    isPinned: (flow: Flow) => hooks.isPinned(flow),
  };
  if (sip.udp) out.push(new UdpTransport({ host: sip.host, port: sip.port, advertisedHost }));
  if (sip.tcp) {
    // With port 0, TCP takes the port UDP was given so both listen on one number.
    const port = sip.port === 0 && out[0] ? undefined : sip.port;
    out.push(
      new TcpTransport({
        host: sip.host,
        port: port ?? 0,
        advertisedHost,
        maxMessageSize: sip.maxMessageSize,
        ...limits,
      }),
    );
  }
  const cert = readPem('sip.tlsCert', sip.tlsCert);
  const key = readPem('sip.tlsKey', sip.tlsKey);
  if (cert && key) {
    const ca = readPem('sip.tlsCa', sip.tlsCa);
    out.push(
      new TlsTransport({
        host: sip.host,
        port: sip.tlsPort,
        advertisedHost,
        maxMessageSize: sip.maxMessageSize,
        cert,
        key,
        ...(ca && { ca }),
        ...limits,
      }),
    );
  }
  if (sip.ws && httpServer) {
    // Browsers' SIP clients come under the same Origin rule as the browser WebSocket at /ws.
    const origins = new OriginPolicy(config.http.corsOrigins);
    out.push(
      new WsTransport({
        server: httpServer,
        path: SIP_WS_PATH,
        secure: config.http.tlsCert !== '',
        advertisedHost,
        maxMessageSize: WS_FRAME_LIMIT,
        allowUpgrade: (req) => origins.allowsRequest(req),
        checkUpgrade: hooks.checkUpgrade,
        onConnection: (id, req) => {
          hooks.onWsConnection(id, req);
        },
        ...limits,
      }),
    );
  }
  return out;
}
