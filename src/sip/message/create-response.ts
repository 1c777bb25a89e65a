import { reasonPhrase } from './reason-phrase';
import { SipHeaders } from './sip-headers';
import type { SipRequest } from './sip-message';
import { SipResponse } from './sip-message';

/**
 * Builds a response to `req` (RFC 3261 §8.2.6): copies every Via in order, From, To, Call-ID and CSeq;
 * 100 Trying also copies Timestamp (§8.2.6.1). The caller adds a To tag where the response creates a
 * dialog (§8.2.6.2); `SipStack` does so for every response it sends when the request had none.
 */
export function createResponse(req: SipRequest, status: number, reason?: string): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getAll('via')) h.append('Via', v);
  copy(req.headers, h, 'From');
  copy(req.headers, h, 'To');
  copy(req.headers, h, 'Call-ID');
  copy(req.headers, h, 'CSeq');
  if (status === 100) copy(req.headers, h, 'Timestamp');
  return new SipResponse(status, reason ?? reasonPhrase(status), h);
}

function copy(from: SipHeaders, to: SipHeaders, name: string): void {
  const v = from.get(name);
  if (v !== undefined) to.append(name, v);
}
