import { ownString } from '../message/text';
import type { Clock } from '../ports/clock';

/** A generation of records: those added within one stretch of time, in the order they were added. */
interface Generation {
  /** Index of each record's key in `responses` and `deadlines`. */
  readonly index: Map<string, number>;
  readonly responses: string[];
  readonly deadlines: number[];
  /** When the generation stops taking records. */
  readonly closesAt: number;
  /** Two bits per key it holds (see {@link filterBits}): a key with either bit clear is not in `index`. */
  readonly filter: Uint32Array;
}

/**
 * Bits of each generation's filter. A new request misses every generation, and a miss in a map of thousands
 * of keys costs a few cache misses: about 3 µs for 17 generations of 10,000 records each. The filter answers
 * most misses from two bits: with 32,768 records (the most a generation takes) one key in 20 still looks in the
 * map, with 10,000 one in 60. 32 KiB per generation.
 */
const FILTER_BITS = 1 << 18;
const FILTER_MASK = FILTER_BITS - 1;

/**
 * The two bits of `key` in a filter: from its FNV-1a hash (32 bits), the hash's own low bits and its bits mixed
 * again.
 */
function filterBits(key: string): [first: number, second: number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  const m = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return [h & FILTER_MASK, (m ^ (m >>> 13)) & FILTER_MASK];
}

function isSet(filter: Uint32Array, bit: number): boolean {
  return (filter[bit >>> 5] & (1 << (bit & 31))) !== 0;
}

/** A generation takes records for 1/GENERATIONS_PER_DELAY of the delay, and at most MAX_GENERATION of them. */
const GENERATIONS_PER_DELAY = 16;
const MAX_GENERATION = 32_768;

/**
 * The Completed state of non-INVITE server transactions on unreliable transports, kept as small records
 * instead of transaction objects: the last response for Timer J (64*T1 = 32 s, RFC 3261 §17.2.2). In that
 * state a transaction does nothing but answer retransmitted requests with its response, so a string is all
 * it needs (without the fields the response copied from the request, see {@link packResponse}); a client
 * transaction's Completed state keeps nothing at all (see SipStack). At a few thousand requests a second tens
 * of thousands are held, and an object with timers and callbacks for each would cost three times the memory
 * and the collector's time.
 *
 * Every record of one table lives for the same delay, so records are kept in generations by the time they were
 * added (a stretch of the delay, or MAX_GENERATION records): a record past its deadline is not returned, and a
 * generation is dropped whole once its last record is past it. Nothing is ever deleted from a map: one map of
 * hundreds of thousands of records, deleted from as they expired, re-hashed as it shrank and grew, which took
 * 25-38 ms in one prune and 51-64 ms in one insertion at 8,000 records a second (`npm run bench:completed`).
 */
export class CompletedTransactions {
  /** Oldest first. */
  private generations: Generation[] = [];

  constructor(
    private readonly clock: Clock,
    /** How long a record is held, in ms (Timer J or Timer K). */
    private readonly delay: number,
  ) {}

  /**
   * Holds `key` with its last response (latin1 text of the bytes). The caller adds a key it does not hold (the
   * stack looks a request up before it makes a transaction): the table does not look again, which for a new
   * key would cost one miss per generation. A key added again all the same is found with its newer record.
   */
  add(key: string, response: string): void {
    const now = this.clock.now();
    this.prune(now);
    let current = this.generations.at(-1);
    if (current === undefined || now >= current.closesAt || current.responses.length >= MAX_GENERATION) {
      current = {
        index: new Map(),
        responses: [],
        deadlines: [],
        closesAt: now + Math.max(1, Math.floor(this.delay / GENERATIONS_PER_DELAY)),
        filter: new Uint32Array(FILTER_BITS / 32),
      };
      this.generations.push(current);
    }
    for (const bit of filterBits(key)) current.filter[bit >>> 5] |= 1 << (bit & 31);
    current.index.set(key, current.responses.length);
    current.responses.push(response);
    current.deadlines.push(now + this.delay);
  }

  /** The record of `key` while its timer runs, else undefined. */
  get(key: string): string | undefined {
    const now = this.clock.now();
    this.prune(now);
    return this.find(key, now);
  }

  /** Records held now. */
  get size(): number {
    const now = this.clock.now();
    this.prune(now);
    let n = 0;
    for (const g of this.generations) n += g.deadlines.length - firstAfter(g.deadlines, now);
    return n;
  }

  /** Drops every record. */
  clear(): void {
    this.generations = [];
  }

  /** Drops the generations whose every record's timer has run out (also done whenever the table is used). */
  prune(now = this.clock.now()): void {
    let dead = 0;
    while (dead < this.generations.length && this.generations[dead].deadlines.at(-1)! <= now) dead++;
    if (dead > 0) this.generations = this.generations.slice(dead);
  }

  /** The live record of `key`, newest generation first. */
  private find(key: string, now: number): string | undefined {
    if (this.generations.length === 0) return undefined;
    const [first, second] = filterBits(key);
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const g = this.generations[i];
      if (!isSet(g.filter, first) || !isSet(g.filter, second)) continue;
      const at = g.index.get(key);
      if (at !== undefined) return g.deadlines[at] > now ? g.responses[at] : undefined;
    }
    return undefined;
  }
}

