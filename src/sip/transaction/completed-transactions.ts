import type { Clock } from '../ports/clock';

/**
 * The Completed state of non-INVITE server transactions on unreliable transports, kept as small records
 * instead of transaction objects: the last response for Timer J (64*T1 = 32 s, RFC 3261 §17.2.2). In that
 * state a transaction does nothing but answer retransmitted requests with its response, so a string is all
 * it needs (a client transaction's Completed state keeps nothing at all, see SipStack); at a few thousand requests a second tens of thousands are held, and an object with
 * timers and callbacks for each would cost three times the memory and the collector's time.
 *
 * Every record of one table lives for the same delay, so they expire in the order they were added: a FIFO
 * of keys and deadlines, pruned whenever the table is used and by the stack's timer. A key added again while held keeps the first
 * deadline (branches are unique per transaction, RFC 3261 §8.1.1.7).
 */
export class CompletedTransactions {
  private readonly records = new Map<string, string>();
  private keys: string[] = [];
  private deadlines: number[] = [];
  private head = 0;

  constructor(
    private readonly clock: Clock,
    /** How long a record is held, in ms (Timer J or Timer K). */
    private readonly delay: number,
  ) {}

  /** Holds `key` with its last response (latin1 text of the bytes). */
  add(key: string, response: string): void {
    this.prune();
    if (this.records.has(key)) return;
    this.records.set(key, response);
    this.keys.push(key);
    this.deadlines.push(this.clock.now() + this.delay);
  }

  /** The record of `key` while its timer runs, else undefined. */
  get(key: string): string | undefined {
    this.prune();
    return this.records.get(key);
  }

  /** Records held now. */
  get size(): number {
    this.prune();
    return this.records.size;
  }

  /** Drops every record. */
  clear(): void {
    this.records.clear();
    this.keys = [];
    this.deadlines = [];
    this.head = 0;
  }

  /** Drops the records whose timer has run out (also done whenever the table is used). */
  prune(): void {
    const now = this.clock.now();
    const keys = this.keys;
    let head = this.head;
    while (head < keys.length && this.deadlines[head] <= now) {
      this.records.delete(keys[head]);
      keys[head] = '';
      head++;
    }
    if (head === this.head) return;
    if (head >= 1024 && head * 2 >= keys.length) {
      // Reclaim the consumed front once it is at least half of the arrays.
      this.keys = keys.slice(head);
      this.deadlines = this.deadlines.slice(head);
      head = 0;
    } else if (head === keys.length) {
      this.keys = [];
      this.deadlines = [];
      head = 0;
    }
    this.head = head;
  }
}

/** The bytes of a response as the latin1 text a {@link CompletedTransactions} record holds, and back. */
export function responseText(data: Buffer): string {
  return data.toString('latin1');
}

export function responseBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
