/**
 * An error of the application's own domain, free of any transport: REST maps it to JSON
 * `{statusCode, error, message}`, SIP to a status line, the browser WebSocket to an `error` message.
 */
export class DomainError extends Error {
  constructor(
    /** HTTP-like status: 400 bad input, 404 unknown, 409 conflict, 412 precondition, 503 overload. */
    readonly status: number,
    message: string,
    /** The request field at fault, when there is one. */
    readonly field?: string,
    /** Seconds after which a retry may succeed (Retry-After in SIP and HTTP), for 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
