import { randomBytes } from 'node:crypto';
import type { Clock } from '../ports/clock';

/** Records a generation makes room for at first; it doubles its arrays as it fills. */
const FIRST_CAPACITY = 256;
/**
 * A generation takes records for 1/GENERATIONS_PER_DELAY of the delay, and at most MAX_GENERATION of them. A new
 * request looks in every generation (its filter, a cache miss each): with 16 a stretch, 17 generations were
 * live at any rate below 8,000 requests a second; with 4, 5 to 7. A generation is dropped once its last record
 * is past its deadline, so records are held up to a quarter of the delay longer (not returned meanwhile).
 */
const GENERATIONS_PER_DELAY = 4;
const MAX_GENERATION = 32_768;
/** Marks a record whose tag is not kept as a number (see {@link Generation.tags}). */
const NO_TAG = -1;
/**
 * Bits of each generation's filter. A new request misses every generation, and a miss in a table of thousands
 * of records costs a cache miss or two. The filter, two bits per key (one from each hash), answers most misses
 * from one read: with 32,768 records (the most a generation takes) one key in 70 still looks in the table, with
 * 10,000 one in 700. 64 KiB per generation.
 */
const FILTER_BITS = 1 << 19;
const FILTER_MASK = FILTER_BITS - 1;

function isSet(filter: Uint32Array, bit: number): boolean {
  return (filter[bit >>> 5] & (1 << (bit & 31))) !== 0;
}

/**
 * The two 32-bit hashes of a key, from one pass over it (FNV-1a and a second multiply-xor hash, each from its own
 * seed, then mixed): a record is found by both, so two keys are taken for one another only if all 64 bits agree
 * (for 200,000 records held, about once in 10^14 lookups; the seeds are random per table, so such keys cannot be
 * made on purpose). Left in `hashFirst` and `hashSecond` (no array per lookup).
 */
let hashFirst = 0;
let hashSecond = 0;
function hashKey(key: string, seedFirst: number, seedSecond: number): void {
  let h = 0x811c9dc5 ^ seedFirst;
  let g = seedSecond;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h = Math.imul(h ^ c, 0x01000193);
    g = Math.imul(g ^ c, 0x5bd1e995);
    g ^= g >>> 15;
  }
  hashFirst = mix(h);
  hashSecond = mix(g ^ key.length);
}

/** The final mix of MurmurHash3 (every input bit reaches every output bit). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** `tag` as a number when it is 12 lowercase hex digits (the tags this stack makes), else NO_TAG. */
function tagNumber(tag: string): number {
  if (tag.length !== 12) return NO_TAG;
  let n = 0;
  for (let i = 0; i < 12; i++) {
    const c = tag.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return NO_TAG;
    n = n * 16 + digit;
  }
  return n;
}

/**
 * The records added within one stretch of time, in the order they were added, held in typed arrays and one array
 * of shared texts: no object per record for the collector to visit (a record was three: its key, and its text as
 * a pair of the shared part and our tag, which at a few thousand requests a second doubled the objects a full
 * collection marked), and 48 bytes per record (and the filter) instead of ~190.
 */
class Generation {
  count = 0;
  /** Per record: both hashes of its key, its deadline, our tag as a number (or NO_TAG). */
  private first = new Int32Array(FIRST_CAPACITY);
  private second = new Int32Array(FIRST_CAPACITY);
  deadlines = new Float64Array(FIRST_CAPACITY);
  private tags = new Float64Array(FIRST_CAPACITY);
  /** Per record: its text (the shared part when the tag is a number, else all of it). */
  private readonly texts: string[] = [];
  /**
   * Open addressing (linear probing), two int32 per slot: the key's first hash and the record's index + 1 (0: an
   * empty slot). At most half full; nothing is ever removed.
   */
  private slots = new Int32Array(4 * FIRST_CAPACITY);
  /** Two bits per key held, from its two hashes: a key with either bit clear is not here. */
  private readonly filter = new Uint32Array(FILTER_BITS / 32);

  constructor(
    /** When the generation stops taking records. */
    readonly closesAt: number,
  ) {}

  /** Adds the record of the key whose hashes are in hashFirst/hashSecond; an earlier record of it is replaced. */
  add(text: string, tag: string | undefined, deadline: number): void {
    const at = this.count;
    if (at === this.deadlines.length) this.grow();
    const number = tag === undefined ? NO_TAG : tagNumber(tag);
    this.first[at] = hashFirst;
    this.second[at] = hashSecond;
    this.deadlines[at] = deadline;
    this.tags[at] = number;
    this.texts.push(tag === undefined || number !== NO_TAG ? text : text + tag);
    this.count = at + 1;
    this.place(at);
    const first = hashFirst & FILTER_MASK;
    const second = hashSecond & FILTER_MASK;
    this.filter[first >>> 5] |= 1 << (first & 31);
    this.filter[second >>> 5] |= 1 << (second & 31);
  }

  /** Index of the record of the key whose hashes are in hashFirst/hashSecond, or -1. */
  find(): number {
    if (!isSet(this.filter, hashFirst & FILTER_MASK) || !isSet(this.filter, hashSecond & FILTER_MASK)) return -1;
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    for (let i = hashFirst & mask; ; i = (i + 1) & mask) {
      const index = slots[2 * i + 1];
      if (index === 0) return -1;
      if (slots[2 * i] === hashFirst && this.second[index - 1] === hashSecond) return index - 1;
    }
  }

