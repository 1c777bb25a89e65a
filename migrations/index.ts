import { Location1763900000000 } from './1763900000000-location';
import { Presence1763900100000 } from './1763900100000-presence';
import { DropUnusedIndexes1763900200000 } from './1763900200000-drop-unused-indexes';
import { SubscriptionPackageState1763900400000 } from './1763900400000-subscription-package-state';
import { ContactParams1763900500000 } from './1763900500000-contact-params';
import { UaProfiles1763900600000 } from './1763900600000-ua-profiles';
import { WatcherRules1763901800000 } from './1763901800000-watcher-rules';

/** The one migration history, oldest first; valid on SQLite and MySQL (QueryRunner Table API only). */
export const MIGRATIONS = [
  Location1763900000000,
  Presence1763900100000,
  DropUnusedIndexes1763900200000,
  SubscriptionPackageState1763900400000,
  ContactParams1763900500000,
  UaProfiles1763900600000,
  WatcherRules1763901800000,
];
