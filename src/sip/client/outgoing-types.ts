import type { ClientCredentials } from '../auth/digest-client';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { Clock, TimerHandle } from '../ports/clock';
import type { SipLogger } from '../ports/logger';
import type { Random } from '../ports/random';
import type {
  OutgoingKind,
  OutgoingOptions,
  OutgoingRecord,
  OutgoingStore,
  SubscriptionStateHeader,
} from './outgoing-record';

/** What the outgoing client needs from its host. */
export interface OutgoingClientOptions {
  /** Sends a request in a new non-INVITE client transaction; resolves with the final response. */
  send(req: SipRequest): Promise<SipResponse>;
  /** Our Contact for SUBSCRIBE (where NOTIFYs come). */
  contact(): string;
  store: OutgoingStore;
  clock: Clock;
  random: Random;
  logger: SipLogger;
  /** Credentials for a challenge's realm (RFC 3261 §22.2); undefined: the challenge is not answered. */
  credentials(realm: string, record: Readonly<OutgoingRecord>): ClientCredentials | undefined;
  /** Seconds before another attempt after an error or time-out, unless the record says otherwise. */
  retryAfter: number;
  /** Seconds an unsubscribe waits for the terminating NOTIFY (RFC 6665 §4.1.2.3) before forgetting the dialog. */
  waitForTermNotify: number;
  /**
   * After a restart, the document of a publication the server no longer holds (it ran out while we were
   * down), asked before it is published anew: what was stored may be stale by then. Undefined: its owner
   * publishes or removes it itself, nothing is sent now. Without this option the stored document is sent.
   */
  currentBody?(record: Readonly<OutgoingRecord>): Promise<string | undefined>;
}

/** A PUBLISH to keep at a server (RFC 3903). */
export interface PublishInput {
  readonly owner: string;
  readonly key: string;
  /** The presentity: Request-URI and To. */
  readonly uri: string;
  /** From; default `uri`. */
  readonly from?: string;
  readonly event: string;
  readonly contentType: string;
  readonly body: string;
  readonly expires: number;
  /** Outbound proxy URI; default none (the Request-URI's host and port). */
  readonly route?: string;
  readonly options?: OutgoingOptions;
}

/** A subscription to hold at a notifier (RFC 6665). */
export interface SubscribeInput {
  readonly owner: string;
  readonly key: string;
  /** The resource: Request-URI and To. */
  readonly uri: string;
  /** The subscriber: From. */
  readonly from: string;
  readonly event: string;
  readonly expires: number;
  readonly route?: string;
  readonly options?: OutgoingOptions;
}

/** A NOTIFY received in one of our subscriptions, as its owner sees it. */
export interface ClientNotify {
  readonly record: Readonly<OutgoingRecord>;
  readonly request: SipRequest;
  readonly subscriptionState: SubscriptionStateHeader;
  readonly contentType: string | undefined;
  readonly body: string;
}

/**
 * Takes a NOTIFY's content. Resolving means applied (the NOTIFY gets 200); throwing an error with a SIP
 * `status` and `reason` (SipError, or a domain error the caller maps) answers with that status instead.
 */
export type NotifyHandler = (notify: ClientNotify) => void | Promise<void>;

/** Told of every change of state of its owner's records (the last one has state `removing` and is gone). */
export type StatusListener = (record: Readonly<OutgoingRecord>) => void;

/** A SIP answer to a NOTIFY. */
export interface NotifyAnswer {
  readonly status: number;
  readonly reason: string;
}

export interface OutgoingEntry {
  readonly rec: OutgoingRecord;
  timer?: TimerHandle;
  chain: Promise<void>;
  gone: boolean;
}

export const isFinal2xx = (s: number): boolean => s >= 200 && s < 300;

export function errorAnswer(e: unknown): NotifyAnswer | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { status, reason } = e as { status?: unknown; reason?: unknown };
  if (typeof status === 'number' && status >= 300 && status < 700 && typeof reason === 'string') {
    return { status, reason };
  }
  return undefined;
}

export function keyOf(kind: OutgoingKind, owner: string, key: string): string {
  return `${kind}\u0000${owner}\u0000${key}`;
}
