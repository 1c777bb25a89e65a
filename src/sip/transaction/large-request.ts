import { createResponse } from '../message/create-response';
import { serializeMessage } from '../message/serializer';
import type { SipRequest, SipResponse } from '../message/sip-message';
import type { SipLogger } from '../ports/logger';
import type { Flow, Transport, TransportProtocol } from '../transport/transport';
import type { ClientFailure } from './non-invite-client.transaction';
import { responseFor } from './stack-support';

/**
 * Largest request sent over UDP when the path MTU is unknown (RFC 3261 §18.1.1: a request within 200 bytes
 * of the path MTU, or larger than 1300 bytes when the MTU is unknown, goes over a congestion-controlled
 * transport such as TCP).
 */
export const DEFAULT_UDP_MAX_REQUEST_SIZE = 1300;

/** Largest UDP payload over IPv4: 65,535 bytes minus the IP (20) and UDP (8) headers. */
export const MAX_UDP_DATAGRAM = 65_507;

/** Top Via of a request we send (RFC 3261 §18.1.1): sent-by of `transport`, the branch, `rport` (RFC 3581). */
export function viaFor(transport: Transport, protocol: TransportProtocol, branch: string): string {
  return `SIP/2.0/${protocol.toUpperCase()} ${transport.advertisedHost}:${transport.advertisedPort};branch=${branch};rport`;
}

/** The final response of a client transaction, or why there is none. */
export type ClientOutcome = SipResponse | ClientFailure;

/** Runs client transactions for the stack: each in the slot its branch names (see ClientTable). */
export interface ClientRunner {
  run(slot: number, key: string, data: Buffer, flow: Flow, transport: Transport): Promise<ClientOutcome>;
  /** Frees a slot claimed for a transaction that was not run. */
  release(slot: number): void;
}

/**
 * The request as it would go over UDP: the slot claimed for it, transaction key (with the branch of its top
 * Via), bytes, flow.
 */
export interface UdpAttempt {
  readonly slot: number;
  readonly key: string;
  readonly data: Buffer;
  readonly flow: Flow;
  readonly transport: Transport;
}

/**
 * Sends a request too large for a datagram (RFC 3261 §18.1.1): over TCP to the same address and port, the
 * top Via changed to say TCP; when the connection fails (refused, reset), retried over UDP with its own Via
 * as one datagram when it fits in {@link MAX_UDP_DATAGRAM} bytes. Otherwise nothing is sent: the failure
 * is logged and a 503 synthesized, as for any transport error (§8.1.3.1).
 */
export async function sendLargeRequest(
  req: SipRequest,
  udp: UdpAttempt,
  tcp: { readonly transport: Transport; readonly slot: number; readonly branch: string } | undefined,
  runner: ClientRunner,
  log: SipLogger,
): Promise<SipResponse> {
  const udpVia = req.headers.getAll('via')[0] ?? '';
  const callId = req.headers.get('call-id');
  const to = `${udp.flow.remoteAddress}:${udp.flow.remotePort}`;
  if (tcp !== undefined) {
    replaceTopVia(req, viaFor(tcp.transport, 'tcp', tcp.branch));
    const data = serializeMessage(req);
    const flow: Flow = {
      protocol: 'tcp',
      localAddress: tcp.transport.localAddress,
      localPort: tcp.transport.localPort,
      remoteAddress: udp.flow.remoteAddress,
      remotePort: udp.flow.remotePort,
    };
    const result = await runner.run(tcp.slot, `${tcp.branch}|${req.method}`, data, flow, tcp.transport);
    if (result !== 'transport') {
      runner.release(udp.slot);
      return responseFor(req, result);
    }
    log.info({ callId, size: data.length, to }, 'large request: TCP connection failed, retrying over UDP');
    replaceTopVia(req, udpVia);
  }
  if (udp.data.length > MAX_UDP_DATAGRAM) {
    log.warn({ callId, size: udp.data.length, to }, 'request too large for UDP and not deliverable over TCP');
    runner.release(udp.slot);
    return createResponse(req, 503, 'Service Unavailable (too large for UDP, no TCP)');
  }
  return responseFor(req, await runner.run(udp.slot, udp.key, udp.data, udp.flow, udp.transport));
}

/** Replaces the top Via: it must name the transport actually used (RFC 3261 §18.1.1). */
function replaceTopVia(req: SipRequest, via: string): void {
  const vias = req.headers.getAll('via');
  vias[0] = via;
  req.headers.set('Via', vias);
}
