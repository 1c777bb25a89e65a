import { ServerSecretEntity } from '../auth/entities/server-secret.entity';
import { SubscriberEntity } from '../auth/entities/subscriber.entity';
import { ApiKeyEntity } from '../access/entities/api-key.entity';
import { AorAttributeEntity } from '../location/entities/aor-attribute.entity';
import { ContactEntity } from '../location/entities/contact.entity';
import { PublicationEntity } from '../pa/entities/publication.entity';
import { SubscriptionEntity } from '../pa/entities/subscription.entity';
import { ProfileChunkEntity } from '../presence-profile/entities/profile-chunk.entity';
import { ProfileEntity } from '../presence-profile/entities/profile.entity';
import { PuaEntity } from '../sip-client/entities/pua.entity';
import { WatcherRuleEntity } from '../pa/watchers/entities/watcher-rule.entity';

/** Every entity the data source maps; the migrations in `migrations/` create exactly these tables. */
export const ENTITIES = [
  ContactEntity,
  AorAttributeEntity,
  PublicationEntity,
  SubscriptionEntity,
  ProfileEntity,
  ProfileChunkEntity,
  PuaEntity,
  SubscriberEntity,
  ServerSecretEntity,
  ApiKeyEntity,
  WatcherRuleEntity,
];
