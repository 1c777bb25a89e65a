import { Module } from '@nestjs/common';
import { PortsModule } from '../common/ports.module';
import { AorAttributesService } from './aor-attributes.service';
import { LocationRepository } from './location.repository';
import { LocationService } from './location.service';
import { RegisterHandler } from './register.handler';
import { RegistrationsController } from './registrations.controller';

/** Registrar and location service (usrloc): REGISTER over SIP, bindings over REST, contact events. */
@Module({
  imports: [PortsModule],
  controllers: [RegistrationsController],
  providers: [LocationRepository, LocationService, AorAttributesService, RegisterHandler],
  exports: [LocationService, AorAttributesService],
})
export class LocationModule {}
