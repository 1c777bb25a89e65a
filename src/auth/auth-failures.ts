/** Why an authentication failed; the words after `reason=` in the log line. */
export type AuthFailureReason =
  | 'unknown-user'
  | 'wrong-password'
  | 'realm-mismatch'
  | 'bad-nonce'
  | 'nonce-reused'
  | 'no-qop'
  | 'algorithm'
  | 'malformed';

/** One failed authentication. */
export interface AuthFailure {
  readonly source: string;
  readonly port: number;
  /** `user@domain` as the credentials named it (empty when none could be read). */
  readonly user: string;
  readonly method: string;
  readonly reason: AuthFailureReason;
}

/** Where the lines go (the application's logger at warn level). */
export type AuthFailureSink = (line: string, fields: AuthFailure & { readonly count: number }) => void;

/** Keeps only what a log line may safely hold: printable ASCII without quotes or spaces, at most 128 chars. */
function safe(text: string): string {
  return text.replace(/[^\x21-\x7e]|"/g, '?').slice(0, 128) || '-';
}

/**
 * The log line of a failed authentication, one per failure, stable for fail2ban:
 * `auth failure: src=<ip> port=<port> user=<user@domain> method=<METHOD> reason=<reason> count=<n>`,
 * e.g. `failregex = auth failure: src=<HOST> `.
 */
export function failureLine(f: AuthFailure, count: number): string {
  return (
    `auth failure: src=${safe(f.source)} port=${f.port} user=${safe(f.user)} method=${safe(f.method)} ` +
    `reason=${f.reason} count=${count}`
  );
}

/** A count per key in a bounded map, oldest keys dropped first. */
class BoundedCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity: number) {}

  add(key: string): number {
    const n = (this.counts.get(key) ?? 0) + 1;
    if (n === 1 && this.counts.size >= this.capacity) {
      const oldest = this.counts.keys().next();
      if (oldest.done !== true) this.counts.delete(oldest.value);
    }
    this.counts.set(key, n);
    return n;
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}

/**
 * Failed authentications, counted per source address and per user in memory (bounded), each logged as one
 * line ({@link failureLine}) for fail2ban and the like.
 */
export class AuthFailures {
  private readonly bySource: BoundedCounts;
  private readonly byUser: BoundedCounts;
  private totalCount = 0;

  constructor(
    private readonly sink: AuthFailureSink,
    capacity = 10_000,
  ) {
    this.bySource = new BoundedCounts(capacity);
    this.byUser = new BoundedCounts(capacity);
  }

  record(f: AuthFailure): void {
    this.totalCount++;
    const count = this.bySource.add(f.source);
    if (f.user !== '') this.byUser.add(f.user);
    this.sink(failureLine(f, count), { ...f, count });
  }

  /** Failures counted for a source address since start (or since it was dropped from the table). */
  forSource(source: string): number {
    return this.bySource.get(source);
  }

  /** Failures counted for `user@domain`. */
  forUser(user: string): number {
    return this.byUser.get(user);
  }

  get total(): number {
    return this.totalCount;
  }
}
