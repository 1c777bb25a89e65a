/**
 * The error type of the SIP core (STYLE.md habit 7): a status code and reason phrase that the edge turns
 * into a SIP status line (RFC 3261 §7.2, §21). Handlers passed to `SipStack.onRequest` may throw it; the
 * stack then answers with `status`, `reason` and `headers`.
 */
export class SipError extends Error {
  constructor(
    /** A SIP status code, 300–699 (RFC 3261 §21). */
    readonly status: number,
    /** The reason phrase sent on the status line. */
    readonly reason: string,
    /** Extra header fields for the response, e.g. `{ 'Min-Expires': '60' }` for a 423. */
    readonly headers: Readonly<Record<string, string | string[]>> = {},
  ) {
    super(`${status} ${reason}`);
    this.name = 'SipError';
  }
}
