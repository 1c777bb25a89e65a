import { connect, createServer, isIPv6, type Server, type Socket } from 'node:net';
import type { TlsPeer } from './tls-peer';
import { ConnectionSupervisor, type ConnectionLimits } from './connection-supervisor';
import { StreamFramer } from './stream-framer';
import type {
  CloseHandler,
  ErrorHandler,
  Flow,
  MessageHandler,
  Transport,
  TransportOptions,
  TransportProtocol,
} from './transport';
import { defaultAdvertisedHost } from './transport';

/** Options of {@link TcpTransport}. */
export interface TcpTransportOptions extends TransportOptions, ConnectionLimits {
  /** Largest message accepted on a connection in bytes (default 65535); beyond it the connection is closed. */
  maxMessageSize?: number;
}

interface Connection {
  readonly id: string;
  readonly socket: Socket;
  readonly flow: Flow;
}

const CRLF = Buffer.from('\r\n');

/** How long a connection whose stream cannot be framed stays open for the answers already under way. */
const BROKEN_STREAM_GRACE_MS = 2000;
/** How long an outgoing connection may take to be established (RFC 3261 §18.1.1 fallbacks need a bound). */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * SIP over TCP (RFC 3261 §18): Content-Length framing, connection reuse for responses and later requests
 * (`flow.connectionId`), outgoing connections opened on demand and read like incoming ones. Double-CRLF
 * keep-alives are answered with CRLF (RFC 5626 §4.4.1). The stream handling is shared with
 * {@link TlsTransport}, which only replaces how sockets are accepted and opened.
 */
export class TcpTransport implements Transport {
  get protocol(): TransportProtocol {
    return 'tcp';
  }
  readonly reliable = true;
  private server: Server | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  private nextId = 1;
  private messageHandler: MessageHandler = () => undefined;
  private errorHandler: ErrorHandler = () => undefined;
  private closeHandler: CloseHandler = () => undefined;
  private bound = { address: '', port: 0 };
  private readonly maxMessageSize: number;
  private readonly supervisor: ConnectionSupervisor;

  constructor(protected readonly options: TcpTransportOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? 65535;
    this.supervisor = new ConnectionSupervisor(options, (message) => {
      this.errorHandler(new Error(message));
    });
  }

  get localAddress(): string {
    return this.bound.address;
  }

  get localPort(): number {
    return this.bound.port;
  }

  get advertisedHost(): string {
    return this.options.advertisedHost ?? defaultAdvertisedHost(this.bound.address);
  }

