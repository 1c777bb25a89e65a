import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { ErrorHandler, Flow, MessageHandler, Transport, TransportOptions } from './transport';
import { defaultAdvertisedHost } from './transport';

/**
 * The socket's name lookup: the stack sends only to addresses it already resolved (next-hop.ts), so an IP
 * address is handed back at once, in the same call, instead of through `dns.lookup`, which answers even an
 * IP address on the next tick (one extra callback and tick for every datagram sent). A name still goes to DNS.
 */
function addressLookup(
  hostname: string,
  family: number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const literal = isIP(hostname);
  if (literal !== 0) callback(null, hostname, literal);
  else lookup(hostname, family, callback);
}

/**
 * Datagrams libuv reads from a UDP socket for one readiness event before the event loop moves on (its
 * `uv__udp_recvmsg` loop); more may be waiting in the socket when a turn has read this many.
 */
const READS_PER_TURN = 32;

/** Most UDP flows kept for sharing; past it the cache starts over. */
const FLOW_CACHE_SIZE = 16_384;

/** SIP over UDP (RFC 3261 §18): one message per datagram; connectionless, unreliable. */
export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  private socket: Socket | undefined;
  private messageHandler: MessageHandler = () => undefined;
  private errorHandler: ErrorHandler = () => undefined;
  private bound = { address: '', port: 0 };
  /** Flows by source address and port (see flowFrom). */
  private readonly flows = new Map<string, Map<number, Flow>>();
  private flowCount = 0;
  /** Datagrams read in the current turn of the event loop (reset at its check phase). */
  private readsThisTurn = 0;
  private readonly endTurn = (): void => {
    this.readsThisTurn = 0;
  };

  constructor(private readonly options: TransportOptions = {}) {}

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

  /** Connectionless: there is no connection to close. */
  onConnectionClosed(): void {
    // nothing to report
  }

  hasConnection(): boolean {
    return false;
  }

  /** True when this turn's read of the socket stopped at libuv's limit: more datagrams are likely queued. */
  inputPending(): boolean {
    return this.readsThisTurn >= READS_PER_TURN;
  }

  listen(): Promise<void> {
    const host = this.options.host ?? '0.0.0.0';
    // Large socket buffers absorb bursts (a fan-out's 200 OKs arrive together); the kernel caps them at
    // net.core.rmem_max / wmem_max.
    const bufferSize = this.options.bufferSize ?? 8 * 1024 * 1024;
    const socket = createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      reuseAddr: false,
      recvBufferSize: bufferSize,
      sendBufferSize: bufferSize,
      // dgram calls it as lookup(address, family, callback).
      lookup: addressLookup as unknown as typeof lookup,
    });
    this.socket = socket;
    return new Promise((resolve, reject) => {
      const onListenError = (err: Error): void => {
        reject(err);
      };
      socket.once('error', onListenError);
      socket.bind(this.options.port ?? 5060, host, () => {
        socket.off('error', onListenError);
        socket.on('error', (err) => {
          this.errorHandler(err);
        });
        const addr = socket.address();
        this.bound = { address: addr.address, port: addr.port };
        // Flows made on an earlier socket carry its local address and port.
        this.flows.clear();
        this.flowCount = 0;
        resolve();
      });
      socket.on('message', (data, rinfo) => {
        if (this.readsThisTurn++ === 0) setImmediate(this.endTurn);
        const flow = this.flowFrom(rinfo.address, rinfo.port);
        try {
          this.messageHandler(data, flow);
        } catch (e) {
          this.errorHandler(e instanceof Error ? e : new Error(String(e)), flow);
        }
      });
    });
  }

  /**
   * The flow of a datagram from `address`:`port`, one object per source while at most FLOW_CACHE_SIZE are
   * known: what a subscription or binding keeps of its flow is then shared by every other one from that source.
   */
  private flowFrom(address: string, port: number): Flow {
    let byPort = this.flows.get(address);
    const known = byPort?.get(port);
    if (known !== undefined) return known;
    if (this.flowCount >= FLOW_CACHE_SIZE) {
      this.flows.clear();
      this.flowCount = 0;
      byPort = undefined;
    }
    if (byPort === undefined) this.flows.set(address, (byPort = new Map<number, Flow>()));
    const flow: Flow = {
      protocol: 'udp',
      localAddress: this.bound.address,
      localPort: this.bound.port,
      remoteAddress: address,
      remotePort: port,
    };
    byPort.set(port, flow);
    this.flowCount++;
    return flow;
  }

  send(flow: Flow, data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sendNow(flow, data, reject, resolve);
    });
  }

  sendNow(flow: Flow, data: Buffer, onError: (error: Error) => void, onSent?: () => void): void {
    const socket = this.socket;
    if (socket === undefined) {
      process.nextTick(onError, new Error('UDP transport not listening'));
      return;
    }
    const address = flow.remoteAddress.startsWith('[') ? flow.remoteAddress.slice(1, -1) : flow.remoteAddress;
    socket.send(data, flow.remotePort, address, (err) => {
      if (err) onError(err);
      else onSent?.();
    });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      socket.close(() => {
        resolve();
      });
    });
  }
}
