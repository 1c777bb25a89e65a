import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Options of a {@link RateLimiter}. */
export interface RateLimitOptions {
  /** Requests per second each key may make on average; 0 turns the limit off. */
  readonly perSecond: number;
  /** Requests a key may make at once after being quiet (the bucket's size); at least 1. */
  readonly burst: number;
  /** Keys tracked at most; past it the least recently seen key is forgotten (it starts again with a full bucket). */
  readonly maxKeys: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets per key (a source address, an identity): each key may make `burst` requests at once and
 * `perSecond` on average. Memory is bounded: the buckets live in a Map kept in order of last use, and the
 * least recently used one is dropped when `maxKeys` are held — a forgotten key only regains a full bucket,
 * which a key that is being limited never is (it is used, so it is recent).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly options: RateLimitOptions) {
    this.perMs = options.perSecond / 1000;
  }

  /** Whether the limit is on. */
  get enabled(): boolean {
    return this.options.perSecond > 0;
  }

  /** Keys held. */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one request of `key`: 0 when it may proceed, else the seconds (at least 1) after which one more
   * would (the Retry-After of the refusal).
   */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.options.now();
    const burst = Math.max(1, this.options.burst);
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: burst, at: now };
      if (this.buckets.size >= this.options.maxKeys) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    } else {
      b.tokens = Math.min(burst, b.tokens + Math.max(0, now - b.at) * this.perMs);
      b.at = now;
      // Moved to the end: the Map's order is the order of last use.
      this.buckets.delete(key);
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000));
  }
}

/** `::ffff:192.0.2.1` (an IPv4 client of a dual-stack socket) → `192.0.2.1`. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** Addresses whose answer {@link AddressSet} remembers at most; past it the memory starts afresh. */
const ANSWERS_MAX = 10_000;

/**
 * Source addresses a limit does not apply to: single addresses and CIDR prefixes (`10.0.0.0/8`,
 * `2001:db8::/32`), and loopback when asked. Built on Node's {@link BlockList}, whose check costs some
 * microseconds (it builds address objects): answers are remembered per address string, so the SIP hot path
 * pays a Map look-up.
 */
export class AddressSet {
  private readonly list = new BlockList();
  private empty = true;
  private readonly answers = new Map<string, boolean>();

  constructor(entries: readonly string[], loopback: boolean) {
    for (const e of loopback ? ['127.0.0.0/8', '::1', ...entries] : entries) this.add(e);
  }

  has(address: string): boolean {
    if (this.empty) return false;
    let answer = this.answers.get(address);
    if (answer === undefined) {
      const a = plainAddress(address);
      answer = isIPv4(a) ? this.list.check(a, 'ipv4') : isIPv6(a) ? this.list.check(a, 'ipv6') : false;
      if (this.answers.size >= ANSWERS_MAX) this.answers.clear();
      this.answers.set(address, answer);
    }
    return answer;
  }

  private add(entry: string): void {
    const [address = '', prefix] = entry.split('/');
    const type = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (type === undefined) throw new Error(`${entry} is not an IP address or CIDR prefix`);
    if (prefix === undefined) this.list.addAddress(address, type);
    else this.list.addSubnet(address, Number(prefix), type);
    this.empty = false;
  }
}
