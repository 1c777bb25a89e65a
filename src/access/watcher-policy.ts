/**
 * Whether a watcher may watch a presentity's event: the one point where watcher authorization is decided
 * for subscriptions from the browser WebSocket (and any other watcher the caller asks about). `active`:
 * allowed; `pending`: held until approved (RFC 6665 §4.1.3); `rejected`: refused.
 */
export type WatcherDecision = 'active' | 'pending' | 'rejected';

export interface WatcherPolicy {
  /**
   * `watcher` is the authenticated identity (an AoR) when there is one, else what the client claims
   * (`ws:<socket>` for an anonymous browser socket); `authenticated` tells which.
   */
  decide(request: {
    readonly watcher: string;
    readonly authenticated: boolean;
    readonly presentity: string;
    readonly event: string;
  }): WatcherDecision | Promise<WatcherDecision>;
}

/** Injection token of the {@link WatcherPolicy}; the default allows every watcher. */
export const WATCHER_POLICY = Symbol('WatcherPolicy');

export const ALLOW_ALL_WATCHERS: WatcherPolicy = { decide: () => 'active' };
