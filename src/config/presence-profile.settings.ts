import type { Setting } from './config-schema';

/** Settings of `presenceProfile` (the `ua-profile` event package, RFC 6080), kept beside the main list. */
export const PRESENCE_PROFILE_SETTINGS: readonly Setting[] = [
  {
    key: 'presenceProfile.defaultExpires',
    type: { kind: 'int', min: 1, max: 31_536_000 },
    default: 3600,
    origin: 'presence_profile: default_expires',
    doc: 'Expiry of a ua-profile SUBSCRIBE without Expires (within pa.minExpires..pa.maxExpires).',
  },
  {
    key: 'presenceProfile.maxDocumentSize',
    type: { kind: 'int', min: 1, max: 16_777_216 },
    default: 1_048_576,
    doc: 'Largest profile document in bytes (REST upload or PUBLISH); a larger one gets 413.',
  },
  {
    key: 'presenceProfile.trustedPublishers',
    type: { kind: 'list', item: /^(sips?:\S+|[a-z0-9.-]+)$/, hint: 'a comma-separated list of sip: URIs or domains' },
    default: [],
    doc: 'Provisioning sources whose PUBLISH Event: ua-profile stores a document (SIP URIs or domains of the From URI). Empty: PUBLISH of ua-profile is refused (403).',
  },
];
