/**
 * The requests of the outgoing client: PUBLISH (RFC 3903 §4) and SUBSCRIBE (RFC 6665 §4.1) out of a dialog,
 * SUBSCRIBE refreshes inside one, and the digest answer to a challenge (RFC 3261 §22.2).
 */
import { Dialog } from '../dialog/dialog';
import { SipHeaders } from '../message/sip-headers';
import { SipRequest, type SipResponse } from '../message/sip-message';
import { SipUri } from '../message/sip-uri';
import { digestAuthorization, pickDigestChallenge, type ClientCredentials } from '../auth/digest-client';
import type { OutgoingRecord } from './outgoing-record';

/** A URI as a loose Route value (adds `;lr` when missing: the proxy is a next hop, not a strict router). */
export function looseRoute(uri: string): string {
  const inner = uri.startsWith('<') ? uri.slice(1, uri.indexOf('>')) : uri;
  const parsed = SipUri.parse(inner);
  if (!parsed.params.has('lr')) parsed.params.set('lr', null);
  return `<${parsed.toString()}>`;
}

function angle(uri: string): string {
  return uri.startsWith('<') ? uri : `<${uri}>`;
}

/** What varies between the requests of one record. */
export interface RequestParts {
  readonly expires: number;
  /** Our Contact (SUBSCRIBE). */
  readonly contact?: string;
  /** PUBLISH: send the body (initial or modify); a refresh has none. */
  readonly withBody?: boolean;
  /** PUBLISH: SIP-If-Match (refresh, modify, remove). */
  readonly ifMatch?: string;
}

/** An out-of-dialog request of `rec` with the next CSeq of its Call-ID. */
export function initialRequest(method: 'PUBLISH' | 'SUBSCRIBE', rec: OutgoingRecord, parts: RequestParts): SipRequest {
  rec.cseq++;
  const h = new SipHeaders();
  h.append('Max-Forwards', '70');
  if (rec.route !== '') h.append('Route', looseRoute(rec.route));
  h.append('From', `${angle(rec.from)};tag=${rec.localTag}`);
  h.append('To', angle(rec.uri));
  h.append('Call-ID', rec.callId);
  h.append('CSeq', `${rec.cseq} ${method}`);
  if (parts.contact !== undefined) h.append('Contact', parts.contact);
  h.append('Event', rec.event);
  h.append('Expires', String(parts.expires));
  if (method === 'SUBSCRIBE' && rec.options.accept?.length) h.append('Accept', rec.options.accept.join(', '));
  if (parts.ifMatch) h.append('SIP-If-Match', parts.ifMatch);
  const req = new SipRequest(method, SipUri.parse(rec.uri.replace(/^<|>$/g, '')), h);
  if (parts.withBody && rec.body !== '') {
    h.append('Content-Type', rec.contentType);
    req.body = Buffer.from(rec.body, 'utf8');
  }
  return req;
}

/** A SUBSCRIBE inside the record's dialog (refresh or Expires 0), advancing the dialog's CSeq. */
export function inDialogSubscribe(rec: OutgoingRecord, dialog: Dialog, parts: RequestParts): SipRequest {
  const headers: Record<string, string> = { Event: rec.event, Expires: String(parts.expires) };
  if (parts.contact !== undefined) headers.Contact = parts.contact;
  if (rec.options.accept?.length) headers.Accept = rec.options.accept.join(', ');
  const req = dialog.createRequest('SUBSCRIBE', headers);
  rec.dialog = dialog.toJSON();
  return req;
}

/** The header a 401 or 407 asks to be answered in (RFC 3261 §22.2, §22.3). */
export function authHeaderFor(status: number): { challenge: string; answer: string } {
  return status === 407
    ? { challenge: 'Proxy-Authenticate', answer: 'Proxy-Authorization' }
    : { challenge: 'WWW-Authenticate', answer: 'Authorization' };
}

/**
 * Adds the answer to `res`'s challenge to `req` (a copy of the challenged request with the next CSeq);
 * false when the challenge cannot be answered (none we support, or no credentials for its realm).
 */
export function authorize(
  req: SipRequest,
  res: SipResponse,
  credentials: (realm: string) => ClientCredentials | undefined,
  cnonce: string,
): boolean {
  const names = authHeaderFor(res.status);
  const challenge = pickDigestChallenge(res.headers.getAll(names.challenge));
  if (challenge === undefined) return false;
  const creds = credentials(challenge.realm);
  if (creds === undefined) return false;
  req.headers.append(
    names.answer,
    digestAuthorization(challenge, creds, { method: req.method, uri: req.uriString, cnonce, nc: 1 }),
  );
  return true;
}

/** The UAC side of a dialog created by a NOTIFY that came before the 2xx (RFC 6665 §4.1.2.4). */
export function dialogFromNotify(rec: OutgoingRecord, notify: SipRequest): Dialog {
  const contacts = notify.contacts();
  if (contacts === '*' || contacts.length === 0) throw new Error('NOTIFY without Contact');
  return new Dialog({
    callId: rec.callId,
    localTag: rec.localTag,
    remoteTag: notify.from.tag ?? '',
    localUri: angle(rec.from),
    remoteUri: angle(rec.uri),
    remoteTarget: contacts[0].uri.toString(),
    routeSet: notify.recordRoute,
    localSeq: rec.cseq,
    remoteSeq: 0,
  });
}
