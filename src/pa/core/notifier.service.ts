import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { CLOCK } from '../../common/ports.module';
import type { Clock } from '../../sip';
import type { ContactView, EventPackage, NotifyBody, PresentityState, StateChange } from './event-package';
import { EventPackageRegistry } from './event-package.registry';
import { AorAttributesService } from '../../location/aor-attributes.service';
import { LocationService } from '../../location/location.service';
import type { Binding, ContactChange } from '../../location/binding';
import { PublicationStore } from './publication.store';
import type { Delivery, Subscription, TerminationReason, WatcherChannel, WatcherKind } from './subscription';
import { SubscriptionRegistry } from './subscription.registry';
import { bodyHash } from './body-hash';
import { ContentIndirectionService } from './content-indirection.service';
import { WatcherGate } from './watcher-gate';

function contactView(b: Binding, event = 'registered'): ContactView {
  return {
    id: b.id,
    uri: b.uri,
    ...(b.displayName !== undefined && { displayName: b.displayName }),
    ...(b.params !== undefined && { params: b.params }),
    expiresAt: b.expiresAt,
    q: b.q,
    instance: b.instance,
    ...(b.regId !== undefined && { regId: b.regId }),
    callId: b.callId,
    cseq: b.cseq,
    registeredAt: b.createdAt,
    event,
  };
}

function contactsChange(change: ContactChange): StateChange {
  return { kind: 'contacts', contacts: change.events.map((e) => contactView(e.binding, e.type)) };
}

interface Dirty {
  readonly presentity: string;
  readonly event: string;
  /** What caused the notification, oldest first; empty when the cause is not known. */
  readonly changes: StateChange[];
  /** States taken when changes arrived during a round, oldest first (see {@link Notifier.changed}). */
  readonly snapshots: PresentityState[];
}

/** States of one presentity kept in order while a round runs; past it the newest replaces the last. */
const SNAPSHOTS_KEPT = 4;

/** Deliveries of a fan-out between two turns of the event loop (about 2 ms of SIP NOTIFYs). */
const DELIVERIES_PER_TURN = 64;

/** Most turns of the event loop a fan-out gives to reading between two slices (see yieldTurn). */
const MAX_TURNS_PER_SLICE = 16;

const stateKey = (presentity: string, event: string): string => `${event}\u0000${presentity}`;

/**
 * The one notifier (DESIGN.md): every state change — PUBLISH, REGISTER, REST or WebSocket publish, later
 * profile uploads and B2B NOTIFYs — arrives here once as `changed(presentity, event)`. The notifier reads
 * the state once, has the package render a body per distinct Accept, and hands one delivery per watcher
 * to the channel of the watcher's kind (SIP NOTIFY, WebSocket `state`, in-process call).
 * Changes to one presentity within one tick are coalesced into one round of deliveries. A watcher whose
 * rendered body is the one it was last sent gets nothing (a REGISTER refresh changes no presence document),
 * unless the package asks to notify unchanged state.
 */
@Injectable()
export class Notifier implements OnModuleInit {
  private readonly log = new Logger('Notifier');
  private readonly channels = new Map<WatcherKind, WatcherChannel>();
  private readonly dirty = new Map<string, Dirty>();
  /** Subscriptions whose package state the last render replaced: their channel stores it with the delivery. */
  private readonly stateToSave = new WeakSet<Subscription>();
  /** The neutral state shown for a real one (one object per change, so its renders are shared). */
  private readonly neutralStates = new WeakMap<PresentityState, PresentityState>();
  private readonly neutral = new WeakSet<PresentityState>();
  private flushScheduled = false;
  private flushing = false;

  constructor(
    private readonly packages: EventPackageRegistry,
    private readonly publications: PublicationStore,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly location: LocationService,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly gate: WatcherGate,
    @Optional() private readonly attributes?: AorAttributesService,
    @Optional() private readonly indirection?: ContentIndirectionService,
  ) {}

  onModuleInit(): void {
    this.location.beforeCommit((change) => this.storeAhead(change.aor));
    this.location.onChange((change) => {
      let cause: StateChange | undefined;
      for (const pkg of this.packages.all()) {
        if (pkg.followsRegistrations) this.changed(change.aor, pkg.name, (cause ??= contactsChange(change)));
      }
    });
    this.attributes?.onChange(({ aor, key }) => {
      for (const pkg of this.packages.all()) {
        if (pkg.aorAttributes?.includes(key)) this.changed(aor, pkg.name, { kind: 'attributes', key });
      }
    });
  }

  /**
   * A registration change of an AoR is about to be committed: for each package that knows its watchers' next
   * state before rendering (a `reg` version), the state of every active watcher is stored in the same commit,
   * so that the NOTIFY this change causes goes out without waiting for a commit of its own.
   */
  private storeAhead(aor: string): Promise<unknown> | undefined {
    let writes: Promise<void>[] | undefined;
    for (const pkg of this.packages.all()) {
      if (!pkg.followsRegistrations || !pkg.nextState) continue;
      for (const sub of this.subscriptions.watchers(aor, pkg.name)) {
        if (sub.status !== 'active') continue;
        const write = this.channels.get(sub.kind)?.storeAhead?.(sub, pkg.nextState(sub.packageState));
        if (write) (writes ??= []).push(write);
      }
    }
    return writes && Promise.all(writes);
  }

