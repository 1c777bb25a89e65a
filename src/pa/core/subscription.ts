import type { Dialog, Flow } from '../../sip';
import type { EventParams, NotifyBody, PresentityState, WatcherSession } from './event-package';

/** How many NOTIFY CSeq numbers are reserved per database write (see `cseqReserved`). */
export const CSEQ_BLOCK = 1000;

export type WatcherKind = 'sip' | 'ws' | 'internal';
export type SubscriptionStatus = 'active' | 'pending' | 'terminated';

/** RFC 6665 §4.2.2 reasons of a terminated subscription, as sent in Subscription-State. */
export type TerminationReason = 'timeout' | 'deactivated' | 'noresource' | 'rejected' | 'giveup' | 'probation';

interface SubscriptionBase extends WatcherSession {
  readonly id: string;
  readonly presentity: string;
  readonly event: string;
  readonly watcher: string;
  readonly accept: readonly string[];
  /** The Event header's parameters other than `id`; absent (the common case) when there were none. */
  readonly eventParams?: EventParams;
  status: SubscriptionStatus;
  /** Epoch milliseconds. */
  expiresAt: number;
  readonly createdAt: number;
  /**
   * A hash of the body last handed to this watcher's channel (body-hash.ts, in memory only): a change that
   * renders the same body again is not delivered, unless the package notifies unchanged state. A hash, not the
   * body: a body rendered for one presentity's only watcher would otherwise stay in memory with it.
   */
  lastBodyHash?: number;
}

/** A subscription in a SIP dialog (RFC 6665): NOTIFYs go out in its dialog with increasing CSeq. */
export interface SipSubscription extends SubscriptionBase {
  readonly kind: 'sip';
  readonly dialog: Dialog;
  readonly eventId?: string;
  /** The flow the SUBSCRIBE came on; NOTIFYs to TCP/WS watchers reuse its connection. */
  flow: Flow;
  remoteCseq: number;
  /** CSeq numbers up to this one are committed as used-or-reserved (survives kill -9). */
  cseqReserved: number;
  /**
   * The SIP channel's queue (in memory only): undefined while no NOTIFY is in flight in the dialog, else the
   * deliveries waiting behind the one in flight, oldest first.
   */
  notifyQueue: Delivery[] | undefined;
}

/** A browser WebSocket subscription: `state` messages over its socket; gone when the socket closes. */
export interface WsSubscription extends SubscriptionBase {
  readonly kind: 'ws';
  /** The socket's id in the gateway. */
  readonly client: string;
  /** The id the browser chose in its `subscribe` message. */
  readonly clientId: string;
}

/**
 * An in-process watcher (B2B, PUA; the Query Status API role): receives each state change as a call to the
 * handler its owner module registered. Stored like SIP ones, so it survives a restart.
 */
export interface InternalSubscription extends SubscriptionBase {
  readonly kind: 'internal';
  /** The module that created it and whose handler receives its deliveries (e.g. `b2b`). */
  readonly owner: string;
  readonly deliver: (delivery: Delivery) => void;
}

export type Subscription = SipSubscription | WsSubscription | InternalSubscription;

/** One state change for one watcher, as the notifier hands it to the watcher's channel. */
export interface Delivery {
  readonly subscription: Subscription;
  readonly state: PresentityState;
  /** Body rendered by the package for this watcher (`null`: a NOTIFY without body). */
  readonly body: NotifyBody | null;
  /** Set for the final delivery of a subscription. */
  readonly terminated?: TerminationReason | 'unsubscribed';
  /** Seconds left, for Subscription-State `expires=` (RFC 6665 §4.1.3). */
  readonly expires: number;
  /** The package replaced the subscription's package state while rendering this delivery: store it. */
  readonly packageStateChanged?: boolean;
  /** With `packageStateChanged`: the package state as this delivery left it (later renders may advance it). */
  readonly packageState?: unknown;
}

/** Delivers state to watchers of one kind: SIP NOTIFY, WebSocket `state`, in-process call. */
export interface WatcherChannel {
  readonly kind: WatcherKind;
  deliver(delivery: Delivery): void;
  /**
   * Stores a package state that the watcher's next delivery will carry, ahead of it: the write is queued at
   * once, so that it joins the commit being prepared (see the package's `nextState`). Absent for channels
   * that keep no package state.
   */
  storeAhead?(sub: Subscription, packageState: unknown): Promise<void>;
  /**
   * Whether requests are likely waiting to be read from this channel's transports: a fan-out then waits a turn
   * more before its next slice. Absent: never.
   */
  inputPending?(): boolean;
}
