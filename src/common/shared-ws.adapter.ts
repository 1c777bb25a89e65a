import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

/** What the adapter needs of a `ws` server registered for a path (`WsAdapter` sets `path` on it). */
interface PathWsServer {
  readonly path: string;
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: unknown) => void): void;
  emit(event: 'connection', ws: unknown, req: http.IncomingMessage): boolean;
}

function pathnameOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** Why an upgrade is refused (auth, rate limit): the status, a message for the JSON body, Retry-After for 429. */
export interface UpgradeRefusal {
  readonly status: number;
  readonly message: string;
  readonly retryAfter?: number;
}

/** Checks an upgrade after the Origin test: undefined lets it through. */
export type UpgradeCheck = (req: http.IncomingMessage, path: string) => Promise<UpgradeRefusal | undefined>;

/** Answers an upgrade with an HTTP error status and closes the socket. */
function refuse(socket: Duplex, status: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => {
    socket.destroy();
  });
}

/**
 * The HTTP answer to a refused upgrade: the status, the REST error body `{statusCode, error, message}`, Retry-After
 * for 429 and `WWW-Authenticate: Bearer` for 401.
 */
export function refusalResponse(r: UpgradeRefusal): string {
  const error = http.STATUS_CODES[r.status] ?? 'Error';
  const body = JSON.stringify({ statusCode: r.status, error, message: r.message });
  const extra =
    (r.retryAfter !== undefined ? `Retry-After: ${r.retryAfter}\r\n` : '') +
    (r.status === 401 ? 'WWW-Authenticate: Bearer realm="presence-hub"\r\n' : '');
  return (
    `HTTP/1.1 ${r.status} ${error}\r\nConnection: close\r\nContent-Type: application/json\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function refuseWith(socket: Duplex, r: UpgradeRefusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(refusalResponse(r), () => {
    socket.destroy();
  });
}

/**
 * Nest's {@link WsAdapter} for an HTTP server it shares with other WebSocket endpoints.
 *
 * The stock adapter, when gateways share the application's HTTP server, destroys every upgrade whose path
 * none of its gateways serve — including SIP over WebSocket (RFC 7118) at `/sip`, which the SIP transport
 * accepts through its own `'upgrade'` listener. This adapter dispatches upgrades for its gateways' paths as
 * before (after `allowUpgrade`, e.g. an Origin check, which refuses with 403), leaves upgrades for the
 * configured foreign paths untouched for their owners, and refuses any other path with 404. `checkUpgrade` (API
 * keys, rate limits) runs after the Origin test and may refuse with its own status (401, 429) and JSON body.
 */
export class SharedWsAdapter extends WsAdapter {
  private readonly foreignPaths: ReadonlySet<string>;

  constructor(
    appOrHttpServer: INestApplicationContext | object,
    foreignPaths: readonly string[],
    private readonly allowUpgrade: (req: http.IncomingMessage) => boolean = () => true,
    private readonly checkUpgrade?: UpgradeCheck,
  ) {
    super(appOrHttpServer);
    this.foreignPaths = new Set(foreignPaths);
  }

  protected override ensureHttpServerExists(
    port: number,
    httpServer: http.Server = http.createServer(),
  ): http.Server | undefined {
    if (this.httpServersRegistry.has(port)) return undefined;
    this.httpServersRegistry.set(port, httpServer);
    httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.routeUpgrade(port, req, socket, head);
    });
    return httpServer;
  }

  private routeUpgrade(port: number, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const pathname = pathnameOf(req.url);
    const servers = (this.wsServersRegistry.get(port) ?? []) as PathWsServer[];
    const target = servers.find((s) => s.path === pathname);
    if (target) {
      if (!this.allowUpgrade(req)) {
        refuse(socket, '403 Forbidden');
        return;
      }
      if (!this.checkUpgrade) {
        this.accept(target, req, socket, head);
        return;
      }
      this.checkUpgrade(req, pathname).then(
        (refusal) => {
          if (socket.destroyed) return;
          if (refusal) refuseWith(socket, refusal);
          else this.accept(target, req, socket, head);
        },
        () => {
          refuseWith(socket, { status: 503, message: 'the credentials could not be checked; try again' });
        },
      );
      return;
    }
    // Another listener on the same server (the SIP WS transport) owns this path.
    if (this.foreignPaths.has(pathname)) return;
    refuse(socket, '404 Not Found');
  }

  private accept(target: PathWsServer, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      target.handleUpgrade(req, socket, head, (ws) => {
        target.emit('connection', ws, req);
      });
    } catch {
      socket.destroy();
    }
  }
}
