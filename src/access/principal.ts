import type { IncomingMessage } from 'node:http';

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

/** Who a request or a socket acts as: the API key it presented. */
export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  /** The AoR a user key acts for; admins act for any. */
  readonly aor?: string;
}

/** Whether `p` may act for `aor`: admins for any, a user key for its own AoR only. */
export function mayActFor(p: Principal, aor: string): boolean {
  return p.role === 'admin' || p.aor === aor;
}

/** A one-line description of a principal for error messages and logs (never the key). */
export function describePrincipal(p: Principal): string {
  return p.role === 'admin' ? `admin key ${p.keyId}` : `user key ${p.keyId} of ${p.aor ?? '?'}`;
}

/**
 * The principal of each authenticated HTTP request and WebSocket upgrade, set by the access checks and read
 * by the controllers, the browser gateway (its `handleConnection` gets the upgrade request) and the SIP bridge.
 */
const principals = new WeakMap<IncomingMessage, Principal>();

export function setPrincipal(req: IncomingMessage, p: Principal): void {
  principals.set(req, p);
}

export function principalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}
