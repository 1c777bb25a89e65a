import type { TlsPeer } from './tls-peer';

/** Transport protocols of a {@link Flow} (RFC 3261 §18, RFC 7118 for WS/WSS). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/**
 * Where a message came from or goes to. `connectionId` is set for connection-oriented transports and names
 * the connection, so that responses and later requests reuse it (RFC 3261 §18.2.2, RFC 5626 §5).
 */
export interface Flow {
  readonly protocol: TransportProtocol;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectionId?: string;
  /**
   * On a TLS connection whose peer presented a certificate: its subject and subjectAltNames, and whether it
   * chains to the configured CA (only then is it an identity to trust, RFC 5922 §7). Absent otherwise.
   */
  readonly tlsPeer?: TlsPeer;
}

/**
 * Receives each framed SIP message with the flow it arrived on. `wireLength` is set when a stream transport
 * delivers only the header section of a message too large to take in (its whole length on the wire), so the
 * core can still answer 513 (RFC 3261 §18.1.1, §21.5.14).
 */
export type MessageHandler = (data: Buffer, flow: Flow, wireLength?: number) => void;
/** Receives transport errors (socket errors, unframeable streams); `flow` when one connection failed. */
export type ErrorHandler = (error: Error, flow?: Flow) => void;
/** Told when a connection (TCP, WS) has closed, with the flow it carried (RFC 5626 §5.3 flow failure). */
export type CloseHandler = (flow: Flow) => void;

/**
 * A SIP transport adapter (RFC 3261 §18). The core owns this interface; UDP, TCP, WS and in-memory
 * transports implement it. Implementations emit errors through `onError` and never throw out of socket
 * callbacks.
 */
export interface Transport {
  readonly protocol: TransportProtocol;
  /** Bound address and port, valid after `listen()`. */
  readonly localAddress: string;
  readonly localPort: number;
  /** The host and port put in Via sent-by and Contact (RFC 3261 §18.1.1); defaults to the bound ones. */
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  /** Whether the transport is reliable (RFC 3261 §17: timers for reliable transports are 0). */
  readonly reliable: boolean;
  listen(): Promise<void>;
  close(): Promise<void>;
  /**
   * Sends one message. With `flow.connectionId` the message goes over that connection; TCP opens a new
   * connection to `remoteAddress:remotePort` when there is none; WS rejects.
   */
  send(flow: Flow, data: Buffer): Promise<void>;
  /**
   * Sends like {@link send} without a promise: a failure goes to `onError` (never synchronously). The
   * transaction layer uses it when present: a promise and its handlers for every message sent cost a few
   * microseconds each, as much as the datagram's own system call.
   */
  sendNow?(flow: Flow, data: Buffer, onError: (error: Error) => void): void;
  onMessage(handler: MessageHandler): void;
  onError(handler: ErrorHandler): void;
  /** Registers the listener of closed connections; connectionless transports never call it. */
  onConnectionClosed(handler: CloseHandler): void;
  hasConnection(connectionId: string): boolean;
  /**
   * Whether messages are likely waiting to be read: the last read of the socket in this turn of the event loop
   * stopped at its limit. Work that can wait (the rest of a fan-out) then gives the next turn to the reads, so
   * that a request is not left behind the responses its own NOTIFYs brought. Absent: never known.
   */
  inputPending?(): boolean;
}

/** Options shared by the socket transports. */
export interface TransportOptions {
  /** Address to bind (default `0.0.0.0`). */
  host?: string;
  /** Port to bind; 0 picks a free one (default 5060). */
  port?: number;
  /** Via sent-by / Contact host; default: the bound address, or 127.0.0.1 when bound to a wildcard. */
  advertisedHost?: string;
  /** Via sent-by / Contact port; default: the bound port. */
  advertisedPort?: number;
  /** UDP socket receive and send buffer size in bytes (default 8 MiB, capped by the kernel). */
  bufferSize?: number;
}

/**
 * The flow as it may be stored (a subscription's, a dialog's): without its TLS peer identity, which only a live
 * connection proves; a flow read back from storage never claims one.
 */
export function storedFlow(flow: Flow): Flow {
  if (flow.tlsPeer === undefined) return flow;
  const { protocol, localAddress, localPort, remoteAddress, remotePort, connectionId } = flow;
  return {
    protocol,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    ...(connectionId !== undefined && { connectionId }),
  };
}

/** The advertised host for a bound address (a wildcard is not an address a peer can reach). */
export function defaultAdvertisedHost(bound: string): string {
  if (bound === '0.0.0.0' || bound === '') return '127.0.0.1';
  if (bound === '::') return '[::1]';
  return bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound;
}
