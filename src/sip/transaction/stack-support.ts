import { SipParseError } from '../errors/sip-parse-error';
import { createResponse } from '../message/create-response';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { Via } from '../message/via';
import type { SipLogger } from '../ports/logger';
import type { Flow } from '../transport/transport';
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
