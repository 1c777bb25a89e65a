import { Module } from '@nestjs/common';
import { PresenceCoreModule } from '../core/presence-core.module';
import { ContentController } from './content.controller';
import { PresenceGateway } from './presence.gateway';
import { PresenceApiService } from './presence-api.service';
import { PresentitiesController } from './presentities.controller';
import { SubscriptionsController } from './subscriptions.controller';

/** REST (`/api/presentities`, `/api/subscriptions`, `/api/content`) and the browser WebSocket (`/ws`) of the presence core. */
@Module({
  imports: [PresenceCoreModule],
  controllers: [PresentitiesController, SubscriptionsController, ContentController],
  providers: [PresenceApiService, PresenceGateway],
})
export class PresenceApiModule {}
