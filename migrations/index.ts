import { Location1763900000000 } from './1763900000000-location';
import { Presence1763900100000 } from './1763900100000-presence';
import { DropUnusedIndexes1763900200000 } from './1763900200000-drop-unused-indexes';
import { SubscriptionPackageState1763900400000 } from './1763900400000-subscription-package-state';
import { ContactParams1763900500000 } from './1763900500000-contact-params';
import { UaProfiles1763900600000 } from './1763900600000-ua-profiles';
import { Pua1763900716000 } from './1763900716000-pua';
import { ContactOrigin1763900717000 } from './1763900717000-contact-origin';
import { ApiKeys1763900720000 } from './1763900720000-api-keys';
import { Subscribers1763900800000 } from './1763900800000-subscribers';
import { InternalWatchers1763901700000 } from './1763901700000-internal-watchers';
import { WatcherRules1763901800000 } from './1763901800000-watcher-rules';

/** The one migration history, oldest first; valid on SQLite and MySQL (QueryRunner Table API only). */
export const MIGRATIONS = [
  Location1763900000000,
  Presence1763900100000,
  DropUnusedIndexes1763900200000,
  SubscriptionPackageState1763900400000,
  ContactParams1763900500000,
  UaProfiles1763900600000,
  Pua1763900716000,
  ContactOrigin1763900717000,
  ApiKeys1763900720000,
  Subscribers1763900800000,
  InternalWatchers1763901700000,
  WatcherRules1763901800000,
];