  /** Registers the channel that delivers to watchers of one kind. */
  addChannel(channel: WatcherChannel): void {
    this.channels.set(channel.kind, channel);
  }

  /**
   * The state of a presentity for an event changed: every watcher gets the new state. `cause` says what
   * changed (for packages that render partial state).
   */
  changed(presentity: string, event: string, cause?: StateChange): void {
    if (!this.subscriptions.hasWatchers(presentity, event)) return;
    const key = stateKey(presentity, event);
    let entry = this.dirty.get(key);
    if (!entry) this.dirty.set(key, (entry = { presentity, event, changes: [], snapshots: [] }));
    if (cause) entry.changes.push(cause);
    // While a round runs this change waits for the next one; by then more may have come. A package whose
    // state can be read at once keeps this one as it is now, so that every change still reaches the watchers
    // in order (each PUBLISH its NOTIFY) rather than only the last of them.
    if (this.flushing) {
      const now = this.stateNow(presentity, event);
      if (now !== undefined) {
        if (entry.snapshots.length >= SNAPSHOTS_KEPT) entry.snapshots[SNAPSHOTS_KEPT - 1] = now;
        else entry.snapshots.push(now);
      }
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Gives the event loop a turn (new requests are read and answered) between slices of a fan-out, and more
   * turns while a channel's socket still holds messages (up to MAX_TURNS_PER_SLICE): a slice sends 64 NOTIFYs
   * whose 64 answers arrive together, and the event loop reads at most 32 datagrams of a socket per turn, so
   * without these turns the answers pile up in the socket and a PUBLISH or SUBSCRIBE waits behind them.
   */
  private async yieldTurn(): Promise<void> {
    let turns = 0;
    do await new Promise((resolve) => setImmediate(resolve));
    while (++turns < MAX_TURNS_PER_SLICE && this.inputPending());
  }

  private inputPending(): boolean {
    for (const c of this.channels.values()) if (c.inputPending?.() === true) return true;
    return false;
  }

  /**
   * The current state when it can be read without waiting: for packages that render one body for all watchers
   * from publications and contacts alone (no attributes, no stored document). Undefined otherwise.
   */
  private stateNow(presentity: string, event: string): PresentityState | undefined {
    const pkg = this.packages.get(event);
    if (!pkg || pkg.rendersPerWatcher || pkg.aorAttributes?.length || pkg.loadDocument) return undefined;
    return this.heldState(pkg, presentity, event, this.clock.now());
  }

  /** The part of a state held in memory: publications, and contacts for a package that follows registrations. */
  private heldState(pkg: EventPackage | undefined, presentity: string, event: string, now: number): PresentityState {
    return {
      presentity,
      event,
      publications: this.publications.find(presentity, event, now),
      contacts: pkg?.followsRegistrations
        ? this.location.lookup(presentity, undefined, now).map((b) => contactView(b))
        : [],
      document: undefined,
      now,
    };
  }

  /** Reads the current state of a presentity for an event (publications, contacts, package document). */
  async state(presentity: string, event: string, now = this.clock.now()): Promise<PresentityState> {
    const pkg = this.packages.get(event);
    return {
      ...this.heldState(pkg, presentity, event, now),
      ...(pkg?.aorAttributes?.length && { attributes: await this.attributesOf(presentity, pkg.aorAttributes) }),
      document: pkg?.loadDocument ? await pkg.loadDocument(presentity) : undefined,
    };
  }

  private async attributesOf(presentity: string, keys: readonly string[]): Promise<Record<string, string>> {
    const all = this.attributes ? await this.attributes.cached(presentity) : {};
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const k of keys) if (Object.hasOwn(all, k)) out[k] = all[k];
    return out;
  }

  /**
   * Sends the current state to one watcher (after SUBSCRIBE or a refresh, RFC 6665 §4.2.1): none while the
   * subscription is pending, a neutral one while the watcher is polite-blocked.
   */
  async notifyOne(sub: Subscription): Promise<void> {
    const state = this.shownTo(sub, await this.state(sub.presentity, sub.event));
    this.deliver(sub, state, this.render(sub, state, new Map()) ?? null);
  }

  /** Ends a subscription with a final delivery (NOTIFY terminated;reason=...); a rejected watcher gets no state. */
  async terminate(sub: Subscription, reason: TerminationReason | 'unsubscribed'): Promise<void> {
    const wasPending = sub.status === 'pending';
    sub.status = 'terminated';
    const state = this.shownTo(sub, await this.state(sub.presentity, sub.event));
    const body = reason === 'rejected' || wasPending ? null : (this.render(sub, state, new Map()) ?? null);
    this.deliver(sub, state, body, reason);
  }

  /**
   * The state a watcher is shown: the real one, or for a polite-blocked watcher (RFC 5025 §3.2.1) the state of
   * a presentity with nothing published and nothing registered — the package renders it (closed, no notes).
   */
  private shownTo(sub: Subscription, state: PresentityState): PresentityState {
    if (!this.gate.isPoliteBlocked(sub.watcher, sub.presentity, sub.event)) return state;
    let neutral = this.neutralStates.get(state);
    if (neutral === undefined) {
      neutral = { presentity: state.presentity, event: state.event, publications: [], contacts: [], now: state.now };
      this.neutralStates.set(state, neutral);
      this.neutral.add(neutral);
    }
    return neutral;
  }

  /**
   * Delivers the changes collected so far, presentity by presentity; changes that arrive meanwhile follow in
   * the next round (one round at a time, so a watcher never gets an older state after a newer one). A large
   * fan-out goes out in slices of DELIVERIES_PER_TURN with a turn of the event loop between them, so that a
   * PUBLISH or SUBSCRIBE arriving meanwhile is answered within a slice, not after the whole fan-out.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return; // the running round picks up what is dirty
    this.flushing = true;
    let sinceYield = 0;
    try {
      while (this.dirty.size > 0) {
        this.flushScheduled = false;
        const batch = [...this.dirty.values()];
        this.dirty.clear();
        for (const { presentity, event, changes, snapshots } of batch) {
          try {
            const states = snapshots.length > 0 ? snapshots : [await this.state(presentity, event)];
            const always = this.packages.get(event)?.notifiesUnchanged === true;
            for (const state of states) {
              const watchers = this.subscriptions.watchers(presentity, event);
              if (watchers.length === 0) break;
              const bodies = new Map<string, NotifyBody | null | undefined>();
              for (const sub of watchers) {
                if (sub.status !== 'active') continue;
                const shown = this.shownTo(sub, state);
                const body = this.render(sub, shown, bodies, shown === state ? changes : undefined);
                if (body === undefined || (!always && sub.lastBodyHash === bodyHash(body))) continue;
                this.deliver(sub, shown, body, undefined, always);
                if (++sinceYield >= DELIVERIES_PER_TURN) {
                  sinceYield = 0;
                  await this.yieldTurn();
                }
              }
            }
          } catch (e) {
            this.log.error(`notifying watchers of ${presentity} (${event}) failed: ${(e as Error).stack ?? String(e)}`);
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * The body for one watcher: rendered once per distinct Accept and shared, or for each watcher when the
   * package renders per watcher. `changes` absent asks for full state.
   */
  private render(
    sub: Subscription,
    state: PresentityState,
    cache: Map<string, NotifyBody | null | undefined>,
    changes?: readonly StateChange[],
  ): NotifyBody | null | undefined {
    // RFC 6665 §4.2.2 / RFC 3856 §6.6.2: a pending subscription's NOTIFY carries no state.
    if (sub.status === 'pending') return null;
    const pkg = this.packages.get(sub.event);
    if (!pkg) return null;
    if (pkg.rendersPerWatcher) return this.renderFor(pkg, sub, state, changes);
    const k = this.neutral.has(state) ? `\u0000neutral\u0000${sub.accept.join(',')}` : sub.accept.join(',');
    if (cache.has(k)) return cache.get(k);
    const body = this.renderFor(pkg, sub, state, changes);
    cache.set(k, body);
    return body;
  }

  private renderFor(
    pkg: EventPackage,
    sub: Subscription,
    state: PresentityState,
    changes?: readonly StateChange[],
  ): NotifyBody | null | undefined {
    const watcher = {
      kind: sub.kind,
      uri: sub.watcher,
      accept: sub.accept,
      ...(sub.eventParams && { eventParams: sub.eventParams }),
      ...(pkg.rendersPerWatcher && { session: sub }),
    };
    const before = sub.packageState;
    const body = pkg.render(state, watcher, changes);
    if (sub.packageState !== before) this.stateToSave.add(sub);
    return body;
  }

  private deliver(
    sub: Subscription,
    state: PresentityState,
    body: NotifyBody | null,
    terminated?: TerminationReason | 'unsubscribed',
    unchangedToo = this.packages.get(sub.event)?.notifiesUnchanged === true,
  ): void {
    // Kept only to skip unchanged state: a package that notifies it anyway keeps nothing per watcher.
    if (!unchangedToo) sub.lastBodyHash = bodyHash(body);
    // Content indirection (RFC 4483) replaces the bytes by a pointer for a watcher that asked for it.
    const sent = this.indirection?.wanted(sub.accept, body) ? this.indirection.externalBody(sub.event, body) : body;
    const stateChanged = this.stateToSave.delete(sub);
    // One shape for every delivery (no spread): thousands a second are made under fan-out.
    const delivery: Delivery = {
      subscription: sub,
      state,
      body: sent,
      terminated,
      expires: Math.max(0, Math.ceil((sub.expiresAt - state.now) / 1000)),
      packageStateChanged: stateChanged || undefined,
      packageState: stateChanged ? sub.packageState : undefined,
    };
    if (sub.kind === 'internal') {
      sub.deliver(delivery);
      return;
    }
    const channel = this.channels.get(sub.kind);
    if (!channel) {
      this.log.warn(`no channel delivers to ${sub.kind} watchers`);
      return;
    }
    channel.deliver(delivery);
  }
}
