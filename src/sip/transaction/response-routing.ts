import type { SipResponse } from '../message/sip-message';
import { Via } from '../message/via';
import type { Flow, Transport } from '../transport/transport';

/**
 * Adds `received` and `rport` to the top Via of a response as the server transport would have added them to
 * the request (RFC 3261 §18.2.1, RFC 3581 §4): `received` when sent-by is not the source address (or rport
 * was requested), `rport` filled with the source port when present without a value. Returns the top Via as
 * the response now carries it.
 */
export function stampTopVia(res: SipResponse, flow: Flow): string | undefined {
  const top = res.headers.getAll('via')[0];
  if (top === undefined) return undefined;
  const stamped = stampedVia(top, flow);
  replaceTopVia(res, stamped);
  return stamped;
}

/** Puts `value` in place of the top Via of `res` (when it has one and it differs). */
export function replaceTopVia(res: SipResponse, value: string): void {
  const vias = res.headers.getAll('via');
  if (vias.length > 0 && vias[0] !== value) {
    vias[0] = value;
    res.headers.set('Via', vias);
  }
}

/**
 * A top Via value as {@link stampTopVia} leaves it for a request from `flow` (unchanged when unparsable).
 * `parsed` is that value as the request already parsed it (left as it is; a copy is stamped).
 */
export function stampedVia(value: string, flow: Flow, parsed?: Via): string {
  let via = parsed;
  if (via === undefined) {
    try {
      via = Via.parse(value);
    } catch {
      return value;
    }
  }
  const source = flow.remoteAddress;
  const sentBy = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const rport = via.rport;
  const received = (sentBy !== source || rport !== undefined) && source !== '' && via.received !== source;
  if (!received && rport !== null) return value;
  return via.stamped(received ? source : undefined, rport === null ? flow.remotePort : undefined);
}

/**
 * Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4): over the request's connection when it is still
 * open; on a reliable transport whose connection is gone, to `received` (or the source) at the sent-by port;
 * on UDP to the source address and port (what `received`/`rport` would give, and what crosses NATs).
 */
export function responseFlow(
  flow: Flow,
  transport: Transport,
  topVia: Pick<Via, 'received' | 'port'> | undefined,
): Flow {
  if (flow.connectionId === undefined || transport.hasConnection(flow.connectionId)) return flow;
  return {
    ...flow,
    connectionId: undefined,
    remoteAddress: topVia?.received ?? flow.remoteAddress,
    remotePort: topVia?.port ?? 5060,
  };
}
