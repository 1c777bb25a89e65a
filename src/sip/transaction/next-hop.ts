import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SipParseError } from '../errors/sip-parse-error';
import { NameAddr } from '../message/name-addr';
import type { SipRequest } from '../message/sip-message';
import type { SipUri } from '../message/sip-uri';
import type { Flow, Transport, TransportProtocol } from '../transport/transport';

/** Resolves a host name to an address (default `dns.lookup`). */
export type Resolver = (host: string) => Promise<string>;

export const dnsResolver: Resolver = async (host) => (await lookup(host)).address;

/** Where to send a request: protocol, address and port. */
export interface NextHop {
  readonly protocol: TransportProtocol;
  readonly address: string;
  readonly port: number;
}

/**
 * The next hop of a request without a target flow (RFC 3261 §8.1.2, simplified RFC 3263): the top Route
 * when it is a loose router (`lr`), else the Request-URI; its host (an IP address, or a name through
 * `resolve`), port (default 5060, 5061 for TLS) and `transport` parameter (default UDP, TLS for sips).
 * No NAPTR/SRV lookups.
 */
export async function nextHop(req: SipRequest, resolve: Resolver): Promise<NextHop> {
  const hop = nextHopTarget(req);
  if (hop.address !== undefined) return { protocol: hop.protocol, address: hop.address, port: hop.port };
  return { protocol: hop.protocol, address: await resolve(hop.host), port: hop.port };
}

/**
 * What {@link nextHop} does without resolving: `address` is set when the host is an IP address (then no
 * lookup is needed and the caller can go on synchronously), else `host` is the name to resolve.
 */
export function nextHopTarget(req: SipRequest): {
  protocol: TransportProtocol;
  host: string;
  address: string | undefined;
  port: number;
} {
  let uri: SipUri = req.uri;
  const route = req.route[0];
  if (route !== undefined) {
    const routeUri = NameAddr.parse(route, 'Bad Route header').uri;
    if (routeUri.params.has('lr')) uri = routeUri;
  }
  if (!uri.isSip) throw new SipParseError('Unsupported URI scheme for next hop');
  const maddr = uri.params.get('maddr');
  const host = maddr ?? uri.host;
  const param = uri.params.get('transport')?.toLowerCase();
  let protocol: TransportProtocol;
  switch (param) {
    case 'tcp':
    case 'tls':
    case 'ws':
    case 'wss':
    case 'udp':
      protocol = param;
      break;
    case undefined:
    default:
      protocol = uri.scheme === 'sips' ? 'tls' : 'udp';
  }
  const port = uri.port ?? (protocol === 'tls' || protocol === 'wss' ? 5061 : 5060);
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return { protocol, host: bare, address: isIP(bare) !== 0 ? bare : undefined, port };
}

/**
 * The transport a request to a given flow goes out on: the one holding the flow's connection, else the one
 * bound to the flow's local port, else any of its protocol.
 */
export function transportFor(transports: readonly Transport[], flow: Flow): Transport | undefined {
  let fallback: Transport | undefined;
  for (const t of transports) {
    if (t.protocol !== flow.protocol) continue;
    if (flow.connectionId !== undefined && t.hasConnection(flow.connectionId)) return t;
    if (t.localPort === flow.localPort) return t;
    fallback ??= t;
  }
  return fallback;
}

/** Where a new request goes and over which transport (missing when none of that protocol is open). */
export interface Route {
  readonly flow: Flow;
  readonly transport: Transport | undefined;
}

/**
 * The {@link Route} of a new request: `target` when given, otherwise the next hop from the top Route or the
 * Request-URI. An IP address needs no lookup, so the route comes back at once (no promise) and the request
 * can go out in the same call; a host name gives a promise, which rejects when the host cannot be found.
 */
export function routeFor(
  req: SipRequest,
  transports: readonly Transport[],
  resolve: Resolver,
  target?: Flow,
): Route | Promise<Route> {
  if (target !== undefined) return { flow: target, transport: transportFor(transports, target) };
  const direct = nextHopTarget(req);
  if (direct.address !== undefined) {
    return routeTo({ protocol: direct.protocol, address: direct.address, port: direct.port }, transports);
  }
  return nextHop(req, resolve).then((hop) => routeTo(hop, transports));
}

function routeTo(hop: NextHop, transports: readonly Transport[]): Route {
  const transport = transports.find((t) => t.protocol === hop.protocol);
  const flow: Flow = {
    protocol: hop.protocol,
    localAddress: transport?.localAddress ?? '',
    localPort: transport?.localPort ?? 0,
    remoteAddress: hop.address,
    remotePort: hop.port,
  };
  return { flow, transport };
}
