import { Module } from '@nestjs/common';
import { PaModule } from '../pa/pa.module';
import { ReginfoPackageProvider } from './reginfo-package.provider';

/**
 * `presence_reginfo`: the `reg` event package (RFC 3680) in the presence core. Watchers of an AoR learn of its
 * registrations from the location service and from reginfo publications; REST and the browser WebSocket read
 * the same state through the core's generic routes.
 */
@Module({
  imports: [PaModule],
  providers: [ReginfoPackageProvider],
})
export class PresenceReginfoModule {}
