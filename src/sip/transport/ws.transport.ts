import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ConnectionSupervisor, type ConnectionLimits } from './connection-supervisor';
import type { CloseHandler, ErrorHandler, Flow, MessageHandler, Transport } from './transport';
import { defaultAdvertisedHost } from './transport';

/** Options of {@link WsTransport}. */
export interface WsTransportOptions extends ConnectionLimits {
  /** The HTTP (or HTTPS, see `secure`) server whose upgrades carry SIP over WebSocket. */
  server: Server;
  /** Request path for SIP (default `/sip`); upgrades for other paths are left to their owners. */
  path?: string;
  /** Via sent-by host for requests we send (RFC 7118 §5.2); default: the server's address. */
  advertisedHost?: string;
  advertisedPort?: number;
  /** Largest WebSocket message accepted in bytes (default 65535). */
  maxMessageSize?: number;
  /**
   * Claim upgrades for `path` before any other `'upgrade'` listener runs (default true). Some listeners
   * (e.g. `@nestjs/platform-ws`) destroy sockets for paths they do not serve; claiming first keeps them from
   * killing SIP upgrades. Upgrades for other paths are passed on untouched.
   */
  claimFirst?: boolean;
  /** The server is HTTPS: flows say `wss` (RFC 7118 §5), Via says WSS. Default false. */
  secure?: boolean;
  /** Whether an upgrade for `path` may proceed (e.g. an Origin check); refused ones get 403. Default: all. */
  allowUpgrade?: (req: IncomingMessage) => boolean;
  /**
   * A further check of an upgrade that passed `allowUpgrade` (credentials, rate limits): undefined lets it
   * through, otherwise the whole HTTP response to refuse it with. A rejected promise refuses with 503.
   */
  checkUpgrade?: (req: IncomingMessage) => Promise<string | undefined>;
  /** Told of each accepted connection with the upgrade request it came from (e.g. to bind an identity). */
  onConnection?: (connectionId: string, req: IncomingMessage) => void;
}

type Server = HttpServer | HttpsServer;

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * SIP over WebSocket (RFC 7118) on an existing HTTP server: the `sip` subprotocol only (§4), one SIP
 * message per WebSocket message, text or binary (§5.1). Connections are identified by `connectionId`; the
 * server cannot open connections to clients, so `send` to a closed connection rejects.
 */
export class WsTransport implements Transport {
  readonly protocol: 'ws' | 'wss';
  readonly reliable = true;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Map<string, { ws: WebSocket; flow: Flow }>();
  private nextId = 1;
  private messageHandler: MessageHandler = () => undefined;
  private errorHandler: ErrorHandler = () => undefined;
  private closeHandler: CloseHandler = () => undefined;
  private detach: (() => void) | undefined;
  private readonly path: string;
  private readonly supervisor: ConnectionSupervisor;

