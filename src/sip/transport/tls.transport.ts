import type { Server, Socket } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { TcpTransport, type TcpTransportOptions } from './tcp.transport';
import { tlsPeerOf, type TlsPeer } from './tls-peer';
import type { TransportProtocol } from './transport';

/** Options of {@link TlsTransport}: those of TCP plus the certificate material (PEM). */
export interface TlsTransportOptions extends TcpTransportOptions {
  /** The server's certificate chain (PEM). */
  cert: string | Buffer;
  /** Its private key (PEM). */
  key: string | Buffer;
  /**
   * CA certificates (PEM) that peers' certificates are checked against. With it, incoming peers are asked for a
   * certificate (not required: a phone usually has none) and outgoing connections verify the server against it.
   */
  ca?: string | Buffer;
  /** Whether outgoing connections refuse a server whose certificate does not verify (default true). */
  verifyServer?: boolean;
  /** Longest TLS handshake of an incoming connection in ms (default 10,000). */
  handshakeTimeout?: number;
}

/**
 * SIP over TLS (RFC 3261 §26.2, RFC 5630): the TCP transport's framing, connection reuse and supervision over
 * TLS sockets. A peer's certificate identity is put on the flow ({@link Flow.tlsPeer}) so that upper layers
 * can treat a server as a trusted peer by its certificate (RFC 5922 §7).
 */
export class TlsTransport extends TcpTransport {
  override get protocol(): TransportProtocol {
    return 'tls';
  }

  constructor(private readonly tls: TlsTransportOptions) {
    super(tls);
  }

  protected override createListener(onSocket: (socket: Socket) => void): Server {
    const server = createServer(
      {
        cert: this.tls.cert,
        key: this.tls.key,
        ...(this.tls.ca !== undefined && { ca: this.tls.ca, requestCert: true }),
        // A certificate that does not verify is not refused: the flow says it is not `authorized`.
        rejectUnauthorized: false,
        handshakeTimeout: this.tls.handshakeTimeout ?? 10_000,
      },
      onSocket,
    );
    // A failed handshake (not TLS, a timeout, no shared cipher) concerns no SIP connection yet.
    server.on('tlsClientError', (err, socket) => {
      this.reportError(new Error(`TLS handshake from ${socket.remoteAddress ?? '?'} failed: ${err.message}`));
      socket.destroy();
    });
    return server;
  }

  protected override connectSocket(host: string, port: number): Socket {
    return connect({
      host,
      port,
      cert: this.tls.cert,
      key: this.tls.key,
      ...(this.tls.ca !== undefined && { ca: this.tls.ca }),
      rejectUnauthorized: this.tls.verifyServer ?? true,
    });
  }

  protected override get connectedEvent(): string {
    return 'secureConnect';
  }

  protected override peerOf(socket: Socket): TlsPeer | undefined {
    return tlsPeerOf(socket as TLSSocket);
  }
}
