/** A socket the server listens on. */
export interface Listener {
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  /** The URL path of a WebSocket listener on the HTTP server. */
  readonly path?: string;
}

/** What the server serves on HTTP besides SIP over WebSocket; paths fixed by the controllers and gateways. */
const HTTP_SERVICES = 'REST /api, OpenAPI /docs, health /health, browser WebSocket /ws';

const hostPort = (address: string, port: number): string =>
  `${address.includes(':') ? `[${address}]` : address}:${port}`;

/**
 * The start log line: every listener — SIP transports with address:port (WS with its path on the HTTP
 * server), HTTP with what it serves — and the database in use. Returned with the same facts as fields.
 */
export function startReport(
  sip: readonly Listener[],
  http: { readonly address: string; readonly port: number; readonly secure?: boolean },
  database: string,
): { readonly message: string; readonly fields: Record<string, unknown> } {
  const transports = sip.map((l) => `${l.protocol} ${hostPort(l.address, l.port)}${l.path ?? ''}`);
  const httpAt = hostPort(http.address, http.port);
  const sipPart = transports.length > 0 ? transports.join(', ') : 'no transport';
  return {
    message: `listening: SIP ${sipPart}; ${http.secure === true ? 'HTTPS' : 'HTTP'} ${httpAt} (${HTTP_SERVICES}); database ${database}`,
    fields: { sip: transports, http: httpAt, database },
  };
}
