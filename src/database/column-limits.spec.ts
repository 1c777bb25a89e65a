import { getMetadataArgsStorage } from 'typeorm';
import { FIELD_LIMITS, TEXT_BYTES, type LimitedField } from '../common/field-limits';
import { ENTITIES } from './entities';

/** The limit each stored text column is checked against before a write. */
const COLUMN_FIELDS: Readonly<Record<string, LimitedField>> = {
  'location.id': 'id',
  'location.domain': 'domain',
  'location.aor': 'aor',
  'location.contact': 'contactUri',
  'location.call_id': 'callId',
  'location.instance': 'instance',
  'location.path': 'path',
  'location.user_agent': 'userAgent',
  'location.source_proto': 'protocol',
  'location.source_ip': 'ip',
  'location.local_ip': 'ip',
  'location.connection_id': 'connectionId',
  'location_attrs.domain': 'domain',
  'location_attrs.aor': 'aor',
  'location_attrs.attr_key': 'attributeKey',
  'location_attrs.value': 'attributeValue',
  'presentity.id': 'id',
  'presentity.presentity': 'aor',
  'presentity.event': 'eventPackage',
  'presentity.etag': 'entityTag',
  'presentity.content_type': 'contentType',
  'presentity.body': 'body',
  'presentity.source': 'source',
  'location.contact_params': 'contactParams',
  'active_watchers.id': 'id',
  'active_watchers.kind': 'subscriptionKind',
  'active_watchers.owner': 'owner',
  'active_watchers.presentity': 'aor',
  'active_watchers.event': 'eventPackage',
  'active_watchers.event_id': 'eventId',
  'active_watchers.watcher': 'watcher',
  'active_watchers.status': 'subscriptionStatus',
  'active_watchers.accept': 'accept',
  'active_watchers.call_id': 'callId',
  'active_watchers.local_tag': 'localTag',
  'active_watchers.dialog': 'dialog',
  'active_watchers.event_params': 'eventParams',
  'active_watchers.package_state': 'packageState',
  'watcher_rules.presentity': 'aor',
  'watcher_rules.watcher': 'watcher',
  'watcher_rules.policy': 'watcherPolicy',
  'ua_profiles.id': 'id',
  'ua_profiles.aor': 'aor',
  'ua_profiles.profile_type': 'profileType',
  'ua_profiles.vendor': 'profileTarget',
  'ua_profiles.model': 'profileTarget',
  'ua_profiles.version': 'profileTarget',
  'ua_profiles.appids': 'appids',
  'ua_profiles.content_type': 'contentType',
  'ua_profiles.etag': 'entityTag',
  'ua_profile_chunks.id': 'chunkId',
  'ua_profile_chunks.etag': 'entityTag',
  'api_keys.id': 'id',
  'api_keys.hash': 'apiKeyHash',
  'api_keys.prefix': 'apiKeyPrefix',
  'api_keys.role': 'apiKeyRole',
  'api_keys.aor': 'aor',
  'api_keys.label': 'apiKeyLabel',
  'location.origin': 'puaUri',
  'pua.id': 'id',
  'pua.kind': 'subscriptionKind',
  'pua.owner': 'puaOwner',
  'pua.owner_key': 'puaUri',
  'pua.uri': 'puaUri',
  'pua.from_uri': 'puaUri',
  'pua.event': 'eventPackage',
  'pua.route': 'puaUri',
  'pua.content_type': 'contentType',
  'pua.body': 'body',
  'pua.etag': 'entityTag',
  'pua.call_id': 'callId',
  'pua.local_tag': 'localTag',
  'pua.dialog': 'dialog',
  'pua.state': 'subscriptionStatus',
  'pua.last_reason': 'puaReason',
  'pua.options': 'puaOptions',
  'subscriber.id': 'id',
  'subscriber.username': 'username',
  'subscriber.domain': 'subscriberDomain',
  'subscriber.realm': 'realm',
  'subscriber.ha1_md5': 'ha1Md5',
  'subscriber.ha1_sha256': 'ha1Sha256',
  'server_secrets.name': 'secretName',
  'server_secrets.value': 'secretValue',
};

function textColumns(): { column: string; type: string; length: number | undefined }[] {
  const storage = getMetadataArgsStorage();
  return ENTITIES.flatMap((entity) => {
    const table = storage.tables.find((t) => t.target === entity)?.name ?? '';
    return storage
      .filterColumns(entity)
      .filter((c) => c.options.type === 'varchar' || c.options.type === 'text')
      .map((c) => ({
        column: `${table}.${c.options.name ?? c.propertyName}`,
        type: String(c.options.type),
        length: c.options.length === undefined ? undefined : Number(c.options.length),
      }));
  });
}

describe('field limits', () => {
  it.each(textColumns().map((c) => [c.column, c] as const))('%s is checked against its column size', (column, c) => {
    const field = COLUMN_FIELDS[column];
    expect(field).toBeDefined();
    const limit = FIELD_LIMITS[field];
    if (c.type === 'text') expect(limit).toEqual({ max: TEXT_BYTES, unit: 'bytes' });
    else expect(limit).toEqual({ max: c.length, unit: 'characters' });
  });
});
