import { SipParseError } from '../errors/sip-parse-error';
import { SipHeaders } from '../message/sip-headers';
import { NameAddr } from '../message/name-addr';
import type { SipResponse } from '../message/sip-message';
import { SipRequest } from '../message/sip-message';
import { SipUri } from '../message/sip-uri';
import { ownString } from '../message/text';

/** The route set of most dialogs, shared (an empty array of its own costs each dialog 16 bytes or more). */
const NO_ROUTES: readonly string[] = Object.freeze([]);
import { storedFlow, type Flow } from '../transport/transport';

/** The persisted form of a {@link Dialog}: plain JSON values only. */
export interface DialogJSON {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number;
  flow?: Flow;
}

/** The state of a dialog (RFC 3261 §12), as the SUBSCRIBE/NOTIFY usage of RFC 6665 needs it. */
export type DialogInit = DialogJSON;

/**
 * Addresses (addr-spec text) that the record holding a dialog keeps anyway, e.g. a subscription's presentity and
 * watcher. A dialog whose local or remote address is just `<that address>` keeps the shared string instead of a
 * copy of its own.
 */
export interface DialogAddresses {
  readonly local?: string;
  readonly remote?: string;
}

/** Bits of {@link Dialog}'s `bare`: the local / remote text is an addr-spec to be put in angle brackets. */
const LOCAL_BARE = 1;
const REMOTE_BARE = 2;

/** `text` as kept: the shared `addr` when `text` is exactly `<addr>`. */
function keptText(text: string, addr: string | undefined): string | undefined {
  return addr !== undefined &&
    text.length === addr.length + 2 &&
    text.charCodeAt(0) === 0x3c &&
    text.charCodeAt(text.length - 1) === 0x3e &&
    text.startsWith(addr, 1)
    ? addr
    : undefined;
}

/**
 * A dialog (RFC 3261 §12). Created at the UAS from a dialog-creating request such as SUBSCRIBE (§12.1.1,
 * RFC 6665 §4.2), or at the UAC from a 2xx to one (§12.1.2). `createRequest` builds in-dialog requests
 * (NOTIFY, re-SUBSCRIBE) per §12.2.1.1; `toJSON`/`fromJSON` persist it.
 *
 * Held for the life of a subscription, so it is a compact record of the strings an in-dialog request needs
 * (STYLE.md habit 16): addresses and the remote target are kept as text and parsed only when asked for.
 */
