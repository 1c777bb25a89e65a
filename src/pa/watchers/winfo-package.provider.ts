import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventPackageRegistry } from '../core/event-package.registry';
import { Notifier } from '../core/notifier.service';
import { SubscriptionRegistry } from '../core/subscription.registry';
import { GOVERNED_EVENT, WatcherPolicyService } from './watcher-policy.service';
import { createWinfoPackage, WINFO_EVENT } from './winfo.package';

/**
 * Registers `presence.winfo` (RFC 3857) with the presence expiry bounds of `pa`, and tells the notifier that a
 * presentity's watcher information changed whenever one of its presence subscriptions comes or goes (rule
 * changes are told by the policy service).
 */
@Injectable()
export class WinfoPackageProvider implements OnModuleInit {
  constructor(
    private readonly packages: EventPackageRegistry,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly notifier: Notifier,
    private readonly policy: WatcherPolicyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { pa } = this.config;
    this.packages.add(
      createWinfoPackage({ default: pa.defaultExpires, min: pa.minExpires, max: pa.maxExpires }, (presentity) =>
        this.policy.watcherList(presentity),
      ),
    );
    this.subscriptions.onWatcher((s) => {
      if (s.event === GOVERNED_EVENT) this.notifier.changed(s.presentity, WINFO_EVENT);
    });
  }
}
