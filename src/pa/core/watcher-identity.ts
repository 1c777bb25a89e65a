import { ownString, type IncomingRequest } from '../../sip';

/**
 * Who a SIP watcher is, for authorization and for what the presentity sees: the authenticated identity when
 * the request carries one (SIP digest, RFC 3261 §22), else the AoR of the SUBSCRIBE's From URI (its full text
 * for a non-SIP URI). Every decision about the watcher — each package's `authorize` and the watcher rules —
 * reads this.
 */
export function watcherIdentity(req: IncomingRequest): string {
  if (req.identity !== undefined) return ownString(req.identity);
  const from = req.request.from.uri;
  return ownString(from.isSip ? from.aor() : from.toString());
}
