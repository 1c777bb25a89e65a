import { DomainError } from './domain-error';

/**
 * How long a stored text may be. `characters` is what a MySQL `VARCHAR(n)` counts (JavaScript's UTF-16
 * length is never below it, so checking that is safe); `bytes` is the UTF-8 size a MySQL `TEXT` holds.
 */
export interface FieldLimit {
  readonly max: number;
  readonly unit: 'characters' | 'bytes';
}

const chars = (max: number): FieldLimit => ({ max, unit: 'characters' });

/** What a MySQL `TEXT` column holds: 65,535 bytes. */
export const TEXT_BYTES = 65_535;
const text: FieldLimit = { max: TEXT_BYTES, unit: 'bytes' };

/**
 * The length of every text the server stores, in one place: the entities declare their columns with these
 * (`length: FIELD_LIMITS.aor.max`), migrations created the same sizes (the migrations spec checks the
 * entities against the schema), and requests are checked against them before anything is written, so that
 * SQLite and MySQL refuse the same input and a commit batch never meets a row that does not fit.
 */
export const FIELD_LIMITS = {
  /** `sip:user@host`, the key of bindings, attributes, publications and subscriptions. */
  aor: chars(255),
  /** Location domain (usrloc table name). */
  domain: chars(64),
  /** A Contact URI of a binding; also a subscription's remote target. */
  contactUri: chars(1024),
  callId: chars(255),
  userAgent: chars(255),
  /** A Contact's display name and parameters besides expires, q, +sip.instance and reg-id, as JSON. */
  contactParams: text,
  /** `+sip.instance` (RFC 5626). */
  instance: chars(255),
  /** Path header values (RFC 3327), stored as a JSON array. */
  path: text,
  /** Per-AoR attribute key and value. */
  attributeKey: chars(64),
  attributeValue: text,
  eventPackage: chars(64),
  /** `id` parameter of an Event header (RFC 6665 §8.2.1). */
  eventId: chars(128),
  entityTag: chars(64),
  contentType: chars(128),
  /** A publication's document (PIDF, reginfo, ...). */
  body: text,
  /** Who published (an AoR, `rest`, `ws:<user>`); longer values are cut. */
  source: chars(255),
  /** A subscription's watcher URI; longer values are cut. */
  watcher: chars(255),
  /** A subscription's Accept values, comma-separated; longer lists are cut. */
  accept: chars(512),
  /** A subscription's dialog state (RFC 3261 §12) as JSON: URIs, tags, route set. */
  dialog: text,
  /** A subscription's Event header parameters other than `id`, as JSON. */
  eventParams: text,
  /** An event package's own state of a subscription, as JSON. */
  packageState: text,
  /** The `note` of a REST or WebSocket status; it ends up (escaped) in a body. */
  note: chars(4096),
  /** Our own ids, tags and connection ids. */
  id: chars(40),
  localTag: chars(64),
  connectionId: chars(64),
  ip: chars(64),
  protocol: chars(8),
  subscriptionKind: chars(16),
  /** The module owning an internal watcher (`b2b`, ...). */
  owner: chars(64),
  subscriptionStatus: chars(16),
  /** A presentity's rule for a watcher: allow, deny, polite-block, pending. */
  watcherPolicy: chars(16),
  /** RFC 6080 profile type of a `ua-profile` document. */
  profileType: chars(16),
  /** A `ua-profile` document's vendor, model or version target. */
  profileTarget: chars(64),
  /** A `ua-profile` document's appids target, comma-separated. */
  appids: chars(255),
  /** `<etag>.<seq>` of a slice of a profile document. */
  chunkId: chars(80),
  /** Hex SHA-256 of an API key. */
  apiKeyHash: chars(64),
  /** The first characters of an API key, as listed. */
  apiKeyPrefix: chars(16),
  /** `admin` or `user`. */
  apiKeyRole: chars(8),
  apiKeyLabel: chars(128),
  /** The module holding an outgoing publication or subscription (`pua-reginfo`, `b2b`). */
  puaOwner: chars(64),
  /** A URI of an outgoing publication or subscription (target, From, route, the owner's key); a binding's origin. */
  puaUri: chars(1024),
  /** Reason phrase of the last answer to an outgoing request. */
  puaReason: chars(255),
  /** Options of an outgoing publication or subscription, as JSON. */
  puaOptions: text,
  /** A digest user's name (the user part of its AoR). */
  username: chars(64),
  /** A digest user's domain and the realm of its HA1s. */
  subscriberDomain: chars(128),
  realm: chars(128),
  /** HA1 as hex: 32 digits for MD5, 64 for SHA-256. */
  ha1Md5: chars(32),
  ha1Sha256: chars(64),
  /** Name and hex value of a server secret (the digest nonce key). */
  secretName: chars(64),
  secretValue: chars(128),
} as const satisfies Record<string, FieldLimit>;

export type LimitedField = keyof typeof FIELD_LIMITS;

/** Input longer than its column: 400 naming the field (413 for a document body). */
export class FieldTooLongError extends DomainError {
  constructor(
    field: string,
    readonly limit: FieldLimit,
  ) {
    super(field === 'body' ? 413 : 400, `${field} is too long: at most ${limit.max} ${limit.unit}`, field);
    this.name = 'FieldTooLongError';
  }
}

/** Whether `value` fits `limit`; the UTF-8 size is computed only when the length alone cannot tell. */
export function fits(value: string, limit: FieldLimit): boolean {
  if (limit.unit === 'characters') return value.length <= limit.max;
  // A UTF-16 code unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
  return value.length * 3 <= limit.max || (value.length <= limit.max && Buffer.byteLength(value) <= limit.max);
}

/**
 * Throws {@link FieldTooLongError} naming `field` (the SIP header or JSON field the value came from) when
 * `value` does not fit the column of `kind`.
 */
export function checkLength(kind: LimitedField, value: string | null | undefined, field: string = kind): void {
  const limit = FIELD_LIMITS[kind];
  if (value !== null && value !== undefined && !fits(value, limit)) throw new FieldTooLongError(field, limit);
}
