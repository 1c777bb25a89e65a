import type { SipRequest } from '../message/sip-message';

/**
 * A SIP message or one of its parts does not follow the grammar of RFC 3261 §25.
 *
 * `reason` names the fault in a form fit for a 400 reason phrase ("Bad CSeq header", "Missing Call-ID").
 * When the start line of a request parsed, `partial` holds the request with the header fields read so far,
 * so that the stack can build the 400 (RFC 3261 §8.2, §21.4.1). (`Error.message` is taken by the standard
 * error text, hence `partial` rather than `message`.)
 */
export class SipParseError extends Error {
  constructor(
    readonly reason: string,
    readonly partial?: SipRequest,
    /** The status to answer with when `partial` is set: 400, or 505 for another SIP version. */
    readonly status = 400,
  ) {
    super(reason);
    this.name = 'SipParseError';
  }
}
