/**
 * What B2B needs of the shared outgoing SIP client (the `pua` role): hold a subscription at another server
 * under an owner and key, end it, and hear its NOTIFYs and changes of state. The outgoing client service
 * provides exactly this; tests give a fake.
 */

/** Where a remote subscription stands, as the outgoing client reports it. */
export interface RemoteRecord {
  /** B2B's key of the remote subscription (one per presentity, event and watcher identity when shared). */
  readonly key: string;
  /** The presentity subscribed to (Request-URI and To). */
  readonly uri: string;
  /** The watcher identity (From). */
  readonly from: string;
  readonly event: string;
  /** `sending`, `pending`, `active`, `retrying`, `terminated` or `removing`. */
  readonly state: string;
  /** Epoch ms when the subscription runs out at the remote server; 0 unknown. */
  readonly expiresAt: number;
  /** Epoch ms of the next attempt while retrying; 0 otherwise. */
  readonly retryAt: number;
  /** Status and reason of the last final response or terminating NOTIFY. */
  readonly lastStatus: number;
  readonly lastReason: string;
  /** The SIP dialog once created (Call-ID, tags, route set, remote target); absent before. */
  readonly dialog?: unknown;
  readonly updatedAt: number;
}

/** The Subscription-State header of a NOTIFY (RFC 6665 §8.2.3). */
export interface RemoteSubscriptionState {
  readonly state: string;
  readonly expires?: number;
  readonly reason?: string;
  readonly retryAfter?: number;
}

/** A NOTIFY received in one of B2B's subscriptions. */
export interface RemoteNotify {
  readonly record: RemoteRecord;
  readonly subscriptionState: RemoteSubscriptionState;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** A subscription to hold at a remote notifier. */
export interface RemoteSubscribe {
  readonly owner: string;
  readonly key: string;
  readonly uri: string;
  readonly from: string;
  readonly event: string;
  readonly expires: number;
  /** Next hop (b2b.presenceRoute); absent: the presentity's host. */
  readonly route?: string;
  readonly options?: {
    readonly accept?: readonly string[];
    readonly refreshBefore?: number;
    readonly minRefreshInterval?: number;
    readonly retryAfter?: number;
    readonly waitForTermNotify?: number;
  };
}

export interface B2bRemote {
  /** Starts (or refreshes) the subscription of `owner` and `key`; resolves once the remote server answered. */
  subscribe(input: RemoteSubscribe): Promise<RemoteRecord>;
  /** SUBSCRIBE Expires 0, then up to b2b.waitForTermNotify for the terminating NOTIFY; false when unknown. */
  unsubscribe(owner: string, key: string): Promise<boolean>;
  get(owner: string, key: string): RemoteRecord | undefined;
  list(owner: string): RemoteRecord[];
  /**
   * Every NOTIFY in the owner's subscriptions. Resolving answers 200; an error with a SIP `status` and
   * `reason` answers that instead.
   */
  onNotify(owner: string, handler: (notify: RemoteNotify) => void | Promise<void>): void;
  /** Every change of state of the owner's subscriptions (the last one is `removing`, then it is gone). */
  onStatus(owner: string, listener: (record: RemoteRecord) => void): void;
}

/** Injection token of the {@link B2bRemote}. */
export const B2B_REMOTE = Symbol('B2bRemote');
