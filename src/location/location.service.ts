import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CLOCK, every } from '../common/ports.module';
import type { Clock } from '../sip';
import { DomainError } from '../common/domain-error';
import { ExpiryQueue } from '../common/expiry-queue';
import { KeyedMutex } from '../common/keyed-mutex';
import type { Binding, ContactChange, ContactEvent } from './binding';
import { LocationRepository } from './location.repository';

export type ContactChangeListener = (change: ContactChange) => void;

/**
 * Told of a change before it is committed; may queue writes of its own at once (not after an await), which
 * then join the change's group commit. The change is announced once they are committed too.
 */
export type ContactChangeRider = (change: ContactChange) => Promise<unknown> | undefined;

/** The earliest expiry among bindings. */
function earliest(bindings: readonly Binding[]): number {
  let min = Infinity;
  for (const b of bindings) if (b.expiresAt < min) min = b.expiresAt;
  return min;
}

/**
 * The location service (usrloc): bindings per location domain and AoR, cached in memory and written
 * through to the database before any change is acknowledged. Every change is announced to listeners as a
 * {@link ContactChange} after it is committed; this is how the presence core and later the reginfo
 * modules learn of registrations without the location service knowing them.
 */
@Injectable()
export class LocationService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(LocationService.name);
  /** domain → aor → bindings. */
  private readonly cache = new Map<string, Map<string, Binding[]>>();
  private readonly listeners: ContactChangeListener[] = [];
  private readonly riders: ContactChangeRider[] = [];
  private readonly locks = new KeyedMutex();
  /** connection id → `domain\u0000aor` of the bindings registered over it. */
  private readonly byConnection = new Map<string, Set<string>>();
  private stopSweeps: (() => void) | undefined;
  private sweeping = false;
  /** How many AoRs have bindings (the live entries of `expiry`). */
  private liveLists = 0;
  /** Each AoR's binding list, by its earliest expiry: the sweep looks only at lists that have something due. */
  private readonly expiry = new ExpiryQueue<Binding[]>();

  constructor(
    private readonly repo: LocationRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const b of await this.repo.loadAll()) this.put(b.domain, b.aor, [...this.get(b.domain, b.aor), b]);
  }

  onApplicationBootstrap(): void {
    // First sweep at once: what expired while the server was down is removed and announced.
    void this.sweep();
    this.stopSweeps = every(this.clock, this.config.registrar.timerInterval * 1000, () => void this.sweep());
  }

  onModuleDestroy(): void {
    this.stopSweeps?.();
  }

  /** The time of the location service's clock (epoch ms), for the registrar's decisions. */
  now(): number {
    return this.clock.now();
  }

  /** Subscribes to committed binding changes. */
  onChange(listener: ContactChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Subscribes to binding changes about to be committed, for writes that belong in the same commit (state
   * that the change's notifications will carry). A rider's failed write does not fail the change.
   */
  beforeCommit(rider: ContactChangeRider): void {
    this.riders.push(rider);
  }

  /** Live bindings of an AoR, highest q first. */
  lookup(aor: string, domain = this.config.registrar.defaultDomain, now = this.clock.now()): Binding[] {
    return this.get(domain, aor)
      .filter((b) => b.expiresAt > now)
      .sort((a, b) => (b.q ?? 1) - (a.q ?? 1));
  }

  /** Whether a binding was registered over this connection (it must stay open while the binding lives). */
  hasBindingsOn(connectionId: string): boolean {
    return this.byConnection.has(connectionId);
  }

  /** Every AoR with bindings, in a stable order, for paging. */
  aors(domain?: string): { domain: string; aor: string }[] {
    const out: { domain: string; aor: string }[] = [];
    for (const [d, aors] of this.cache) {
      if (domain && d !== domain) continue;
      for (const aor of aors.keys()) out.push({ domain: d, aor });
    }
    return out.sort((a, b) => (a.domain === b.domain ? a.aor.localeCompare(b.aor) : a.domain.localeCompare(b.domain)));
  }

  /**
   * Runs `decide` under the AoR's lock with its current bindings; commits what it returns, updates the
   * cache and announces the events. `decide` may throw to refuse the change (nothing is written).
   */
  async update<T>(
    domain: string,
    aor: string,
    decide: (current: readonly Binding[]) => { next: Binding[]; events: ContactEvent[]; result: T },
  ): Promise<T> {
    return this.locks.run(`${domain}\u0000${aor}`, async () => {
      const current = this.get(domain, aor);
      const { next, events, result } = decide(current);
      const nextIds = new Set(next.map((b) => b.id));
      const deleted = current.filter((b) => !nextIds.has(b.id)).map((b) => b.id);
      const changed = next.filter((b) => !current.includes(b));
      const write = this.repo.apply(changed, deleted, current);
      const change: ContactChange | undefined = events.length ? { domain, aor, events, bindings: next } : undefined;
      const riding = change && this.riders.length ? this.ride(change) : undefined;
      await (riding ? Promise.all([write, ...riding]) : write);
      this.put(domain, aor, next);
      if (change) this.emit(change);
      return result;
    });
  }

  /**
   * Removes one binding by administrative action (REST); announced as `deactivated` (RFC 3680 §5.2: the
   * registrar removed it, the device may register again).
   */
  async remove(domain: string, aor: string, id: string): Promise<void> {
    await this.update(domain, aor, (current) => {
      const target = current.find((b) => b.id === id);
      if (!target) throw new DomainError(404, `contact ${id} is not bound to ${aor}`, 'id');
      return {
        next: current.filter((b) => b !== target),
        events: [{ type: 'deactivated', binding: target }],
        result: undefined,
      };
    });
  }

  /**
   * A connection closed: its bindings that only that connection can reach go, announced as
   * `deactivated` — outbound flows (reg-id, RFC 5626 §5.3) and WebSocket contacts (RFC 7118 §5: their
   * `.invalid` Contact cannot be connected to). Other TCP bindings stay: their Contact can be reached anew.
   */
  async flowClosed(connectionId: string): Promise<void> {
    const keys = this.byConnection.get(connectionId);
    if (!keys) return;
    const lost = (b: Binding): boolean =>
      b.source.connectionId === connectionId &&
      (b.regId !== undefined || b.source.protocol === 'ws' || b.source.protocol === 'wss');
    for (const key of [...keys]) {
      const [domain, aor] = key.split('\u0000') as [string, string];
      if (!this.get(domain, aor).some(lost)) continue;
      await this.update(domain, aor, (current) => {
        const gone = current.filter(lost);
        return {
          next: current.filter((b) => !gone.includes(b)),
          events: gone.map((binding) => ({ type: 'deactivated' as const, binding })),
          result: undefined,
        };
      });
    }
  }

  /** Removes expired bindings and announces them as `expired`. */
  async sweep(now = this.clock.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let removed = 0;
    try {
      const live = (list: Binding[]): boolean => list.length > 0 && this.get(list[0].domain, list[0].aor) === list;
      const due = this.expiry.due(now, (list) => (live(list) ? earliest(list) : undefined));
      this.expiry.compact(this.liveLists, live);
      for (const list of due) {
        const { domain, aor } = list[0];
        try {
          removed += await this.update(domain, aor, (current) => {
            const gone = current.filter((b) => b.expiresAt <= now);
            return {
              next: current.filter((b) => b.expiresAt > now),
              events: gone.map((binding) => ({ type: 'expired' as const, binding })),
              result: gone.length,
            };
          });
        } catch (e) {
          this.log.error(`expiry sweep of ${aor} failed: ${(e as Error).message}`);
        }
        // Not replaced (the write failed): due again at the next sweep.
        if (this.get(domain, aor) === list) this.expiry.push(list, earliest(list));
      }
    } finally {
      this.sweeping = false;
    }
    return removed;
  }

  private get(domain: string, aor: string): Binding[] {
    return this.cache.get(domain)?.get(aor) ?? [];
  }

  private put(domain: string, aor: string, bindings: Binding[]): void {
    let aors = this.cache.get(domain);
    if (!aors) this.cache.set(domain, (aors = new Map<string, Binding[]>()));
    const key = `${domain}\u0000${aor}`;
    for (const b of aors.get(aor) ?? []) this.unindex(b.source.connectionId, key);
    const had = aors.has(aor);
    if (bindings.length) {
      aors.set(aor, bindings);
      this.expiry.push(bindings, earliest(bindings));
    } else aors.delete(aor);
    this.liveLists += (bindings.length ? 1 : 0) - (had ? 1 : 0);
    for (const b of bindings) {
      const id = b.source.connectionId;
      if (id === undefined) continue;
      let keys = this.byConnection.get(id);
      if (!keys) this.byConnection.set(id, (keys = new Set<string>()));
      keys.add(key);
    }
  }

  private unindex(connectionId: string | undefined, key: string): void {
    if (connectionId === undefined) return;
    const keys = this.byConnection.get(connectionId);
    keys?.delete(key);
    if (keys?.size === 0) this.byConnection.delete(connectionId);
  }

  /** The riders' writes for a change, each failure logged and not passed on. */
  private ride(change: ContactChange): Promise<unknown>[] {
    const out: Promise<unknown>[] = [];
    const failed = (e: unknown): void => {
      this.log.warn(`write riding on the change of ${change.aor} failed: ${(e as Error).message}`);
    };
    for (const r of this.riders) {
      try {
        const w = r(change);
        if (w) out.push(w.catch(failed));
      } catch (e) {
        failed(e);
      }
    }
    return out;
  }

  private emit(change: ContactChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        this.log.error(`contact listener failed: ${(e as Error).message}`);
      }
    }
  }
}
