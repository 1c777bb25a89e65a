import { SipParseError } from '../errors/sip-parse-error';
import { createResponse } from '../message/create-response';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { Via } from '../message/via';
import type { SipLogger } from '../ports/logger';
import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import type { Random } from '../ports/random';
import type { Flow, Transport } from '../transport/transport';
import { buildResponse, type ServerRequest } from './incoming-request';
import { SipError } from '../errors/sip-error';
import { stampTopVia } from './response-routing';
import type { ClientFailure } from './non-invite-client.transaction';

/** RFC 3261 §8.1.1.7: branches of RFC 3261 elements start with it. */
const MAGIC_COOKIE = 'z9hG4bK';

/**
 * The server transaction key (RFC 3261 §17.2.3): branch + sent-by + method, or the RFC 2543 fields. A branch
 * that is the magic cookie alone carries no identifier (RFC 4475 §3.2.1, badbranch): the RFC 2543 fields then.
 */
export function serverKey(req: SipRequest, topVia: Via | undefined, method: string): string {
  if (topVia === undefined) throw new SipParseError('Missing Via header');
  const sentBy = `${topVia.host}:${topVia.port ?? ''}`;
  const key = rfc3261Key(topVia.branch, sentBy, method);
  if (key !== undefined) return key;
  const cseq = req.cseq;
  return `2543|${req.callId}|${cseq.seq}|${method}|${req.from.tag ?? ''}|${req.to.tag ?? ''}|${req.uriString}|${sentBy}`;
}

/**
 * The key of an RFC 3261 transaction (magic-cookie branch): branch + sent-by (`host:port`, host lowercase,
 * port empty when absent) + method; undefined for an RFC 2543 branch or one that is the magic cookie alone.
 */
export function rfc3261Key(branch: string | undefined, sentBy: string, method: string): string | undefined {
  return branch !== undefined && branch.length > MAGIC_COOKIE.length && branch.startsWith(MAGIC_COOKIE)
    ? `${branch}|${sentBy}|${method}`
    : undefined;
}

/** Logs a whole message at trace level; its text is made only when the logger reads it (mostly never). */
export function traceMessage(log: SipLogger, dir: 'send' | 'recv', data: Buffer, flow: Flow): void {
  log.trace(
    {
      dir,
      flow,
      get sip(): string {
        return data.toString('utf8');
      },
    },
    dir === 'send' ? 'SIP sent' : 'SIP received',
  );
}

/** The final response of a client transaction, or the 408 (Timer F) or 503 (transport error) it stands for. */
export function responseFor(req: SipRequest, result: SipResponse | ClientFailure): SipResponse {
  if (result === 'timeout') return createResponse(req, 408, 'Request Timeout');
  if (result === 'transport') return createResponse(req, 503, 'Service Unavailable');
  return result;
}

/**
 * The 408 (Timer F) or 503 (transport error) standing for the response to the request sent as `data` (our own
 * bytes, parsed again only on this rare path).
 */
export function failureResponse(data: Buffer, failure: ClientFailure): SipResponse {
  return responseFor(parseMessage(data) as SipRequest, failure);
}

/**
 * Answers `req` outside any transaction (a malformed or too large request): a To tag is added to a final
 * response that lacks one, the top Via is stamped (RFC 3261 §18.2.1); ACK and a request without Via are
 * never answered.
 */
export function replyStateless(
  req: SipRequest,
  flow: Flow,
  transport: Transport,
  status: number,
  reason: string,
  random: Random,
  log: SipLogger,
): void {
  if (req.method === 'ACK' || !req.headers.has('via')) {
    log.debug({ reason, flow }, 'bad request dropped');
    return;
  }
  let res: SipResponse;
  try {
    res = buildResponse(req, status, reason, undefined, undefined, undefined);
    if (status > 100 && !/;\s*tag=/i.test(res.headers.get('to') ?? ';tag=')) {
      res.headers.set('To', `${res.headers.get('to') ?? ''};tag=${random.tag()}`);
    }
    stampTopVia(res, flow);
  } catch (e) {
    log.debug({ err: String(e), reason }, 'bad request dropped: no response possible');
    return;
  }
  log.info({ status, reason, flow, callId: req.headers.get('call-id') }, 'bad request answered');
  transport.send(flow, serializeMessage(res)).catch((e: unknown) => {
    log.warn({ err: String(e) }, 'could not send stateless response');
  });
}

/** Calls the TU with a new request; a throw or rejection becomes its SipError status, or 500 when nothing was sent yet. */
export function invokeHandler(
  handler: ((req: ServerRequest) => void | Promise<void>) | undefined,
  incoming: ServerRequest,
  log: SipLogger,
): void {
  if (handler === undefined) {
    incoming.respond(503, 'Service Unavailable');
    return;
  }
  try {
    const result = handler(incoming);
    if (result instanceof Promise) {
      result.catch((e: unknown) => {
        handlerFailed(incoming, e, log);
      });
    }
  } catch (e) {
    handlerFailed(incoming, e, log);
  }
}

function handlerFailed(incoming: ServerRequest, e: unknown, log: SipLogger): void {
  try {
    if (e instanceof SipError) {
      if (!incoming.responded) incoming.respond(e.status, e.reason, e.headers);
      return;
    }
    log.error(
      { err: e instanceof Error ? e.stack : String(e), callId: incoming.request.headers.get('call-id') },
      'request handler failed',
    );
    if (!incoming.responded) incoming.respond(500, 'Server Internal Error');
  } catch (err) {
    log.error({ err: String(err) }, 'could not answer after handler failure');
  }
}

/** Sends over `transport` without a promise where it can (Transport.sendNow); a failure goes to `onError`. */
export function sendOver(transport: Transport, flow: Flow, data: Buffer, onError: (error: Error) => void): void {
  if (transport.sendNow !== undefined) {
    transport.sendNow(flow, data, onError);
    return;
  }
  transport.send(flow, data).catch((e: unknown) => {
    onError(e instanceof Error ? e : new Error(String(e)));
  });
}
