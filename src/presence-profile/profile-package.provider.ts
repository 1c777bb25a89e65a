import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { ProfileService } from './profile.service';
import { createUaProfilePackage } from './ua-profile.package';

/**
 * Registers the `ua-profile` package (RFC 6080) with the settings of the `presenceProfile` section; the expiry
 * bounds are the presence core's (`pa`).
 */
@Injectable()
export class ProfilePackageProvider implements OnModuleInit {
  constructor(
    private readonly registry: EventPackageRegistry,
    private readonly profiles: ProfileService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const { pa, presenceProfile } = this.config;
    this.registry.add(
      createUaProfilePackage(
        {
          defaultExpires: Math.min(pa.maxExpires, Math.max(pa.minExpires, presenceProfile.defaultExpires)),
          minExpires: pa.minExpires,
          maxExpires: pa.maxExpires,
        },
        this.profiles,
      ),
    );
  }
}