export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /**
   * Our address (To of the SUBSCRIBE at the UAS, From at the UAC) as name-addr text, without the tag param; or,
   * with LOCAL_BARE set in `bare`, a shared addr-spec string that the text puts in angle brackets.
   */
  private readonly local: string;
  /** The peer's address, the same way (REMOTE_BARE). */
  private readonly remote: string;
  private readonly bare: number;
  private targetText: string;
  /** Route set, as Route values in the order requests must carry them (§12.1.1, §12.1.2). */
  readonly routeSet: readonly string[];
  /** Our CSeq; `createRequest` increments it before use (§12.2.1.1). */
  localSeq: number;
  /** The peer's last CSeq (§12.2.2). */
  remoteSeq: number;
  /** The flow the dialog was created on, for connection reuse. */
  flow?: Flow;

  /** `shared`: addresses the caller keeps, which the dialog then need not copy ({@link DialogAddresses}). */
  constructor(init: DialogInit, shared?: DialogAddresses) {
    this.callId = ownString(init.callId);
    this.localTag = ownString(init.localTag);
    this.remoteTag = ownString(init.remoteTag);
    const local = keptText(init.localUri, shared?.local);
    const remote = keptText(init.remoteUri, shared?.remote);
    this.local = local ?? ownString(init.localUri);
    this.remote = remote ?? ownString(init.remoteUri);
    this.bare = (local === undefined ? 0 : LOCAL_BARE) | (remote === undefined ? 0 : REMOTE_BARE);
    this.targetText = ownString(init.remoteTarget);
    this.routeSet = init.routeSet.length === 0 ? NO_ROUTES : init.routeSet.map(ownString);
    this.localSeq = init.localSeq;
    this.remoteSeq = init.remoteSeq;
    this.flow = init.flow;
  }

  /** Our address as name-addr text, without the tag param (`localUri` of {@link toJSON}). */
  get localText(): string {
    return (this.bare & LOCAL_BARE) === 0 ? this.local : `<${this.local}>`;
  }

  /** The peer's address as name-addr text, without the tag param (`remoteUri` of {@link toJSON}). */
  get remoteText(): string {
    return (this.bare & REMOTE_BARE) === 0 ? this.remote : `<${this.remote}>`;
  }

  /** The remote target as text (`remoteTarget` of {@link toJSON}), not parsed. */
  get remoteTargetText(): string {
    return this.targetText;
  }

  /**
   * Whether our address is just `<addr>`: a record that keeps `addr` need not store it. Compares without
   * building the text.
   */
  localIs(addr: string): boolean {
    return (this.bare & LOCAL_BARE) === 0 ? keptText(this.local, addr) !== undefined : this.local === addr;
  }

  /** Whether the peer's address is just `<addr>` (see {@link localIs}). */
  remoteIs(addr: string): boolean {
    return (this.bare & REMOTE_BARE) === 0 ? keptText(this.remote, addr) !== undefined : this.remote === addr;
  }

  /** Our address without the tag param (parsed on each call). */
  get localUri(): NameAddr {
    return NameAddr.parse(this.localText);
  }

  /** The peer's address without the tag param (parsed on each call). */
  get remoteUri(): NameAddr {
    return NameAddr.parse(this.remoteText);
  }

  /** Where in-dialog requests go: the peer's Contact (§12.1.1), refreshed by target refreshes. Parsed on each call. */
  get remoteTarget(): SipUri {
    return SipUri.parse(this.targetText);
  }

  set remoteTarget(uri: SipUri) {
    this.targetText = ownString(uri.toString());
  }

  /** A dialog identifier (§12): Call-ID, local tag, remote tag. */
  get id(): string {
    return `${this.callId};${this.localTag};${this.remoteTag}`;
  }

  /**
   * The UAS side of a dialog created by `req` (RFC 3261 §12.1.1): route set from Record-Route in order,
   * remote target from the Contact, remote sequence from CSeq, local sequence starting at 0.
   * @throws SipParseError when the request has no From tag or no usable Contact.
   */
  static fromRequest(req: SipRequest, localTag: string, flow?: Flow, shared?: DialogAddresses): Dialog {
    const remoteTag = req.from.tag;
    if (remoteTag === undefined) throw new SipParseError('Missing From tag');
    return new Dialog(
      {
        callId: req.callId,
        localTag,
        remoteTag,
        localUri: withoutTag(req.to),
        remoteUri: withoutTag(req.from),
        remoteTarget: contactUri(req.contacts()),
        routeSet: req.recordRoute,
        localSeq: 0,
        remoteSeq: req.cseq.seq,
        flow,
      },
      shared,
    );
  }

  /**
   * The UAC side of a dialog created by a 2xx to our `req` (RFC 3261 §12.1.2): route set from the
   * response's Record-Route in reverse order, remote target from its Contact, local sequence from the
   * request's CSeq.
   */
  static fromResponse(req: SipRequest, res: SipResponse, flow?: Flow): Dialog {
    const localTag = req.from.tag;
    const remoteTag = res.to.tag;
    if (localTag === undefined) throw new SipParseError('Missing From tag');
    if (remoteTag === undefined) throw new SipParseError('Missing To tag');
    return new Dialog({
      callId: req.callId,
      localTag,
      remoteTag,
      localUri: withoutTag(req.from),
      remoteUri: withoutTag(res.to),
      remoteTarget: contactUri(res.contacts()),
      routeSet: [...res.recordRoute].reverse(),
      localSeq: req.cseq.seq,
      remoteSeq: 0,
      flow,
    });
  }

  /**
   * Builds an in-dialog request (RFC 3261 §12.2.1.1): CSeq `++localSeq`, From = local URI with our tag,
   * To = remote URI with theirs, Call-ID. With an empty route set or a loose-routing first route (`lr`),
   * the Request-URI is the remote target and Route is the route set; with a strict router first, the
   * Request-URI is that route's URI (without headers) and the remote target goes last in Route.
   * `headers` are appended; `body` sets Content-Type and the body. From and To are formatted without
   * copying the dialog's addresses.
   */
  createRequest(
    method: string,
    headers?: Record<string, string | readonly string[]>,
    body?: { contentType: string; body: Buffer | string },
  ): SipRequest {
    let uri: SipUri | undefined;
    let routes = this.routeSet;
    if (routes.length > 0) {
      const first = NameAddr.parse(routes[0], 'Bad Route header');
      if (!first.uri.params.has('lr')) {
        // §12.2.1.1 strict routing
        uri = first.uri;
        uri.headers.clear();
        uri.params.delete('method');
        routes = [...routes.slice(1), `<${this.targetText}>`];
      }
    }
    this.localSeq++;
    const h = new SipHeaders();
    h.append('Max-Forwards', '70');
    for (const r of routes) h.append('Route', r);
    h.append('To', `${this.remoteText};tag=${this.remoteTag}`);
    h.append('From', `${this.localText};tag=${this.localTag}`);
    h.append('Call-ID', this.callId);
    h.append('CSeq', `${String(this.localSeq)} ${method}`);
    if (headers !== undefined) for (const name in headers) h.append(name, headers[name]);
    // The target as text (parsed once, by whoever needs it): a URI with headers is parsed and written anew.
    const req = new SipRequest(method, uri ?? (this.targetText.includes('?') ? this.remoteTarget : this.targetText), h);
    if (body !== undefined) {
      h.set('Content-Type', body.contentType);
      req.body = typeof body.body === 'string' ? Buffer.from(body.body, 'utf8') : body.body;
    }
    return req;
  }

  /** Plain JSON for persistence. */
  toJSON(): DialogJSON {
    const json: DialogJSON = {
      callId: this.callId,
      localTag: this.localTag,
      remoteTag: this.remoteTag,
      localUri: this.localText,
      remoteUri: this.remoteText,
      remoteTarget: this.targetText,
      routeSet: [...this.routeSet],
      localSeq: this.localSeq,
      remoteSeq: this.remoteSeq,
    };
    if (this.flow !== undefined) json.flow = { ...storedFlow(this.flow) };
    return json;
  }

  /** Restores a dialog saved with `toJSON`. */
  static fromJSON(json: DialogJSON, shared?: DialogAddresses): Dialog {
    return new Dialog(json, shared);
  }
}

function withoutTag(addr: NameAddr): string {
  return addr.format('tag');
}

function contactUri(contacts: NameAddr[] | '*'): string {
  if (contacts === '*' || contacts.length === 0) throw new SipParseError('Missing Contact header');
  return contacts[0].uri.toString();
}
