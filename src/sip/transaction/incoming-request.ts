import { createResponse } from '../message/create-response';
import { responseText, type ResponseFields } from '../message/response-text';
import { serializeMessage } from '../message/serializer';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { Flow } from '../transport/transport';
import { replaceTopVia, stampedVia } from './response-routing';

/** Header fields for a response: one value or several (repeated fields). */
export type ResponseHeaders = ResponseFields;

/** A response body and its media type. */
export interface ResponseBody {
  readonly contentType: string;
  readonly body: Buffer | string;
}

/**
 * A request delivered to the TU by `SipStack.onRequest`, with the means to answer it through its server
 * transaction (RFC 3261 §17.2).
 */
export interface IncomingRequest {
  readonly request: SipRequest;
  /** The flow the request came on; responses and later in-dialog requests go back over it. */
  readonly flow: Flow;
  /** Whether a final response (≥ 200) has been sent. */
  readonly responded: boolean;
  /**
   * The To tag of responses (RFC 3261 §8.2.6.2): the request's To tag when it has one, otherwise a tag made
   * once for this request and added to every response but 100. Use it as the dialog's local tag.
   */
  readonly toTag: string;
  /**
   * Who sent the request as the upper layer's authentication established it (`sip:user@domain`), set before
   * the request reaches a handler; undefined when the request was not authenticated (authentication off, a
   * method that does not require it, a trusted peer). Authorization uses it, not From.
   */
  identity?: string;
  /**
   * Sends a response. `headers` replace fields of the same name (a `To` given here replaces the tagged
   * one). A second final response is ignored (logged).
   */
  respond(status: number, reason?: string, headers?: ResponseHeaders, body?: ResponseBody): void;
}

/**
 * Sends a response (its bytes, with the top Via as stamped for the request's flow) through the request's server
 * transaction. @internal
 */
export type ResponseSink = (
  incoming: ServerRequest,
  status: number,
  data: Buffer,
  topVia: string | undefined,
) => boolean;

/** The stack's {@link IncomingRequest}. @internal */
export class ServerRequest implements IncomingRequest {
  responded = false;
  identity?: string;
  private tag: string | undefined;

  constructor(
    readonly request: SipRequest,
    readonly flow: Flow,
    private readonly newTag: () => string,
    private readonly sink: ResponseSink,
  ) {}

  get toTag(): string {
    return (this.tag ??= this.request.to.tag ?? this.newTag());
  }

  respond(status: number, reason?: string, headers?: ResponseHeaders, body?: ResponseBody): void {
    if (this.responded) return;
    const req = this.request;
    const tag = status > 100 ? this.toTag : undefined;
    // The Vias as the response carries them: the top one stamped for the request's flow.
    const vias = req.headers.getAll('via');
    const topVia = vias.length > 0 ? (vias[0] = stampedVia(vias[0], this.flow, req.via[0])) : undefined;
    const data =
      responseText(req, status, reason, headers, body, tag, vias) ??
      serializeMessage(withTopVia(buildResponse(req, status, reason, headers, body, tag), topVia));
    if (this.sink(this, status, data, topVia) && status >= 200) this.responded = true;
  }
}

/** Builds a response with a To tag (when given and absent from the request), extra headers and body. */
export function buildResponse(
  req: SipRequest,
  status: number,
  reason: string | undefined,
  headers: ResponseHeaders | undefined,
  body: ResponseBody | undefined,
  toTag: string | undefined,
): SipResponse {
  const res = createResponse(req, status, reason);
  if (toTag !== undefined && req.to.tag === undefined) {
    const to = res.headers.get('to');
    if (to !== undefined) res.headers.set('To', `${to};tag=${toTag}`);
  }
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
  if (body !== undefined) {
    res.headers.set('Content-Type', body.contentType);
    res.body = typeof body.body === 'string' ? Buffer.from(body.body, 'utf8') : body.body;
  }
  return res;
}

/** `res` with the top Via as the transport layer stamped it. */
function withTopVia(res: SipResponse, topVia: string | undefined): SipResponse {
  if (topVia !== undefined) replaceTopVia(res, topVia);
  return res;
}
