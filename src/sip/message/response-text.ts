import { canonicalName, headerKey } from './header-names';
import { reasonPhrase } from './reason-phrase';
import type { SipRequest } from './sip-message';

/** Header fields of a response: one value or several (repeated fields). */
export type ResponseFields = Record<string, string | readonly string[]>;

/** Fields the response copies from the request (RFC 3261 §8.2.6), or computes itself. */
const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'timestamp', 'content-length', 'content-type']);

/**
 * The bytes of a response to `req` (RFC 3261 §8.2.6): the request's Vias in order as `vias` gives them (the
 * caller's `getAll('via')`, the top one stamped by the transport layer), From, To (with `;tag=toTag` when
 * given and the request had none), Call-ID and CSeq as received, 100 Trying also Timestamp; then `fields` in
 * order, Content-Type when there is a body, Content-Length. Written straight to text, without a response
 * object: a server answers every request this way, so the headers of a parsed message are not built only to
 * be serialized.
 *
 * Returns undefined when `fields` names a copied field (a To given to replace the tagged one, a Via, ...) or
 * one field twice in two spellings: the caller then builds the response as a message, which places such a
 * field where the copied one was.
 */
export function responseText(
  req: SipRequest,
  status: number,
  reason: string | undefined,
  fields: ResponseFields | undefined,
  body: { readonly contentType: string; readonly body: Buffer | string } | undefined,
  toTag: string | undefined,
  vias: readonly string[],
): Buffer | undefined {
  let extra = '';
  if (fields !== undefined) {
    let seen: string[] | undefined;
    for (const name in fields) {
      const key = headerKey(name);
      if (COPIED.has(key) || seen?.includes(key)) return undefined;
      (seen ??= []).push(key);
      const spelled = name.length === 1 || name === key ? canonicalName(key) : name;
      const value = fields[name];
      if (typeof value === 'string') extra += spelled + ': ' + value + '\r\n';
      else for (const v of value) extra += spelled + ': ' + v + '\r\n';
    }
  }
  const h = req.headers;
  let head = 'SIP/2.0 ' + String(status) + ' ' + (reason ?? reasonPhrase(status)) + '\r\n';
  for (const via of vias) head += 'Via: ' + via + '\r\n';
  const from = h.get('from');
  if (from !== undefined) head += 'From: ' + from + '\r\n';
  const to = h.get('to');
  if (to !== undefined)
    head += 'To: ' + (toTag !== undefined && req.to.tag === undefined ? to + ';tag=' + toTag : to) + '\r\n';
  const callId = h.get('call-id');
  if (callId !== undefined) head += 'Call-ID: ' + callId + '\r\n';
  const cseq = h.get('cseq');
  if (cseq !== undefined) head += 'CSeq: ' + cseq + '\r\n';
  if (status === 100) {
    const timestamp = h.get('timestamp');
    if (timestamp !== undefined) head += 'Timestamp: ' + timestamp + '\r\n';
  }
  head += extra;
  if (body === undefined) return Buffer.from(head + 'Content-Length: 0\r\n\r\n', 'utf8');
  head += 'Content-Type: ' + body.contentType + '\r\n';
  if (typeof body.body === 'string') {
    const length = Buffer.byteLength(body.body, 'utf8');
    return Buffer.from(head + 'Content-Length: ' + String(length) + '\r\n\r\n' + body.body, 'utf8');
  }
  head += 'Content-Length: ' + String(body.body.length) + '\r\n\r\n';
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + body.body.length);
  out.write(head, 0, 'utf8');
  body.body.copy(out, headLength);
  return out;
}
