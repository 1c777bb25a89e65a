import { ownString } from '../message/text';

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
 * the tag. A response that does not hold the values verbatim, or holds a mark byte, is kept whole.
 */
export function packResponse(data: Buffer, request: CopiedFields): string {
  const [text, tag] = packedParts(data, request);
  return tag === undefined ? text : text + tag;
}

/**
 * {@link packResponse}'s record in two parts, for `CompletedTransactions.add`: the text (shared by every
 * response that differs only in our tag, when the tag ends the To header) and the tag, if left apart.
 */
export function packedParts(data: Buffer, request: CopiedFields): [text: string, tag: string | undefined] {
  const text = responseText(data);
  if (text.includes(PACKED) || text.includes(TAG)) return [text, undefined];
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
  if (spans.length === 0) return [text, undefined];
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
  if (tag === undefined) return [parts.join(''), undefined];
  parts.push(TAG);
  return [sharedSkeleton(parts.join('')), tag];
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