  /** The record at `index`: its text with our tag. */
  record(index: number): string {
    const tag = this.tags[index];
    const text = this.texts[index];
    return tag === NO_TAG ? text : text + tag.toString(16).padStart(12, '0');
  }

  /** Puts record `at` in its slot (over an earlier record of the same key), growing the slots past half full. */
  private place(at: number): void {
    if (2 * this.count > this.slots.length >>> 1) {
      this.slots = new Int32Array(2 * this.slots.length);
      for (let i = 0; i < this.count; i++) this.slot(i);
    } else this.slot(at);
  }

  private slot(at: number): void {
    const slots = this.slots;
    const mask = (slots.length >>> 1) - 1;
    const first = this.first[at];
    const second = this.second[at];
    for (let i = first & mask; ; i = (i + 1) & mask) {
      const index = slots[2 * i + 1];
      if (index === 0 || (slots[2 * i] === first && this.second[index - 1] === second)) {
        slots[2 * i] = first;
        slots[2 * i + 1] = at + 1;
        return;
      }
    }
  }

  private grow(): void {
    const n = 2 * this.deadlines.length;
    this.first = grown(this.first, new Int32Array(n));
    this.second = grown(this.second, new Int32Array(n));
    this.deadlines = grown(this.deadlines, new Float64Array(n));
    this.tags = grown(this.tags, new Float64Array(n));
  }
}

function grown<T extends Int32Array | Float64Array>(old: T, into: T): T {
  into.set(old);
  return into;
}

/**
 * The Completed state of non-INVITE server transactions on unreliable transports, kept as small records
 * instead of transaction objects: the last response for Timer J (64*T1 = 32 s, RFC 3261 §17.2.2). In that
 * state a transaction does nothing but answer retransmitted requests with its response, so a string is all
 * it needs (without the fields the response copied from the request, see `packResponse` in packed-response.ts);
 * a client transaction's Completed state keeps nothing at all (see SipStack). At a few thousand requests a
 * second hundreds of thousands are held, and an object with timers and callbacks for each would cost many
 * times the memory and the collector's time.
 *
 * Every record of one table lives for the same delay, so records are kept in generations by the time they were
 * added (a stretch of the delay, or MAX_GENERATION records): a record past its deadline is not returned, and a
 * generation is dropped whole once its last record is past it. Nothing is ever deleted from a generation: one
 * map of hundreds of thousands of records, deleted from as they expired, re-hashed as it shrank and grew, which
 * took 25-38 ms in one prune and 51-64 ms in one insertion at 8,000 records a second (`npm run
 * bench:completed`). A record is found by two hashes of its key (see {@link hashKey}), not by the key itself.
 */
export class CompletedTransactions {
  /** Oldest first. */
  private generations: Generation[] = [];
  private readonly seedFirst: number;
  private readonly seedSecond: number;

  constructor(
    private readonly clock: Clock,
    /** How long a record is held, in ms (Timer J or Timer K). */
    private readonly delay: number,
  ) {
    const seeds = randomBytes(8);
    this.seedFirst = seeds.readInt32LE(0);
    this.seedSecond = seeds.readInt32LE(4);
  }

  /**
   * Holds `key` with its last response (latin1 text of the bytes), `response` followed by `tag` when given: our
   * tag, which `packedParts` (packed-response.ts) leaves apart, and which is kept as a number when it is one this
   * stack made. The caller adds a key it does not hold (the stack looks a request up before it makes a
   * transaction): the table does not look in older generations, and a key added again all the same is found with
   * its newer record.
   */
  add(key: string, response: string, tag?: string): void {
    const now = this.clock.now();
    this.prune(now);
    let current = this.generations.at(-1);
    if (current === undefined || now >= current.closesAt || current.count >= MAX_GENERATION) {
      current = new Generation(now + Math.max(1, Math.floor(this.delay / GENERATIONS_PER_DELAY)));
      this.generations.push(current);
    }
    hashKey(key, this.seedFirst, this.seedSecond);
    current.add(response, tag, now + this.delay);
  }

  /** The record of `key` while its timer runs, else undefined. */
  get(key: string): string | undefined {
    const now = this.clock.now();
    this.prune(now);
    if (this.generations.length === 0) return undefined;
    hashKey(key, this.seedFirst, this.seedSecond);
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const g = this.generations[i];
      const at = g.find();
      if (at !== -1) return g.deadlines[at] > now ? g.record(at) : undefined;
    }
    return undefined;
  }

  /** Records held now. */
  get size(): number {
    const now = this.clock.now();
    this.prune(now);
    let n = 0;
    for (const g of this.generations) n += g.count - firstAfter(g.deadlines, g.count, now);
    return n;
  }

  /** Drops every record. */
  clear(): void {
    this.generations = [];
  }

  /** Drops the generations whose every record's timer has run out (also done whenever the table is used). */
  prune(now = this.clock.now()): void {
    let dead = 0;
    while (dead < this.generations.length) {
      const g = this.generations[dead];
      if (g.deadlines[g.count - 1] > now) break;
      dead++;
    }
    if (dead > 0) this.generations = this.generations.slice(dead);
  }
}

/** Index of the first deadline after `now` among the first `count` of ascending `deadlines` (`count` when none is). */
function firstAfter(deadlines: Float64Array, count: number, now: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (deadlines[mid] <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
