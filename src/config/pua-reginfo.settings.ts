import type { Setting } from './config-schema';

const sipUriOrEmpty = { kind: 'string', pattern: /^$|^sips?:\S+$/i, hint: 'a sip: or sips: URI, or empty' } as const;

/** Settings of `puaReginfo` (Kamailio's pua_reginfo: reginfo published and subscribed to), kept beside the main list. */
export const PUA_REGINFO_SETTINGS: readonly Setting[] = [
  {
    key: 'puaReginfo.defaultDomain',
    type: { kind: 'string' },
    default: '',
    origin: 'pua_reginfo: default_domain',
    doc: 'Domain added to AoRs without one.',
  },
  {
    key: 'puaReginfo.publishReginfo',
    type: { kind: 'bool' },
    default: true,
    origin: 'pua_reginfo: publish_reginfo',
    doc: 'PUBLISH reginfo when users register here.',
  },
  {
    key: 'puaReginfo.outboundProxy',
    type: sipUriOrEmpty,
    default: '',
    origin: 'pua_reginfo: outbound_proxy',
    doc: 'Proxy that outgoing PUBLISH/SUBSCRIBE go through.',
  },
  {
    key: 'puaReginfo.serverAddress',
    type: sipUriOrEmpty,
    default: '',
    origin: 'pua_reginfo: server_address',
    doc: 'Our address in outgoing PUBLISH/SUBSCRIBE (From/Contact).',
  },
  {
    key: 'puaReginfo.ulDomain',
    type: { kind: 'string' },
    default: '',
    origin: 'pua_reginfo: ul_domain',
    doc: 'Location domain that received reginfo is applied to.',
  },
  {
    key: 'puaReginfo.ulIdentitiesKey',
    type: { kind: 'string' },
    default: '',
    origin: 'pua_reginfo: ul_identities_key',
    doc: 'AoR attribute key holding extra public identities (P-Associated-URI form); reg documents list each. Empty: none.',
  },
  {
    key: 'puaReginfo.subscriptions',
    type: { kind: 'list', item: /^sips?:\S+$/i, hint: 'a comma-separated list of sip: URIs' },
    default: [],
    origin: 'pua_reginfo: reginfo_subscribe(uri)',
    doc: 'AoRs whose reginfo is subscribed to at start (as reginfo_subscribe in a startup route); more through POST /api/reginfo/subscriptions.',
  },
  {
    key: 'puaReginfo.subscribeExpires',
    type: { kind: 'int', min: 1, max: 31_536_000 },
    default: 3600,
    origin: 'pua_reginfo: reginfo_subscribe(uri, expires)',
    doc: 'Expires of a reginfo subscription that names none.',
  },
  {
    key: 'puaReginfo.publishExpires',
    type: { kind: 'int', min: 1, max: 31_536_000 },
    default: 3600,
    doc: 'Expires asked for in reginfo PUBLISH; the publication is refreshed before it runs out while the AoR has bindings.',
  },
];
