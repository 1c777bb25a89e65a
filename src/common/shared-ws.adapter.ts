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
 * Nest's {@link WsAdapter} for an HTTP server it shares with other WebSocket endpoints.
 *
 * The stock adapter, when gateways share the application's HTTP server, destroys every upgrade whose path
 * none of its gateways serve — including SIP over WebSocket (RFC 7118) at `/sip`, which the SIP transport
 * accepts through its own `'upgrade'` listener. This adapter dispatches upgrades for its gateways' paths as
 * before (after `allowUpgrade`, e.g. an Origin check, which refuses with 403), leaves upgrades for the
 * configured foreign paths untouched for their owners, and refuses any other path with 404.
 */
export class SharedWsAdapter extends WsAdapter {
  private readonly foreignPaths: ReadonlySet<string>;

  constructor(
    appOrHttpServer: INestApplicationContext | object,
    foreignPaths: readonly string[],
    private readonly allowUpgrade: (req: http.IncomingMessage) => boolean = () => true,
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
      try {
        target.handleUpgrade(req, socket, head, (ws) => {
          target.emit('connection', ws, req);
        });
      } catch {
        socket.destroy();
      }
      return;
    }
    // Another listener on the same server (the SIP WS transport) owns this path.
    if (this.foreignPaths.has(pathname)) return;
    refuse(socket, '404 Not Found');
  }
}
