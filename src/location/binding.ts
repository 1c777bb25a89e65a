import type { TransportProtocol } from '../sip';

/** Where a binding's REGISTER came from, kept for routing back over the same flow (RFC 5626). */
export interface BindingSource {
  readonly protocol: TransportProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly connectionId?: string;
}

/** A Contact header parameter kept with a binding: name (lowercase) and value (`null` for a flag). */
export type ContactParam = readonly [name: string, value: string | null];

/** One contact bound to an AoR in a location domain (RFC 3261 §10). */
export interface Binding {
  readonly id: string;
  readonly domain: string;
  readonly aor: string;
  /** The Contact URI as registered. */
  readonly uri: string;
  /** The Contact's display name, when it had one. */
  readonly displayName?: string;
  /** The Contact's header parameters other than expires, q, +sip.instance and reg-id; absent when none. */
  readonly params?: readonly ContactParam[];
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** 0..1, or undefined when the Contact had no q. */
  readonly q?: number;
  readonly callId: string;
  readonly cseq: number;
  readonly instance?: string;
  readonly regId?: number;
  readonly path: readonly string[];
  readonly userAgent: string;
  readonly source: BindingSource;
  /**
   * Set on bindings learned from a reginfo NOTIFY (the URI of the subscription they came from); such bindings
   * are never published as reginfo, so that two servers that publish and subscribe do not loop.
   */
  readonly origin?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** RFC 3680 §5.2 contact events, as the location service emits them. */
export type ContactEventType = 'created' | 'refreshed' | 'shortened' | 'expired' | 'unregistered' | 'deactivated';

export interface ContactEvent {
  readonly type: ContactEventType;
  readonly binding: Binding;
}

/** All changes of one AoR made by one operation, delivered together after they are committed. */
export interface ContactChange {
  readonly domain: string;
  readonly aor: string;
  readonly events: readonly ContactEvent[];
  /** The AoR's bindings after the change. */
  readonly bindings: readonly Binding[];
}
