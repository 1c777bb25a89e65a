import type WebSocket from 'ws';
import type { Principal } from '../../access/principal';
import type { WsSubscription } from '../core/subscription';

/** The browser WebSocket's wire messages and the state it keeps per socket (see PresenceGateway). */

export type MessageId = string | number;

/** Messages the server sends (DESIGN.md: browser WebSocket at /ws). */
export type ServerMessage =
  | { type: 'state'; id: MessageId; aor: string; event: string; state: unknown }
  /** The subscription waits for the presentity's approval: no state yet (RFC 6665 pending). */
  | { type: 'pending'; id: MessageId; aor: string; event: string }
  | { type: 'terminated'; id: MessageId; reason: string }
  | { type: 'published'; id: MessageId; etag: string; expires: number }
  | { type: 'pong'; id: MessageId }
  | { type: 'error'; id?: MessageId; message: string; field?: string };

/** One browser socket: its subscriptions by the browser's ids and its publications by presentity. */
export interface Client {
  readonly id: string;
  readonly ws: WebSocket;
  /** The API key the socket was opened with (auth.enabled); absent on an anonymous socket. */
  readonly principal?: Principal;
  alive: boolean;
  closed: boolean;
  queued: number;
  /** Handling of this socket's messages, in order (publishes rely on the previous one's entity tag). */
  queue: Promise<void>;
  readonly subscriptions: Map<string, { readonly messageId: MessageId; readonly sub: WsSubscription }>;
  readonly publications: Map<string, { readonly presentity: string; readonly event: string; etag: string }>;
}

export const pubKey = (presentity: string, event: string): string => `${event}\u0000${presentity}`;
