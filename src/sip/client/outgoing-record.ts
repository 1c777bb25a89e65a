/**
 * What the outgoing client (the `pua` role) keeps of each publication (RFC 3903) and subscription
 * (RFC 6665) it holds at another server: plain data, persisted as one row and restored after a restart.
 */
import type { DialogJSON } from '../dialog/dialog';

export type OutgoingKind = 'publish' | 'subscribe';

/**
 * Where an outgoing publication or subscription stands.
 * - `sending`: a request is under way (or due) and no 2xx has been seen yet;
 * - `pending` / `active`: RFC 6665 subscription states (a publication is `active` once a 2xx came);
 * - `retrying`: the last attempt failed (error response, time-out), another is scheduled at `retryAt`;
 * - `terminated`: the notifier ended the subscription for good (rejected, noresource, invariant);
 * - `removing`: Expires 0 was sent, the record goes when it is answered (or the terminating NOTIFY comes).
 */
export type OutgoingState = 'sending' | 'pending' | 'active' | 'retrying' | 'terminated' | 'removing';

/** Rarely needed options, kept together (one JSON column). */
export interface OutgoingOptions {
  /** Media types asked for in Accept (SUBSCRIBE). */
  readonly accept?: readonly string[];
  /** Refresh this many seconds before expiry (default: a quarter of the expiry, at most 30 s). */
  readonly refreshBefore?: number;
  /** Never refresh sooner than this many seconds after the last refresh. */
  readonly minRefreshInterval?: number;
  /** Seconds to wait before trying again after an error or time-out (default: the client's). */
  readonly retryAfter?: number;
  /** Seconds an unsubscribe waits for the terminating NOTIFY (default: the client's). */
  readonly waitForTermNotify?: number;
  /**
   * After a restart, resume this record after a random delay up to this many seconds instead of at once
   * (thousands of restored subscriptions must not reach a server together). Default 0.
   */
  readonly resumeSpread?: number;
  /** Our Contact in SUBSCRIBEs instead of the client's default (e.g. a configured server address). */
  readonly contact?: string;
  /** Free data of the owner, returned with the record (e.g. where a subscription came from). */
  readonly data?: Readonly<Record<string, string>>;
}

/** One outgoing publication or subscription. */
export interface OutgoingRecord {
  readonly id: string;
  readonly kind: OutgoingKind;
  /** The module that holds it (e.g. `pua-reginfo`, `b2b`); NOTIFYs and status changes go to it. */
  readonly owner: string;
  /** The owner's name for it, unique per owner and kind (e.g. the AoR). */
  readonly key: string;
  /** Request-URI of initial requests and To: the presentity (PUBLISH) or the resource subscribed to. */
  readonly uri: string;
  /** Our identity: From of every request. */
  readonly from: string;
  /** Event package. */
  readonly event: string;
  /** Next hop for initial requests (an outbound proxy, sent as a loose Route); '' for the Request-URI's host. */
  readonly route: string;
  /** Expires asked for, in seconds. */
  expires: number;
  /** PUBLISH: the body's type and the body. */
  contentType: string;
  body: string;
  /** PUBLISH: the entity tag of the publication at the server (RFC 3903 §4.1); '' before the first 2xx. */
  etag: string;
  /** Call-ID and our From tag of the next out-of-dialog request, and its CSeq. */
  callId: string;
  localTag: string;
  cseq: number;
  /** SUBSCRIBE: the dialog once created by a 2xx or a NOTIFY (RFC 6665 §4.1.2.4). */
  dialog?: DialogJSON;
  state: OutgoingState;
  /** Epoch ms when the publication or subscription runs out at the server; 0 unknown. */
  expiresAt: number;
  /** Epoch ms of the next attempt while `retrying`; 0 otherwise. */
  retryAt: number;
  /** Status and reason of the last final response (or 408 for a time-out), or of a terminating NOTIFY. */
  lastStatus: number;
  lastReason: string;
  readonly options: OutgoingOptions;
  readonly createdAt: number;
  updatedAt: number;
}

/** Where the outgoing client keeps its records. */
export interface OutgoingStore {
  save(record: OutgoingRecord): Promise<void>;
  remove(id: string): Promise<void>;
}

/** Default margin before expiry at which a refresh is sent, in seconds. */
const DEFAULT_REFRESH_BEFORE = 30;

/**
 * Milliseconds from now until a refresh of something that expires in `expires` seconds: `refreshBefore`
 * seconds before (default a quarter of the expiry, at most 30 s), never sooner than `minRefreshInterval`
 * seconds, and never later than the expiry itself nor sooner than half a second.
 */
export function refreshDelay(expires: number, options: OutgoingOptions): number {
  const margin =
    options.refreshBefore !== undefined
      ? Math.min(options.refreshBefore, expires * 0.9)
      : Math.min(DEFAULT_REFRESH_BEFORE, expires / 4);
  let delay = (expires - margin) * 1000;
  if (options.minRefreshInterval !== undefined) delay = Math.max(delay, options.minRefreshInterval * 1000);
  return Math.max(500, Math.min(delay, expires * 1000));
}

/** The Subscription-State header (RFC 6665 §8.2.3). */
export interface SubscriptionStateHeader {
  readonly state: string;
  readonly expires?: number;
  readonly reason?: string;
  readonly retryAfter?: number;
}

/** Reads a Subscription-State value; undefined when it has no state. */
export function parseSubscriptionState(value: string | undefined): SubscriptionStateHeader | undefined {
  if (value === undefined) return undefined;
  const [first, ...params] = value.split(';');
  const state = first.trim().toLowerCase();
  if (state === '') return undefined;
  let expires: number | undefined;
  let reason: string | undefined;
  let retryAfter: number | undefined;
  for (const p of params) {
    const [name, raw] = p.split('=', 2).map((s) => s.trim());
    const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
    switch (name.toLowerCase()) {
      case 'expires':
        expires = n;
        break;
      case 'reason':
        reason = raw?.toLowerCase();
        break;
      case 'retry-after':
        retryAfter = n;
        break;
      default:
        break;
    }
  }
  return {
    state,
    ...(expires !== undefined && { expires }),
    ...(reason !== undefined && { reason }),
    ...(retryAfter !== undefined && { retryAfter }),
  };
}

/**
 * What a subscriber does after `Subscription-State: terminated` (RFC 6665 §4.1.3): subscribe again at once
 * (no reason, deactivated, timeout), after a while (probation, giveup: retry-after or the default wait), or
 * never (rejected, noresource, invariant; an unknown reason is treated as deactivated).
 */
export function afterTermination(
  reason: string | undefined,
  retryAfter: number | undefined,
): 'now' | 'later' | 'never' {
  switch (reason) {
    case 'rejected':
    case 'noresource':
    case 'invariant':
      return 'never';
    case 'probation':
    case 'giveup':
      return 'later';
    case undefined:
    default:
      return retryAfter !== undefined && retryAfter > 0 ? 'later' : 'now';
  }
}
