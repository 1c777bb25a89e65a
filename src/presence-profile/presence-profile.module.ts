import { Module } from '@nestjs/common';
import { PaModule } from '../pa/pa.module';
import { ProfilePackageProvider } from './profile-package.provider';
import { ProfileRepository } from './profile.repository';
import { ProfileService } from './profile.service';
import { ProfilesController } from './profiles.controller';

/**
 * `presence_profile`: the `ua-profile` event package (RFC 6080) in the presence core. Operators upload
 * provisioning documents over REST (`/api/profiles`); devices subscribe with their Event parameters and get
 * the best-matching document, and every new version, in their dialog.
 */
@Module({
  imports: [PaModule],
  controllers: [ProfilesController],
  providers: [ProfileRepository, ProfileService, ProfilePackageProvider],
})
export class PresenceProfileModule {}
