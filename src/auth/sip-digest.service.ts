import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Logger as Pino } from 'pino';
import { PINO } from '../common/app-logger';
import { CLOCK } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  cryptoRandom,
  DigestParseError,
  formatChallenge,
  parseCredentials,
  verifyResponse,
  type Clock,
  type DigestAlgorithm,
  type DigestCredentials,
  type IncomingRequest,
  type TlsPeer,
} from '../sip';
import { RateLimits } from '../access/rate-limits';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import { AuthFailures, type AuthFailureReason } from './auth-failures';
import { DigestNonces, NonceCounts } from './digest-nonce';
import { SubscriberRepository } from './subscriber.repository';
import { SubscriberService, type DigestSecrets } from './subscriber.service';
import { trustedPeers } from './trusted-peers';

/** Name of the nonce key in `server_secrets`. */
const NONCE_SECRET = 'digest-nonce-key';

/** Who is being challenged, and with what. */
interface Challenge {
  readonly realm: string;
  /** Domain of the identity: the To host of REGISTER, the From host of other requests. */
  readonly domain: string;
  readonly register: boolean;
}

/**
 * SIP digest authentication (RFC 3261 §22, RFC 8760) in front of every handler when auth.enabled: requests of
 * auth.sipMethods from untrusted sources must answer a challenge (401 for REGISTER, 407 otherwise; SHA-256 and
 * MD5 offered, qop=auth) with a nonce this server (or another instance, or before a restart) issued, not
 * expired, with a growing nonce-count. The user it proves becomes `req.identity`. Failures are counted and
 * logged one line each.
 */
