import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventPackageRegistry } from '../core/event-package.registry';
import { createPresencePackage } from './presence.package';

/** Registers the `presence` package (RFC 3856) with the settings of the `pa` section. */
@Injectable()
export class PresencePackageProvider implements OnModuleInit {
  constructor(
    private readonly registry: EventPackageRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const pa = this.config.pa;
    this.registry.add(
      createPresencePackage({
        defaultExpires: pa.defaultExpires,
        minExpires: pa.minExpires,
        maxExpires: pa.maxExpires,
        publishMinExpires: pa.publishMinExpires,
        publishMaxExpires: pa.publishMaxExpires,
        registrarSource: pa.registrarSource,
        publishMaxBodySize: pa.publishMaxBodySize,
      }),
    );
  }
}
