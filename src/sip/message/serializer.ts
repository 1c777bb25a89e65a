import type { SipMessage } from './sip-message';
import { SipRequest, SipResponse } from './sip-message';

/**
 * Serializes a message (RFC 3261 §7): start line, header fields in order, `Content-Length` computed from
 * the body's byte length (any Content-Length in the headers is replaced), empty line, body.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const start =
    msg instanceof SipRequest
      ? `${msg.method} ${msg.uriString} SIP/2.0\r\n`
      : msg instanceof SipResponse
        ? `SIP/2.0 ${msg.status} ${msg.reason}\r\n`
        : '';
  const head =
    start + msg.headers.serialize('content-length') + 'Content-Length: ' + String(msg.body.length) + '\r\n\r\n';
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}