/** Index of the first deadline after `now` in ascending `deadlines` (their length when none is). */
function firstAfter(deadlines: readonly number[], now: number): number {
  let lo = 0;
  let hi = deadlines.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (deadlines[mid] <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The values a response copied from its request (RFC 3261 §8.2.6), by header name: `Via` is the top Via as the
 * response carries it (stamped with `received`/`rport` for the request's source), the others as the request
 * had them. What {@link packResponse} leaves out and {@link unpackResponse} puts back.
 */
export interface CopiedFields {
  get(name: 'Via' | 'From' | 'To' | 'Call-ID' | 'CSeq'): string | undefined;
}

/** The copied values of `request`, whose response carries `topVia` (see {@link CopiedFields}). */
export function copiedFields(
  request: { readonly headers: { get(name: string): string | undefined } },
  topVia: string | undefined,
): CopiedFields {
  return { get: (name) => (name === 'Via' ? topVia : request.headers.get(name)) };
}

/** Marks a packed record (a response text starts with `SIP/2.0`) and, inside it, each field left out. */
const PACKED = '\u0001';
/** Ends the shared part of a record whose To tag (ours, the one value of each response) follows it. */
const TAG = '\u0002';
/** The fields a record leaves out, by the code that follows the mark: To only up to our tag. */
const LEFT_OUT: readonly (readonly [code: string, name: 'Via' | 'From' | 'To' | 'Call-ID' | 'CSeq'])[] = [
  ['v', 'Via'],
  ['f', 'From'],
  ['t', 'To'],
  ['c', 'Call-ID'],
  ['s', 'CSeq'],
];

/**
 * The shared parts of records, by their text: responses of one kind (a 200 to SUBSCRIBE with the same Expires,
 * say) differ only in what they copied and in our tag, so once those are left out thousands of records hold
 * one string. Bounded: when full it starts over (records keep the strings they hold).
 */
const skeletons = new Map<string, string>();
const MAX_SKELETONS = 512;

function sharedSkeleton(text: string): string {
  const known = skeletons.get(text);
  if (known !== undefined) return known;
  if (skeletons.size >= MAX_SKELETONS) skeletons.clear();
  skeletons.set(text, text);
  return text;
}

/**
 * The record of `data`, the response to a request whose copied values are `request`: its latin1 text without
 * those values (Via, From, To up to our tag, Call-ID, CSeq). A retransmission is the same request (RFC 3261
 * §17.1.2.2), so {@link unpackResponse} puts the values back from it. When our To tag ends the To header, the
 * rest is shared with every response that differs only in it, and the record is that shared text followed by
 * the tag: two strings of which one is shared (V8 keeps a concatenation of 13 characters or more as a pair,
 * not a copy). A response that does not hold the values verbatim, or holds a mark byte, is kept whole.
 */
export function packResponse(data: Buffer, request: CopiedFields): string {
  const text = responseText(data);
  if (text.includes(PACKED) || text.includes(TAG)) return text;
  const spans: [from: number, to: number, code: string][] = [];
  let tag: string | undefined;
  for (const [code, name] of LEFT_OUT) {
    const value = request.get(name);
    if (value === undefined || value.length < 4) continue;
    const start = text.indexOf(`\r\n${name}: ${value}`);
    if (start === -1) continue;
    const from = start + name.length + 4;
    const to = from + value.length;
    const next = text.charCodeAt(to);
    if (next === 0x0d) spans.push([from, to, code]);
    else if (code === 't' && next === 0x3b) {
      spans.push([from, to, code]);
      if (text.startsWith(';tag=', to)) {
        const end = text.indexOf('\r\n', to);
        const ours = end === -1 ? '' : text.slice(to + 5, end);
        if (ours.length > 0 && !ours.includes(';')) {
          spans.push([to + 5, end, 'g']);
          tag = ownString(ours);
        }
      }
    }
  }
  if (spans.length === 0) return text;
  // In text order (an insertion sort of at most six spans: Array.prototype.sort allocates more than it saves).
  for (let i = 1; i < spans.length; i++) {
    const span = spans[i];
    let j = i;
    for (; j > 0 && spans[j - 1][0] > span[0]; j--) spans[j] = spans[j - 1];
    spans[j] = span;
  }
  const parts = [PACKED];
  let at = 0;
  for (const [from, to, code] of spans) {
    parts.push(text.slice(at, from), PACKED, code);
    at = to;
  }
  parts.push(text.slice(at));
  // Joined into one string of its own: slices of the response would keep all of it alive.
  if (tag === undefined) return parts.join('');
  parts.push(TAG);
  return sharedSkeleton(parts.join('')) + tag;
}

/** The response bytes of a record made by {@link packResponse}, with the values of the retransmitted `request`. */
export function unpackResponse(record: string, request: CopiedFields): Buffer | undefined {
  if (!record.startsWith(PACKED)) return responseBytes(record);
  const tagAt = record.lastIndexOf(TAG);
  const tag = tagAt === -1 ? undefined : record.slice(tagAt + 1);
  const packed = tagAt === -1 ? record : record.slice(0, tagAt);
  const parts: string[] = [];
  let at = 1;
  for (;;) {
    const mark = packed.indexOf(PACKED, at);
    if (mark === -1) break;
    const code = packed.charAt(mark + 1);
    const name = LEFT_OUT.find(([c]) => c === code)?.[1];
    const value = code === 'g' ? tag : name === undefined ? undefined : request.get(name);
    if (value === undefined) return undefined;
    parts.push(packed.slice(at, mark), value);
    at = mark + 2;
  }
  parts.push(packed.slice(at));
  return responseBytes(parts.join(''));
}

/** The bytes of a response as the latin1 text a {@link CompletedTransactions} record holds, and back. */
export function responseText(data: Buffer): string {
  return data.toString('latin1');
}

export function responseBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
