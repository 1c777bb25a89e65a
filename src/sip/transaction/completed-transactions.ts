import type { Clock } from '../ports/clock';

/**
 * The Completed state of non-INVITE server transactions on unreliable transports, kept as small records
 * instead of transaction objects: the last response for Timer J (64*T1 = 32 s, RFC 3261 §17.2.2). In that
 * state a transaction does nothing but answer retransmitted requests with its response, so a string is all
 * it needs (without the fields the response copied from the request, see {@link packResponse}) (a client transaction's Completed state keeps nothing at all, see SipStack); at a few thousand requests a second tens of thousands are held, and an object with
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

/** The request fields a response copies (RFC 3261 §8.2.6): what {@link packResponse} needs of the request. */
export interface CopiedFields {
  get(name: string): string | undefined;
  getAll(name: string): string[];
}

/** Marks a packed record (a response text starts with `SIP/2.0`) and, inside it, each field left out. */
const PACKED = '\u0001';
/** The fields a record leaves out, by the code that follows the mark: To only up to its tag. */
const LEFT_OUT: readonly (readonly [code: string, name: string])[] = [
  ['v', 'Via'],
  ['f', 'From'],
  ['t', 'To'],
  ['c', 'Call-ID'],
  ['s', 'CSeq'],
];

function copiedValue(request: CopiedFields, code: string): string | undefined {
  switch (code) {
    case 'v':
      return request.getAll('via')[0];
    case 'f':
      return request.get('From');
    case 't':
      return request.get('To');
    case 'c':
      return request.get('Call-ID');
    case 's':
      return request.get('CSeq');
    default:
      return undefined;
  }
}

/**
 * The record of `data`, the response to `request`: its latin1 text without the values it copied from the request
 * (the top Via when not stamped, From, To up to our tag, Call-ID, CSeq), about half of a typical 2xx. A
 * retransmission is the same request (RFC 3261 §17.1.2.2), so {@link unpackResponse} puts the values back from
 * it. A response that does not hold them verbatim, or holds the mark byte, is kept whole.
 */
export function packResponse(data: Buffer, request: CopiedFields): string {
  const text = responseText(data);
  if (text.includes(PACKED)) return text;
  const spans: [from: number, to: number, code: string][] = [];
  for (const [code, name] of LEFT_OUT) {
    const value = copiedValue(request, code);
    if (value === undefined || value.length < 4) continue;
    const start = text.indexOf(`\r\n${name}: ${value}`);
    if (start === -1) continue;
    const from = start + name.length + 4;
    const to = from + value.length;
    const next = text.charCodeAt(to);
    if (next === 0x0d || (code === 't' && next === 0x3b)) spans.push([from, to, code]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  const parts = [PACKED];
  let at = 0;
  for (const [from, to, code] of spans) {
    parts.push(text.slice(at, from), PACKED, code);
    at = to;
  }
  parts.push(text.slice(at));
  // Joined into one string of its own: slices of the response would keep all of it alive.
  return parts.join('');
}

/** The response bytes of a record made by {@link packResponse}, with the values of the retransmitted `request`. */
export function unpackResponse(record: string, request: CopiedFields): Buffer | undefined {
  if (!record.startsWith(PACKED)) return responseBytes(record);
  const parts: string[] = [];
  let at = 1;
  for (;;) {
    const mark = record.indexOf(PACKED, at);
    if (mark === -1) break;
    const value = copiedValue(request, record.charAt(mark + 1));
    if (value === undefined) return undefined;
    parts.push(record.slice(at, mark), value);
    at = mark + 2;
  }
  parts.push(record.slice(at));
  return responseBytes(parts.join(''));
}

/** The bytes of a response as the latin1 text a {@link CompletedTransactions} record holds, and back. */
export function responseText(data: Buffer): string {
  return data.toString('latin1');
}

export function responseBytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}
