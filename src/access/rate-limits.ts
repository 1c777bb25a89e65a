import { Inject, Injectable } from '@nestjs/common';
import { CLOCK } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { Clock } from '../sip';
import { AddressSet, plainAddress, RateLimiter } from './rate-limiter';

/**
 * The rate limits (README, "Security"): token buckets per source address for SIP and for HTTP (REST and
 * WebSocket upgrades), and per identity (a user API key) across REST, /ws messages and SIP over a /sip
 * connection opened with it. Each method returns 0 when the request may proceed, else the Retry-After
 * seconds.
 */
@Injectable()
export class RateLimits {
  private readonly sip: RateLimiter;
  private readonly http: RateLimiter;
  private readonly identities: RateLimiter;
  private readonly exempt: AddressSet;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(CLOCK) clock: Clock) {
    const r = config.rateLimit;
    const now = (): number => clock.now();
    this.sip = new RateLimiter({ perSecond: r.sipPerSecond, burst: r.sipBurst, maxKeys: r.maxTracked, now });
    this.http = new RateLimiter({ perSecond: r.restPerSecond, burst: r.restBurst, maxKeys: r.maxTracked, now });
    this.identities = new RateLimiter({
      perSecond: r.identityPerSecond,
      burst: r.identityBurst,
      maxKeys: r.maxTracked,
      now,
    });
    this.exempt = new AddressSet(r.exempt, r.exemptLoopback);
  }

  /** Whether SIP requests are limited at all (so the bridge can skip the check). */
  get sipEnabled(): boolean {
    return this.sip.enabled;
  }

  sipSource(address: string): number {
    return this.sip.enabled && !this.exempt.has(address) ? this.sip.take(plainAddress(address)) : 0;
  }

  httpSource(address: string | undefined): number {
    if (!this.http.enabled || address === undefined || this.exempt.has(address)) return 0;
    return this.http.take(plainAddress(address));
  }

  identity(keyId: string): number {
    return this.identities.take(keyId);
  }
}