  get advertisedPort(): number {
    return this.options.advertisedPort ?? this.bound.port;
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  onError(handler: ErrorHandler): void {
    this.errorHandler = handler;
  }

  onConnectionClosed(handler: CloseHandler): void {
    this.closeHandler = handler;
  }

  hasConnection(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }

  listen(): Promise<void> {
    const server = this.createListener((socket) => {
      // Past the cap the socket is closed at once: file descriptors stay for HTTP and existing flows.
      if (this.supervisor.admit(`${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`)) this.adopt(socket);
      else socket.destroy();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 5060, this.options.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        server.on('error', (err) => {
          this.errorHandler(err);
        });
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') this.bound = { address: addr.address, port: addr.port };
        resolve();
      });
    });
  }

  async send(flow: Flow, data: Buffer): Promise<void> {
    let conn = flow.connectionId === undefined ? undefined : this.connections.get(flow.connectionId);
    conn ??= this.byRemote.get(remoteKey(flow.remoteAddress, flow.remotePort));
    conn ??= await this.open(flow.remoteAddress, flow.remotePort);
    const socket = conn.socket;
    return new Promise((resolve, reject) => {
      socket.write(data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    this.supervisor.stop();
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    this.byRemote.clear();
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }

  private open(address: string, port: number): Promise<Connection> {
    const host = address.startsWith('[') ? address.slice(1, -1) : address;
    return new Promise((resolve, reject) => {
      const socket = this.connectSocket(host, port);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      // A peer that drops the SYN leaves connect() hanging for minutes: give up well before Timer F.
      const timer = setTimeout(() => {
        onError(
          new Error(
            `${this.protocol.toUpperCase()} connect to ${host}:${port} timed out after ${CONNECT_TIMEOUT_MS} ms`,
          ),
        );
      }, CONNECT_TIMEOUT_MS);
      timer.unref();
      socket.once('error', onError);
      socket.once(this.connectedEvent, () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(this.adopt(socket));
      });
    });
  }

  /** The listening server; each accepted socket (after the TLS handshake for TLS) goes to `onSocket`. */
  protected createListener(onSocket: (socket: Socket) => void): Server {
    return createServer(onSocket);
  }

  /** Opens an outgoing connection; it is ready when it emits {@link connectedEvent}. */
  protected connectSocket(host: string, port: number): Socket {
    return connect({ host, port, family: isIPv6(host) ? 6 : 4 });
  }

  /** The event an outgoing socket emits once it can carry SIP. */
  protected get connectedEvent(): string {
    return 'connect';
  }

  /** Reports an error that concerns no connection yet (e.g. a failed TLS handshake). */
  protected reportError(error: Error): void {
    this.errorHandler(error);
  }

  /** The peer's certificate identity (TLS only). */
  protected peerOf(_socket: Socket): TlsPeer | undefined {
    return undefined;
  }

  /** Registers a connected socket (incoming or outgoing) and reads SIP messages from it. */
  private adopt(socket: Socket): Connection {
    const id = `${this.protocol}-${this.nextId++}`;
    const peer = this.peerOf(socket);
    const flow: Flow = {
      protocol: this.protocol,
      localAddress: socket.localAddress ?? this.bound.address,
      localPort: socket.localPort ?? this.bound.port,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      connectionId: id,
      ...(peer && { tlsPeer: peer }),
    };
    const conn: Connection = { id, socket, flow };
    const key = remoteKey(flow.remoteAddress, flow.remotePort);
    this.connections.set(id, conn);
    this.byRemote.set(key, conn);
    socket.setNoDelay(true);
    this.supervisor.add(id, flow, () => socket.destroy());
    const framer = new StreamFramer(this.maxMessageSize);
    let broken = false;
    socket.on('data', (chunk) => {
      if (broken) return;
      const events = framer.push(chunk);
      this.supervisor.activity(id, framer.buffered > 0);
      for (const ev of events) {
        switch (ev.kind) {
          case 'message':
            try {
              this.messageHandler(ev.data, flow);
            } catch (e) {
              this.errorHandler(e instanceof Error ? e : new Error(String(e)), flow);
            }
            break;
          case 'ping':
            socket.write(CRLF);
            break;
          case 'oversized':
            try {
              this.messageHandler(ev.head, flow, ev.length);
            } catch (e) {
              this.errorHandler(e instanceof Error ? e : new Error(String(e)), flow);
            }
            break;
          case 'error':
            this.errorHandler(new Error(`${ev.reason}; closing ${id}`), flow);
            broken = true;
            // Read no more, but keep the write side open for a moment: the answers to the messages before the
            // fault (a REGISTER waiting for its commit, a 513 just written) still go out. Then end, then destroy.
            socket.pause();
            setTimeout(() => {
              socket.end();
              setTimeout(() => socket.destroy(), 1000).unref();
            }, BROKEN_STREAM_GRACE_MS).unref();
            return;
        }
      }
    });
    socket.on('error', (err) => {
      this.errorHandler(err, flow);
    });
    socket.on('close', () => {
      this.supervisor.remove(id);
      this.connections.delete(id);
      if (this.byRemote.get(key) === conn) this.byRemote.delete(key);
      this.closeHandler(flow);
    });
    return conn;
  }
}

function remoteKey(address: string, port: number): string {
  const a = address.startsWith('[') ? address.slice(1, -1) : address;
  return `${a}|${port}`;
}
