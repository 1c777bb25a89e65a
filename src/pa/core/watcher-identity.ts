import { ownString, type SipRequest } from '../../sip';

/**
 * Who a SIP watcher is, for authorization and for what the presentity sees: for now the AoR of the SUBSCRIBE's
 * From URI (its full text for a non-SIP URI). The one place to change when requests carry an authenticated
 * identity (digest, RFC 3261 §22; a trusted TLS peer): every decision about the watcher reads this.
 */
export function watcherIdentity(req: SipRequest): string {
  const from = req.from.uri;
  return ownString(from.isSip ? from.aor() : from.toString());
}
