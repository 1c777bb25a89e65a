import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Logger as Pino } from 'pino';
import { PINO } from '../common/app-logger';
import { DomainError } from '../common/domain-error';
import type { UpgradeRefusal } from '../common/shared-ws.adapter';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiKeyService } from './api-key.service';
import { setPrincipal, type Principal } from './principal';
import { plainAddress } from './rate-limiter';
import { RateLimits } from './rate-limits';

/** Subprotocol form of a token on a WebSocket upgrade, for browsers (which cannot set headers there). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'token.';

/**
 * The API key a request presents: `Authorization: Bearer <key>` or `X-API-Key: <key>`; on a WebSocket upgrade
 * (`upgrade`) also the `token` query parameter or a `token.<key>` subprotocol. REST takes no query token:
 * URLs end up in logs and `token` is the content-indirection URLs' own parameter.
 */
export function presentedKey(req: IncomingMessage, upgrade: boolean): string | undefined {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  if (!upgrade) return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q !== -1) {
    const token = new URLSearchParams(url.slice(q + 1)).get('token');
    if (token) return token;
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const sub = offered.find((p) => p.startsWith(TOKEN_SUBPROTOCOL_PREFIX));
  return sub?.slice(TOKEN_SUBPROTOCOL_PREFIX.length) || undefined;
}

const MISSING = 'an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>';
const MISSING_WS = `${MISSING}, or on a WebSocket the query parameter token=<key> or the subprotocol ${TOKEN_SUBPROTOCOL_PREFIX}<key>`;
const INVALID = 'the API key is not valid: unknown, revoked or expired';

/**
 * Authentication of HTTP requests and WebSocket upgrades by API key, with the per-address and per-identity
 * rate limits, and a log line per failed authentication (`failed authentication from <address>: ...`, for
 * fail2ban and the like).
 */
@Injectable()
export class AccessService {
  /** Failed authentications since start. */
  failures = 0;
  private readonly log: Pino;

  constructor(
    private readonly keys: ApiKeyService,
    private readonly limits: RateLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PINO) pino: Pino,
  ) {
    this.log = pino.child({ context: 'Access' });
  }

  get enabled(): boolean {
    return this.config.auth.enabled;
  }

  /**
   * The principal of an HTTP request (auth enabled): 401 without a valid key (field `Authorization`), 429 when
   * a user key is over its rate.
   */
  async authenticate(req: IncomingMessage): Promise<Principal> {
    const key = presentedKey(req, false);
    if (key === undefined) {
      this.failed(req, 'no API key');
      throw new DomainError(401, MISSING, 'Authorization');
    }
    const principal = await this.keys.verify(key);
    if (!principal) {
      this.failed(req, 'invalid API key');
      throw new DomainError(401, INVALID, 'Authorization');
    }
    const retry = this.identityLimit(principal);
    if (retry > 0) {
      throw new DomainError(429, `too many requests with this API key; retry after ${retry} s`, undefined, retry);
    }
    setPrincipal(req, principal);
    return principal;
  }

  /**
   * Checks a WebSocket upgrade: the source address's HTTP rate, then with auth enabled its key (required on /ws,
   * on /sip per `requireKey`). The principal is attached to the request for the connection handler.
   */
  async checkUpgrade(req: IncomingMessage, requireKey: boolean): Promise<UpgradeRefusal | undefined> {
    const retry = this.limits.httpSource(req.socket.remoteAddress);
    if (retry > 0) return { status: 429, message: `too many requests from this address`, retryAfter: retry };
    if (!this.enabled) return undefined;
    const key = presentedKey(req, true);
    if (key === undefined) {
      if (!requireKey) return undefined;
      this.failed(req, 'no API key');
      return { status: 401, message: MISSING_WS };
    }
    const principal = await this.keys.verify(key);
    if (!principal) {
      this.failed(req, 'invalid API key');
      return { status: 401, message: INVALID };
    }
    setPrincipal(req, principal);
    return undefined;
  }

  /** Takes one request of `p` (user keys only; admin keys are the operator's and not limited): 0 or Retry-After. */
  identityLimit(p: Principal): number {
    return p.role === 'admin' ? 0 : this.limits.identity(p.keyId);
  }

  private failed(req: IncomingMessage, reason: string): void {
    this.failures++;
    const source = plainAddress(req.socket.remoteAddress ?? '?');
    const path = (req.url ?? '').split('?')[0];
    this.log.warn(
      { source, reason, method: req.method, path },
      `failed authentication from ${source}: ${reason} on ${req.method ?? '?'} ${path}`,
    );
  }
}
