import { Injectable } from '@nestjs/common';

/**
 * What watcher authorization decides for one watcher of one presentity (RFC 6665 §4.1.3, RFC 3856 §6.6.2):
 * `active` — it gets the state; `pending` — it waits for the presentity's decision (NOTIFY pending, no body);
 * `rejected` — refused (403 to a new SUBSCRIBE, NOTIFY terminated;reason=rejected to a live one);
 * `polite-block` — it is told it is active but gets a neutral state (RFC 5025 §3.2.1: closed, no notes).
 */
export type WatcherVerdict = 'active' | 'pending' | 'rejected' | 'polite-block';

/**
 * The authorization hook every watcher admission goes through — SIP SUBSCRIBE and the browser WebSocket
 * alike — and that rendering asks whether a watcher gets neutral state. `watcher` is the watcher's identity
 * (see `watcherIdentity`), `presentity` a canonical AoR, `event` the package name. A package's own rule
 * (`EventPackage.authorize`, e.g. `reg`'s own-AoR rule) runs before it; implementations answer `active` for
 * the events they do not govern.
 */
export interface WatcherAuthorization {
  /** Decides a new subscription; may record the watcher as waiting for a decision. */
  authorize(watcher: string, presentity: string, event: string): Promise<WatcherVerdict>;
  /** Whether a subscription admitted before is now to get neutral state (polite blocking); synchronous, per render. */
  isPoliteBlocked(watcher: string, presentity: string, event: string): boolean;
}

const ALLOW_ALL: WatcherAuthorization = {
  authorize: () => Promise.resolve('active'),
  isPoliteBlocked: () => false,
};

/**
 * Holds the one {@link WatcherAuthorization} in use (the watcher policy service installs itself at start;
 * until then, and without it, every watcher is allowed). The SUBSCRIBE handler, the browser WebSocket gateway
 * and the notifier call through it, so the core knows no policy storage.
 */
@Injectable()
export class WatcherGate implements WatcherAuthorization {
  private impl: WatcherAuthorization = ALLOW_ALL;

  use(impl: WatcherAuthorization): void {
    this.impl = impl;
  }

  authorize(watcher: string, presentity: string, event: string): Promise<WatcherVerdict> {
    return this.impl.authorize(watcher, presentity, event);
  }

  isPoliteBlocked(watcher: string, presentity: string, event: string): boolean {
    return this.impl.isPoliteBlocked(watcher, presentity, event);
  }
}