  constructor(private readonly options: WsTransportOptions) {
    this.path = options.path ?? '/sip';
    this.protocol = options.secure === true ? 'wss' : 'ws';
    this.supervisor = new ConnectionSupervisor(options, (message) => {
      this.errorHandler(new Error(message));
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageSize ?? 65535,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
  }

  private get address(): { address: string; port: number } {
    const a = this.options.server.address();
    return a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : { address: '', port: 0 };
  }

  get localAddress(): string {
    return this.address.address;
  }

  get localPort(): number {
    return this.address.port;
  }

  get advertisedHost(): string {
    return this.options.advertisedHost ?? defaultAdvertisedHost(this.address.address);
  }

  get advertisedPort(): number {
    return this.options.advertisedPort ?? this.address.port;
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
    return this.sockets.has(connectionId);
  }

  /**
   * Handles an upgrade request if it is for SIP (our path); returns false, touching nothing, otherwise.
   * Exposed so that an HTTP framework's own upgrade dispatcher can delegate to it.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (!this.isOurPath(req)) return false;
    if (this.options.allowUpgrade && !this.options.allowUpgrade(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    const check = this.options.checkUpgrade;
    if (check === undefined) {
      this.upgrade(req, socket, head);
      return true;
    }
    check(req).then(
      (refusal) => {
        if (socket.destroyed) return;
        if (refusal === undefined) this.upgrade(req, socket, head);
        else socket.end(refusal);
      },
      () => {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      },
    );
    return true;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes('sip')) {
      // RFC 7118 §4: the `sip` subprotocol is required.
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!this.supervisor.admit(`${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.adopt(ws, req);
    });
  }

  listen(): Promise<void> {
    const server = this.options.server;
    if (this.options.claimFirst ?? true) {
      // Intercept 'upgrade' before any listener (present or future) sees it, for our path only.
      const originalEmit = server.emit;
      const isOurs = (req: IncomingMessage): boolean => this.isOurPath(req);
      const handle: UpgradeListener = (req, socket, head) => {
        this.handleUpgrade(req, socket, head);
      };
      server.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
        if (event === 'upgrade' && isOurs(args[0] as IncomingMessage)) {
          handle(args[0] as IncomingMessage, args[1] as Duplex, args[2] as Buffer);
          return true;
        }
        return (originalEmit as (this: Server, e: string | symbol, ...a: unknown[]) => boolean).call(
          this,
          event,
          ...args,
        );
      } as typeof server.emit;
      this.detach = () => {
        server.emit = originalEmit;
      };
    } else {
      const listener: UpgradeListener = (req, socket, head) => {
        this.handleUpgrade(req, socket, head);
      };
      server.on('upgrade', listener);
      this.detach = () => {
        server.off('upgrade', listener);
      };
    }
    return Promise.resolve();
  }

  send(flow: Flow, data: Buffer): Promise<void> {
    const entry = flow.connectionId === undefined ? undefined : this.sockets.get(flow.connectionId);
    if (entry?.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('WebSocket connection is gone; WS cannot open outgoing connections'));
    }
    return new Promise((resolve, reject) => {
      // Text frames: SIP is text and browser clients (SIP.js) expect strings (RFC 7118 §5.1); a message that is
      // not UTF-8 (a binary body) goes in a binary frame, which RFC 7118 §5.1 allows, so its bytes arrive intact.
      entry.ws.send(isUtf8(data) ? data.toString('utf8') : data, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    this.supervisor.stop();
    for (const { ws } of this.sockets.values()) ws.terminate();
    this.sockets.clear();
    return new Promise((resolve) => {
      this.wss.close(() => {
        resolve();
      });
    });
  }

  private isOurPath(req: IncomingMessage): boolean {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return (q === -1 ? url : url.slice(0, q)) === this.path;
  }

  private adopt(ws: WebSocket, req: IncomingMessage): void {
    const id = `ws-${this.nextId++}`;
    const sock = req.socket;
    const flow: Flow = {
      protocol: this.protocol,
      localAddress: sock.localAddress ?? '',
      localPort: sock.localPort ?? 0,
      remoteAddress: sock.remoteAddress ?? '',
      remotePort: sock.remotePort ?? 0,
      connectionId: id,
    };
    this.sockets.set(id, { ws, flow });
    this.options.onConnection?.(id, req);
    // One SIP message per WebSocket message: a WS connection never holds part of one (the ws library bounds
    // a partial frame by maxPayload).
    this.supervisor.add(id, flow, () => {
      ws.terminate();
    });
    ws.on('message', (data) => {
      this.supervisor.activity(id, false);
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      try {
        this.messageHandler(buf, flow);
      } catch (e) {
        this.errorHandler(e instanceof Error ? e : new Error(String(e)), flow);
      }
    });
    ws.on('error', (err) => {
      this.errorHandler(err, flow);
    });
    ws.on('close', () => {
      this.supervisor.remove(id);
      this.sockets.delete(id);
      this.closeHandler(flow);
    });
  }
}
