import type { IncomingMessage } from 'node:http';
import { describePrincipal, principalOf, type Principal } from '../access/principal';
import { SipError, type Flow, type SipRequest } from '../sip';

/**
 * Identities bound to SIP-over-WebSocket connections opened with an API key (`/sip?token=...`, README
 * "Security"): every request on such a connection acts for the key's identity. A user key's requests must
 * be its own AoR's — the To of a REGISTER (the AoR registered), the From of anything else — else 403; each
 * request counts against the key's rate (503 with Retry-After beyond it).
 */
export class SipWsIdentities {
  private readonly byConnection = new Map<string, Principal>();

  constructor(private readonly identityLimit: (p: Principal) => number) {}

  /** Binds the principal the upgrade request authenticated, if any, to the new connection. */
  bind(connectionId: string, req: IncomingMessage): void {
    const p = principalOf(req);
    if (p) this.byConnection.set(connectionId, p);
  }

  drop(flow: Flow): void {
    if (flow.connectionId !== undefined) this.byConnection.delete(flow.connectionId);
  }

  /** The identity a request on `flow` acts for, when its connection was opened with an API key. */
  of(flow: Flow): Principal | undefined {
    return flow.connectionId === undefined ? undefined : this.byConnection.get(flow.connectionId);
  }

  /** Refuses a request its connection's key may not make (403) or not now (503 with Retry-After). */
  check(request: SipRequest, flow: Flow): void {
    const p = this.of(flow);
    if (p === undefined) return;
    const retry = this.identityLimit(p);
    if (retry > 0) {
      throw new SipError(503, 'Service Unavailable (too many requests with this API key)', {
        'Retry-After': String(retry),
      });
    }
    if (p.role === 'admin' || request.method === 'ACK' || request.method === 'CANCEL') return;
    const aor = (request.method === 'REGISTER' ? request.to : request.from).uri.aor();
    if (aor !== p.aor) {
      const header = request.method === 'REGISTER' ? 'To' : 'From';
      throw new SipError(403, `Forbidden (${describePrincipal(p)} may not act for ${aor}, the ${header})`);
    }
  }
}
