import type { ErrorHandler, Flow, MessageHandler, Transport, TransportProtocol } from './transport';

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** Protocol reported in flows (default `udp`, so unreliable-transport timers apply). */
  protocol?: TransportProtocol;
  address?: string;
  port?: number;
  /** Deliver synchronously (default) or on a microtask. */
  async?: boolean;
}

/**
 * An in-process transport for tests (STYLE.md habit 1): `MemoryTransport.pair()` links two endpoints;
 * every `send` is recorded in `sent` and delivered to the peer. `drop` makes the next sends vanish (a lossy
 * network), `failSends` makes them reject (a transport error, RFC 3261 §17.1.4).
 */
export class MemoryTransport implements Transport {
  readonly protocol: TransportProtocol;
  readonly localAddress: string;
  readonly localPort: number;
  peer: MemoryTransport | undefined;
  /** Every message sent, with its flow. */
  readonly sent: { flow: Flow; data: Buffer }[] = [];
  /** Number of upcoming sends to drop silently. */
  drop = 0;
  /** When true, sends reject. */
  failSends = false;
  private messageHandler: MessageHandler = () => undefined;
  private errorHandler: ErrorHandler = () => undefined;
  private readonly connections = new Set<string>();

  constructor(private readonly options: MemoryTransportOptions = {}) {
    this.protocol = options.protocol ?? 'udp';
    this.localAddress = options.address ?? '127.0.0.1';
    this.localPort = options.port ?? 5060;
  }

  /** Two linked endpoints, at 127.0.0.1:5060 and 127.0.0.2:5060 unless told otherwise. */
  static pair(a: MemoryTransportOptions = {}, b: MemoryTransportOptions = {}): [MemoryTransport, MemoryTransport] {
    const x = new MemoryTransport(a);
    const y = new MemoryTransport({ address: '127.0.0.2', ...b, protocol: b.protocol ?? a.protocol });
    x.peer = y;
    y.peer = x;
    return [x, y];
  }

  get reliable(): boolean {
    return this.protocol !== 'udp';
  }

  get advertisedHost(): string {
    return this.localAddress;
  }

  get advertisedPort(): number {
    return this.localPort;
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  onError(handler: ErrorHandler): void {
    this.errorHandler = handler;
  }

  /** Connectionless: there is no connection to close. */
  onConnectionClosed(): void {
    // nothing to report
  }

  hasConnection(connectionId: string): boolean {
    return this.connections.has(connectionId);
  }

  /** Declares a connection id as open (for connection-reuse tests). */
  openConnection(connectionId: string): void {
    this.connections.add(connectionId);
  }

  listen(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Delivers `data` to this endpoint as if it arrived from `from` (default: the peer's address). */
  inject(data: Buffer | string, from?: Partial<Flow>): void {
    const flow: Flow = {
      protocol: this.protocol,
      localAddress: this.localAddress,
      localPort: this.localPort,
      remoteAddress: this.peer?.localAddress ?? '127.0.0.2',
      remotePort: this.peer?.localPort ?? 5060,
      ...from,
    };
    try {
      this.messageHandler(typeof data === 'string' ? Buffer.from(data) : data, flow);
    } catch (e) {
      this.errorHandler(e instanceof Error ? e : new Error(String(e)), flow);
    }
  }

  send(flow: Flow, data: Buffer): Promise<void> {
    if (this.failSends) return Promise.reject(new Error('memory transport: send failed'));
    this.sent.push({ flow, data });
    if (this.drop > 0) {
      this.drop--;
      return Promise.resolve();
    }
    const peer = this.peer;
    if (peer !== undefined) {
      const deliver = (): void => {
        peer.inject(data, {
          remoteAddress: this.localAddress,
          remotePort: this.localPort,
          connectionId: flow.connectionId,
        });
      };
      if (this.options.async ?? false) queueMicrotask(deliver);
      else deliver();
    }
    return Promise.resolve();
  }

  /** The last message sent, as text. */
  lastSent(): string | undefined {
    const last = this.sent.at(-1);
    return last?.data.toString('utf8');
  }
}
