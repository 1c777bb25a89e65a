import { describePrincipal, mayActFor, type Principal } from '../../access/principal';
import { DomainError } from '../../common/domain-error';

/**
 * Who a browser socket subscribes as: a user key's AoR (a `user` naming another is refused, 403 on `user`);
 * for an admin key or an anonymous socket the `user` it names, else the socket itself (`ws:<id>`).
 */
export function wsWatcher(principal: Principal | undefined, user: string | undefined, socketId: string): string {
  if (principal?.role === 'user') {
    if (user !== undefined && user !== principal.aor) {
      throw new DomainError(
        403,
        `${describePrincipal(principal)} subscribes as ${principal.aor ?? '?'}, not ${user}`,
        'user',
      );
    }
    return principal.aor ?? `ws:${socketId}`;
  }
  return user ?? `ws:${socketId}`;
}

/** A socket opened with a user key publishes its own AoR's state only (403 on `aor`); admins any. */
export function assertMayPublish(principal: Principal | undefined, presentity: string): void {
  if (principal && !mayActFor(principal, presentity)) {
    throw new DomainError(
      403,
      `${describePrincipal(principal)} may publish only its own presence, not ${presentity}`,
      'aor',
    );
  }
}
