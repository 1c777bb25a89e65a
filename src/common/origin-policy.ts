import type { IncomingMessage } from 'node:http';

/**
 * Which browser origins may use the server (`http.corsOrigins`): the server's own always, the listed ones
 * (`scheme://host[:port]`, lower case), or any with `*`. Browsers send `Origin` on cross-origin requests and on
 * every WebSocket upgrade; a request without one (curl, SIP phones, server-side clients) is not a browser's
 * and is not restricted here.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly listed: ReadonlySet<string>;

  constructor(allowed: readonly string[]) {
    this.any = allowed.includes('*');
    this.listed = new Set(allowed.filter((o) => o !== '*'));
  }

  /** Whether CORS may let a page of `origin` read the answers (the REST API). */
  allowsCrossOrigin(origin: string): boolean {
    return this.any || this.listed.has(origin.toLowerCase());
  }

  /** Whether an HTTP request (a WebSocket upgrade) may proceed: no Origin, the same origin, or an allowed one. */
  allowsRequest(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    return this.allowsCrossOrigin(origin) || sameOrigin(origin, req.headers.host);
  }
}

/** Whether `origin` names the host (and port) the request was sent to; the scheme is not compared. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
