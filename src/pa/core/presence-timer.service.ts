import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { CLOCK, every } from '../../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import type { Clock } from '../../sip';
import { PublishService } from './publish.service';
import { SubscriptionService } from './subscription.service';

/**
 * Restores stored subscriptions at start and sweeps expired publications and subscriptions every
 * `pa.timerInterval` seconds; the first sweep runs at once, so what expired while the server was down
 * is removed and its watchers told (NOTIFY terminated;reason=timeout).
 */
@Injectable()
export class PresenceTimer implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('PresenceTimer');
  private stop: (() => void) | undefined;
  private running = false;

  constructor(
    private readonly subscriptions: SubscriptionService,
    private readonly publisher: PublishService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const n = await this.subscriptions.restore();
    if (n) this.log.log(`restored ${n} subscriptions`);
  }

  onApplicationBootstrap(): void {
    void this.sweep();
    this.stop = every(this.clock, this.config.pa.timerInterval * 1000, () => void this.sweep());
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  async sweep(now = this.clock.now()): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.publisher.expire(now);
      await this.subscriptions.expire(now);
    } catch (e) {
      this.log.error(`sweep failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