@Injectable()
export class SipDigestService implements OnModuleInit {
  private nonces: DigestNonces | undefined;
  private readonly counts = new NonceCounts();
  private readonly methods: ReadonlySet<string>;
  private readonly trusted: (address: string) => boolean;
  /** auth.registerOthers: provisioning identities, not limited per identity. */
  private readonly registerOthers: ReadonlySet<string>;
  /** auth.trustedTlsPeers as a set (lower case). */
  private readonly tlsDomains: ReadonlySet<string>;
  private readonly algorithms: readonly DigestAlgorithm[];
  readonly failures: AuthFailures;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PINO) pino: Pino,
    private readonly bridge: SipBridge,
    private readonly subscribers: SubscriberService,
    private readonly repo: SubscriberRepository,
    private readonly limits: RateLimits,
  ) {
    this.methods = new Set(config.auth.sipMethods.map((m) => m.toUpperCase()));
    this.trusted = trustedPeers(config.auth.trustedPeers);
    this.registerOthers = new Set(config.auth.registerOthers.map((u) => u.toLowerCase()));
    this.tlsDomains = new Set(config.auth.trustedTlsPeers.map((d) => d.toLowerCase()));
    this.algorithms = config.auth.algorithms.map((a) => (a.toUpperCase() === 'MD5' ? 'MD5' : 'SHA-256'));
    const log = pino.child({ module: 'auth' });
    this.failures = new AuthFailures((line, fields) => {
      log.warn(fields, line);
    });
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.auth.enabled) return;
    const key = await this.repo.secret(NONCE_SECRET, () => randomBytes(32).toString('hex'), this.clock.now());
    // Salts come from the pooled randomness: one randomBytes call per 8 KiB, not one per challenge.
    const salt = (n: number): Buffer => Buffer.from(cryptoRandom.hex(n), 'hex');
    this.nonces = new DigestNonces(Buffer.from(key, 'hex'), this.config.auth.nonceExpires * 1000, salt);
    this.bridge.useAuthenticator((req) => this.authenticate(req));
  }

  /** Whether a TLS peer's verified certificate names a domain of auth.trustedTlsPeers (RFC 5922 §7). */
  private trustedTls(peer: TlsPeer | undefined): boolean {
    if (peer === undefined || !peer.authorized || this.tlsDomains.size === 0) return false;
    return peer.sipDomains.some((d) => this.tlsDomains.has(d.toLowerCase()));
  }

  /** True when the request may go on (its identity set when it was authenticated); false when answered. */
  authenticate(req: IncomingRequest): boolean | Promise<boolean> {
    const r = req.request;
    if (!this.methods.has(r.method)) return true;
    // A SUBSCRIBE refresh or removal belongs to a dialog that was set up by an authenticated SUBSCRIBE.
    if (r.method === 'SUBSCRIBE' && r.to.tag !== undefined) return true;
    if (this.trusted(req.flow.remoteAddress) || this.trustedTls(req.flow.tlsPeer)) return true;
    const register = r.method === 'REGISTER';
    const domain = (register ? r.to.uri.host : r.from.uri.host).toLowerCase();
    const ch: Challenge = { realm: this.config.auth.realm || domain, domain, register };
    let creds: DigestCredentials | undefined;
    try {
      creds = this.credentialsFor(req, ch.realm);
    } catch (e) {
      if (!(e instanceof DigestParseError)) throw e;
      this.fail(req, '', 'malformed');
      req.respond(400, `Bad Request (${e.message})`);
      return false;
    }
    if (!creds) return this.challenge(req, ch, false);
    const user = `${creds.username}@${domain}`;
    const verdict = this.nonces!.verify(creds.nonce, ch.realm, this.clock.now());
    if (verdict === 'stale') return this.challenge(req, ch, true);
    if (verdict === 'invalid') return this.refuse(req, ch, user, 'bad-nonce', 'nonce not issued here');
    if (creds.qop === undefined) return this.refuse(req, ch, user, 'no-qop', 'qop=auth required');
    if (!this.algorithms.includes(creds.algorithm)) {
      return this.refuse(req, ch, user, 'algorithm', `${creds.algorithm} not offered`);
    }
    const secrets = this.subscribers.secrets(creds.username, domain);
    if (secrets === null || !(secrets instanceof Promise)) return this.verify(req, ch, creds, user, secrets);
    return secrets.then((s) => this.verify(req, ch, creds, user, s));
  }

  private verify(
    req: IncomingRequest,
    ch: Challenge,
    creds: DigestCredentials,
    user: string,
    secrets: DigestSecrets | null,
  ): boolean {
    if (secrets === null) return this.refuse(req, ch, user, 'unknown-user', 'credentials refused');
    if (secrets.realm !== ch.realm) return this.refuse(req, ch, user, 'realm-mismatch', 'credentials refused');
    if (!verifyResponse(creds, req.request.method, secrets.ha1[creds.algorithm])) {
      return this.refuse(req, ch, user, 'wrong-password', 'credentials refused');
    }
    if (!this.counts.accept(creds.nonce, parseInt(creds.nc ?? '0', 16))) {
      return this.refuse(req, ch, user, 'nonce-reused', 'nonce-count reused');
    }
    const identity = `sip:${creds.username}@${ch.domain}`;
    // The rate per identity (rateLimit.identity*), as for API keys; users of auth.registerOthers act for many.
    const retry = this.registerOthers.has(identity.toLowerCase()) ? 0 : this.limits.identity(identity);
    if (retry > 0) {
      req.respond(503, 'Service Unavailable (too many requests from this user)', { 'Retry-After': String(retry) });
      return false;
    }
    req.identity = identity;
    return true;
  }

  /** The Digest credentials for `realm` among the request's (Proxy-)Authorization fields. */
  private credentialsFor(req: IncomingRequest, realm: string): DigestCredentials | undefined {
    const name = req.request.method === 'REGISTER' ? 'authorization' : 'proxy-authorization';
    for (const value of req.request.headers.getAll(name)) {
      const creds = parseCredentials(value);
      if (creds?.realm === realm) return creds;
    }
    return undefined;
  }

  private refuse(
    req: IncomingRequest,
    ch: Challenge,
    user: string,
    reason: AuthFailureReason,
    phrase: string,
  ): boolean {
    this.fail(req, user, reason);
    return this.challenge(req, ch, false, phrase);
  }

  private fail(req: IncomingRequest, user: string, reason: AuthFailureReason): void {
    this.failures.record({
      source: req.flow.remoteAddress,
      port: req.flow.remotePort,
      user,
      method: req.request.method,
      reason,
    });
  }

  /** 401 with WWW-Authenticate (REGISTER) or 407 with Proxy-Authenticate, one per algorithm (RFC 8760 §2.4). */
  private challenge(req: IncomingRequest, ch: Challenge, stale: boolean, phrase?: string): false {
    const nonce = this.nonces!.issue(ch.realm, this.clock.now());
    const values = this.algorithms.map((algorithm) =>
      formatChallenge({ realm: ch.realm, nonce, algorithm, qop: ['auth'], ...(stale && { stale }) }),
    );
    const base = ch.register ? 'Unauthorized' : 'Proxy Authentication Required';
    const reason = phrase === undefined ? base : `${base} (${phrase})`;
    if (ch.register) req.respond(401, reason, { 'WWW-Authenticate': values });
    else req.respond(407, reason, { 'Proxy-Authenticate': values });
    return false;
  }
}
