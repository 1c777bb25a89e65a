import { SipParseError } from '../errors/sip-parse-error';
import { createResponse } from '../message/create-response';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { Via } from '../message/via';
import type { SipLogger } from '../ports/logger';
import type { Flow } from '../transport/transport';
import type { ClientFailure } from './non-invite-client.transaction';

/** The server transaction key (RFC 3261 §17.2.3): branch + sent-by + method, or the RFC 2543 fields. */
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
 * port empty when absent) + method; undefined for an RFC 2543 branch.
 */
export function rfc3261Key(branch: string | undefined, sentBy: string, method: string): string | undefined {
  return branch?.startsWith('z9hG4bK') ? `${branch}|${sentBy}|${method}` : undefined;
}

/**
 * A copy of `s` in memory of its own. A string cut from a message (a slice, or a concatenation holding one)
 * keeps the whole message text alive; what is kept for long (Timer J: 32 s on UDP) is detached first.
 * For ASCII and Latin-1 text, as transaction keys and Call-IDs are in practice.
 */
export function detached(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
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

/**
 * The outcome callback of a client transaction: the final response, or a synthesized 408 (Timer F) or 503
 * (transport error). Made here, not inside `sendRequest`, because a closure keeps its whole scope alive and
 * a transaction waiting for Timer K must not hold more than this.
 */
export function clientOutcome(
  req: SipRequest,
  resolve: (res: SipResponse) => void,
): (result: SipResponse | ClientFailure) => void {
  return (result) => {
    if (result === 'timeout') resolve(createResponse(req, 408, 'Request Timeout'));
    else if (result === 'transport') resolve(createResponse(req, 503, 'Service Unavailable'));
    else resolve(result);
  };
}
