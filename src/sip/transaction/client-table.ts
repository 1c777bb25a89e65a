/** What the table keeps: a client transaction, known by its key (branch of its top Via | method). */
export interface KeyedTransaction {
  readonly key: string;
}

/** Marks a slot claimed for a transaction not yet put in it. */
const CLAIMED = { key: '' };

/** Separates the random part of a branch from the slot number (base 36) it carries. */
const SLOT_MARK = '.';

/**
 * The client transactions of a stack by slot: a transaction's branch names its slot (`<random>.<slot>`, see
 * {@link branchFor}), so a response finds its transaction by index, and the full key (branch | method) decides
 * the match (RFC 3261 §17.1.3). Slots are reused, never the random part: a late response to an ended
 * transaction finds another key in its slot and matches nothing.
 * A Map keyed by the branch did the same, but a Map whose entries come and go tens of thousands of times a
 * second while hundreds stay in flight re-hashes into a new backing table every few hundred insertions, and
 * those tables outlive young-generation collections: a quarter of the bytes that survived them under fan-out.
 * Here only two arrays grow, to the most transactions ever in flight at once.
 */
export class ClientTable<T extends KeyedTransaction> {
  private readonly slots: (T | typeof CLAIMED | undefined)[] = [];
  private readonly free: number[] = [];
  private live = 0;

  /** Transactions put and not removed. */
  get size(): number {
    return this.live;
  }

  /** A slot for a new transaction, to be named in its branch; `put` it or `release` it. */
  claim(): number {
    const slot = this.free.pop() ?? this.slots.length;
    this.slots[slot] = CLAIMED;
    return slot;
  }

  /** The branch of a transaction in `slot`: `random` (a fresh branch) with the slot number. */
  static branchFor(random: string, slot: number): string {
    return `${random}${SLOT_MARK}${slot.toString(36)}`;
  }

  /** The slot a branch names, or -1 for a branch that names none (not one of ours). */
  static slotOf(branch: string): number {
    const mark = branch.lastIndexOf(SLOT_MARK);
    if (mark === -1 || mark === branch.length - 1 || branch.length - mark > 8) return -1;
    let slot = 0;
    for (let i = mark + 1; i < branch.length; i++) {
      const c = branch.charCodeAt(i);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 122 ? c - 87 : -1;
      if (digit === -1) return -1;
      slot = slot * 36 + digit;
    }
    return slot;
  }

  /** Puts `tx` in the slot claimed for it. */
  put(slot: number, tx: T): void {
    if (this.slots[slot] !== CLAIMED) throw new Error(`client slot ${slot} was not claimed`);
    this.slots[slot] = tx;
    this.live++;
  }

  /** The transaction in `slot` when its key is `key`. */
  get(slot: number, key: string): T | undefined {
    const tx = slot >= 0 && slot < this.slots.length ? this.slots[slot] : undefined;
    return tx !== undefined && tx !== CLAIMED && tx.key === key ? (tx as T) : undefined;
  }

  /** Removes the transaction `key` from `slot` (nothing when another one is there) and frees the slot. */
  remove(slot: number, key: string): void {
    if (this.get(slot, key) === undefined) return;
    this.slots[slot] = undefined;
    this.live--;
    this.free.push(slot);
  }

  /** Frees a slot claimed and never put (nothing when a transaction is in it). */
  release(slot: number): void {
    if (this.slots[slot] !== CLAIMED) return;
    this.slots[slot] = undefined;
    this.free.push(slot);
  }

  /** The transactions in the table, as a copy. */
  values(): T[] {
    const out: T[] = [];
    for (const tx of this.slots) if (tx !== undefined && tx !== CLAIMED) out.push(tx as T);
    return out;
  }
}
