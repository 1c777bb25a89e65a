import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { createReginfoPackage } from './reginfo.package';

/**
 * Registers the `reg` package (RFC 3680) with the settings of the `presenceReginfo` section; the expiry
 * bounds and the largest PUBLISH body are the presence core's (`pa`), the identities key `puaReginfo`'s.
 */
@Injectable()
export class ReginfoPackageProvider implements OnModuleInit {
  constructor(
    private readonly registry: EventPackageRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { pa, presenceReginfo, puaReginfo } = this.config;
    this.registry.add(
      createReginfoPackage({
        defaultExpires: presenceReginfo.defaultExpires,
        minExpires: pa.minExpires,
        maxExpires: pa.maxExpires,
        publishMinExpires: pa.publishMinExpires,
        publishMaxExpires: pa.publishMaxExpires,
        publishMaxBodySize: pa.publishMaxBodySize,
        aggregatePresentities: presenceReginfo.aggregatePresentities,
        identitiesKey: puaReginfo.ulIdentitiesKey,
        trustedWatchers: presenceReginfo.trustedWatchers,
      }),
    );
  }
}
