/**
 * The presence core wired by hand with its real classes and in-memory fakes for the database and the
 * location service, for unit tests of code on top of it (REST controllers, the browser WebSocket).
 */
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { AppConfig } from '../../src/config/app-config';
import type { LocationService } from '../../src/location/location.service';
import { EventPackageRegistry } from '../../src/pa/core/event-package.registry';
import { Notifier } from '../../src/pa/core/notifier.service';
import { WatcherGate } from '../../src/pa/core/watcher-gate';
import type { Publication } from '../../src/pa/core/publication';
import type { PublicationRepository } from '../../src/pa/core/publication.repository';
import { PublicationStore } from '../../src/pa/core/publication.store';
import { PublishService } from '../../src/pa/core/publish.service';
import { SubscriptionRegistry } from '../../src/pa/core/subscription.registry';
import type { InternalSubscription } from '../../src/pa/core/subscription';
import type { StoredInternal, SubscriptionRepository } from '../../src/pa/core/subscription.repository';
import { SubscriptionService } from '../../src/pa/core/subscription.service';
import { createPresencePackage } from '../../src/pa/presence/presence.package';
import { cryptoRandom, systemClock, type Clock, type Random } from '../../src/sip';

export interface PresenceCore {
  readonly packages: EventPackageRegistry;
  readonly store: PublicationStore;
  readonly notifier: Notifier;
  readonly publisher: PublishService;
  readonly registry: SubscriptionRegistry;
  readonly subscriptions: SubscriptionService;
  /** The time and randomness ports every part was given. */
  readonly clock: Clock;
  readonly random: Random;
  /** The fake subscription repository (keeps internal watchers in `storedInternal`). */
  readonly subRepo: SubscriptionRepository;
  /** Publications as the fake repository holds them (committed). */
  readonly committed: Map<string, Publication>;
  /** Internal watchers as the fake repository holds them (committed). */
  readonly storedInternal: Map<string, StoredInternal>;
  /** The watcher authorization hook (allow-all until a policy is installed with `use`). */
  readonly gate: WatcherGate;
}

/**
 * `limits`: the publication cap (default 16) and the presence package's largest body (default 64 KiB);
 * `clock` and `random`: the ports (default the system clock and crypto randomness; a `FakeClock` for expiry).
 */
export function createPresenceCore(
  limits: {
    maxPublicationsPerPresentity?: number;
    publishMaxBodySize?: number;
    clock?: Clock;
    random?: Random;
  } = {},
): PresenceCore {
  const clock = limits.clock ?? systemClock;
  const random = limits.random ?? cryptoRandom;
  const committed = new Map<string, Publication>();
  const storedInternal = new Map<string, StoredInternal>();
  const pubRepo = {
    loadAll: () => Promise.resolve([...committed.values()]),
    save: (p: Publication) => {
      committed.set(p.id, p);
      return Promise.resolve();
    },
    remove: (id: string) => {
      committed.delete(id);
      return Promise.resolve();
    },
  } as unknown as PublicationRepository;
  const subRepo = {
    loadSip: () => Promise.resolve([]),
    loadInternal: () => Promise.resolve([...storedInternal.values()]),
    save: () => Promise.resolve(),
    saveInternal: (s: InternalSubscription) => {
      const { deliver: _deliver, ...stored } = s;
      storedInternal.set(s.id, stored);
      return Promise.resolve();
    },
    remove: (id: string) => {
      storedInternal.delete(id);
      return Promise.resolve();
    },
  } as unknown as SubscriptionRepository;
  const location = { onChange: () => undefined, lookup: () => [] } as unknown as LocationService;
  const packages = new EventPackageRegistry();
  packages.add(
    createPresencePackage({
      defaultExpires: 3600,
      minExpires: 60,
      maxExpires: 7200,
      publishMinExpires: 60,
      publishMaxExpires: 7200,
      registrarSource: false,
      ...(limits.publishMaxBodySize !== undefined && { publishMaxBodySize: limits.publishMaxBodySize }),
    }),
  );
  const store = new PublicationStore(pubRepo, clock);
  const registry = new SubscriptionRegistry();
  const gate = new WatcherGate();
  const notifier = new Notifier(packages, store, registry, location, clock, gate);
  const publisher = new PublishService(
    packages,
    store,
    notifier,
    {
      pa: { maxPublicationsPerPresentity: limits.maxPublicationsPerPresentity ?? 16 },
    } as AppConfig,
    clock,
    random,
  );
  const subscriptions = new SubscriptionService(registry, subRepo, notifier, clock);
  return {
    packages,
    store,
    notifier,
    publisher,
    registry,
    subscriptions,
    subRepo,
    committed,
    storedInternal,
    clock,
    random,
    gate,
  };
}

/** A `ws` WebSocket stand-in: records what the server sends, lets the test play the browser. */
export class FakeSocket extends EventEmitter {
  readyState: number = 1;
  bufferedAmount = 0;
  readonly sent: Record<string, unknown>[] = [];
  pings = 0;
  terminated = false;

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  ping(): void {
    this.pings++;
  }

  terminate(): void {
    this.terminated = true;
    this.close();
  }

  close(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }

  /** The browser sends a text frame. */
  receive(message: unknown): void {
    this.emit('message', Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), false);
  }

  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}

/** Resolves when `predicate` holds, polling across event-loop turns (no timers to fake). */
export async function until(predicate: () => boolean, what = 'condition', limitMs = 2000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
