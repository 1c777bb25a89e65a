import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { ROUTE_ACCESS, type RouteAccess } from './access.decorators';
import { AccessService } from './access.service';
import { describePrincipal, mayActFor, type Principal } from './principal';

/** A user key's AoR check: the canonical AoR of `raw`, or undefined when it is not an AoR at all. */
function aorOf(raw: unknown): string | undefined {
  try {
    return parseAor(raw);
  } catch {
    return undefined;
  }
}

/**
 * The global guard of the REST API when auth.enabled: every route needs an API key except `@Public()` ones;
 * admin keys may use every route, user keys only routes marked `@ForAorParam`/`@ForAorQuery`, and only for
 * their own AoR. A route without metadata is for admins only, so a new route is closed until marked.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http' || !this.access.enabled) return true;
    const meta = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (meta?.public) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    let principal: Principal;
    try {
      principal = await this.access.authenticate(req);
    } catch (e) {
      if (e instanceof DomainError && e.status === 401) {
        ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="presence-hub"');
      }
      throw e;
    }
    if (principal.role === 'admin') return true;
    if (meta === undefined) {
      throw new DomainError(403, `${describePrincipal(principal)} may not use this route: it is for admin keys only`);
    }
    const field = 'param' in meta ? meta.param : meta.query;
    const raw: unknown = 'param' in meta ? req.params[meta.param] : req.query[meta.query];
    if (raw === undefined || raw === '') {
      throw new DomainError(403, `a user key must name its own AoR (${principal.aor ?? '?'}) in ${field}`, field);
    }
    const aor = aorOf(raw);
    if (aor === undefined || !mayActFor(principal, aor)) {
      throw new DomainError(
        403,
        `${describePrincipal(principal)} may act only for its own AoR, not ${typeof raw === 'string' ? raw : field}`,
        field,
      );
    }
    return true;
  }
}
