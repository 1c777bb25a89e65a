import { Via } from './via';

/**
 * The few fields of a request that a stateless answer copies (RFC 3261 §8.2.6.1: Via, From, To, Call-ID,
 * CSeq), read with string searches instead of the full parser, so that a server shedding load can answer
 * far faster than it serves. Values are as sent; nothing but the top Via is parsed.
 */
export interface RequestHead {
  readonly method: string;
  /** Values of the Via header lines, in order (a line may hold several comma-separated values). */
  readonly via: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: string;
  /** The topmost Via, parsed. */
  readonly topVia: Via;
  /** Whether To carries a tag, i.e. the request belongs to a dialog (RFC 3261 §12). */
  readonly inDialog: boolean;
}

const SP = 0x20;
/** Longest method name looked at by {@link requestMethod}. */
const MAX_METHOD = 16;

/** The method of a request (the token before the first space), or undefined for a response or junk. */
export function requestMethod(data: Buffer): string | undefined {
  const end = Math.min(data.length, MAX_METHOD + 1);
  for (let i = 0; i < end; i++) {
    if (data[i] === SP) return i > 0 ? data.toString('latin1', 0, i) : undefined;
  }
  return undefined;
}

/** Long names of the fields read, by any spelling's lowercase form (compact forms of RFC 3261 §7.3.3). */
const FIELDS: Readonly<Record<string, string>> = {
  via: 'via',
  v: 'via',
  from: 'from',
  f: 'from',
  to: 'to',
  t: 'to',
  'call-id': 'call-id',
  i: 'call-id',
  cseq: 'cseq',
};
/** Longest of those names: longer header names are skipped without being lowercased. */
const LONGEST_NAME = 7;
const TO_TAG = /;\s*tag\s*=/i;

/**
 * Reads {@link RequestHead} from a request's header section: header names case-insensitive, compact forms
 * (v f t i), folded lines joined, bare LF line ends tolerated. Undefined when a field is missing or the top
 * Via cannot be parsed: such a request takes the full path (and gets its 400 there).
 */
export function parseRequestHead(data: Buffer): RequestHead | undefined {
  const method = requestMethod(data);
  if (method === undefined || method.startsWith('SIP/')) return undefined;
  let end = data.indexOf('\r\n\r\n');
  if (end < 0) end = data.indexOf('\n\n');
  const text = data.toString('latin1', 0, end < 0 ? data.length : end);
  const via: string[] = [];
  let from: string | undefined;
  let to: string | undefined;
  let callId: string | undefined;
  let cseq: string | undefined;
  let last: string | undefined;
  let pos = text.indexOf('\n') + 1;
  while (pos > 0 && pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    const lineEnd = text.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    const first = text.charCodeAt(pos);
    if (first === 0x20 || first === 0x09) {
      // A folded line continues the field above it (RFC 3261 §7.3.1).
      const more = text.slice(pos, lineEnd).trim();
      if (last === 'via') via[via.length - 1] = `${via[via.length - 1]} ${more}`.trim();
      else if (last === 'from') from = `${from ?? ''} ${more}`.trim();
      else if (last === 'to') to = `${to ?? ''} ${more}`.trim();
      else if (last === 'call-id') callId = `${callId ?? ''} ${more}`.trim();
      else if (last === 'cseq') cseq = `${cseq ?? ''} ${more}`.trim();
    } else {
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon > lineEnd) return undefined;
      last = colon - pos <= LONGEST_NAME + 2 ? FIELDS[text.slice(pos, colon).trim().toLowerCase()] : undefined;
      if (last !== undefined) {
        const value = text.slice(colon + 1, lineEnd).trim();
        if (last === 'via') via.push(value);
        else if (last === 'from') from ??= value;
        else if (last === 'to') to ??= value;
        else if (last === 'call-id') callId ??= value;
        else cseq ??= value;
      }
    }
    pos = eol + 1;
  }
  if (via.length === 0 || from === undefined || to === undefined || callId === undefined || cseq === undefined) {
    return undefined;
  }
  let topVia: Via;
  try {
    topVia = Via.parse(firstValue(via[0]));
  } catch {
    return undefined;
  }
  const gt = to.lastIndexOf('>');
  return { method, via, from, to, callId, cseq, topVia, inDialog: TO_TAG.test(gt < 0 ? to : to.slice(gt)) };
}

/** The first value of a Via line holding several (`a, b`); Via values hold no quoted commas in practice. */
function firstValue(line: string): string {
  const comma = line.indexOf(',');
  return comma < 0 ? line : line.slice(0, comma).trim();
}

/**
 * A response to `head` built as text (RFC 3261 §8.2.6): Via lines copied, the top one stamped with
 * `received` and `rport` for `source` (§18.2.1, RFC 3581), From, Call-ID and CSeq copied, `toTag` added to To,
 * `headers` appended, no body.
 */
export function headResponse(
  head: RequestHead,
  status: number,
  reason: string,
  toTag: string,
  source: { readonly address: string; readonly port: number },
  headers: Readonly<Record<string, string>> = {},
): Buffer {
  const top = head.topVia;
  const sentBy = top.host.startsWith('[') ? top.host.slice(1, -1) : top.host;
  if ((sentBy !== source.address || top.rport !== undefined) && source.address !== '') top.received = source.address;
  if (top.rport === null) top.rport = source.port;
  const first = head.via[0];
  const comma = first.indexOf(',');
  let out = `SIP/2.0 ${status} ${reason}\r\nVia: ${top.toString()}\r\n`;
  if (comma >= 0) out += `Via: ${first.slice(comma + 1).trim()}\r\n`;
  for (let i = 1; i < head.via.length; i++) out += `Via: ${head.via[i]}\r\n`;
  out += `From: ${head.from}\r\nTo: ${head.inDialog ? head.to : `${head.to};tag=${toTag}`}\r\n`;
  out += `Call-ID: ${head.callId}\r\nCSeq: ${head.cseq}\r\n`;
  for (const [name, value] of Object.entries(headers)) out += `${name}: ${value}\r\n`;
  return Buffer.from(`${out}Content-Length: 0\r\n\r\n`, 'latin1');
}
