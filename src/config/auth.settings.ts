import type { Setting } from './config-schema';

/** An IPv4 or IPv6 address, with or without a /prefix. */
const ADDRESS_OR_CIDR = /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-f:]*:[0-9a-f:.]*(\/\d{1,3})?)$/;

/** Settings of `auth` (who may register, publish, watch and provision), kept beside the main list. */
export const AUTH_SETTINGS: readonly Setting[] = [
  {
    key: 'auth.enabled',
    type: { kind: 'bool' },
    default: true,
    doc: 'Require authentication: SIP digest for the methods in auth.sipMethods, API keys on REST, tokens on WebSocket. Off only for a closed lab network.',
  },
  {
    key: 'auth.sipMethods',
    type: { kind: 'list', item: /^[a-z]+$/, hint: 'a comma-separated list of SIP methods' },
    default: ['REGISTER', 'PUBLISH', 'SUBSCRIBE'],
    doc: 'SIP methods that must carry digest credentials when auth.enabled (401 for REGISTER, 407 for the others). A SUBSCRIBE inside its dialog is not challenged again.',
  },
  {
    key: 'auth.realm',
    type: {
      kind: 'string',
      pattern: /^[^"\\\s]{0,128}$/,
      hint: 'at most 128 characters without quotes, backslashes or spaces',
    },
    default: '',
    origin: 'auth: realm of www_authorize / proxy_authorize',
    doc: "Digest realm of every challenge; empty: the request's domain (To host of REGISTER, From host of others), one realm per served domain. Subscribers' HA1s are computed for it when they are created.",
  },
  {
    key: 'auth.nonceExpires',
    type: { kind: 'int', min: 10, max: 86_400 },
    default: 300,
    origin: 'auth: nonce_expire',
    doc: 'Seconds a nonce is accepted; an older one gets a new challenge with stale=true.',
  },
  {
    key: 'auth.algorithms',
    type: { kind: 'list', item: /^(sha-256|md5)$/, hint: 'a comma-separated list of SHA-256 and MD5' },
    default: ['SHA-256', 'MD5'],
    doc: 'Digest algorithms offered, one challenge each in this order (RFC 8760: most preferred first); credentials of another are refused. A client that answers the first challenge and knows only MD5 (SIPp 3.6) needs MD5 first; sip.js 0.21 answers the last.',
  },
  {
    key: 'auth.trustedPeers',
    type: { kind: 'list', item: ADDRESS_OR_CIDR, hint: 'a comma-separated list of IP addresses or CIDR blocks' },
    default: [],
    doc: 'Source addresses or blocks (10.0.0.0/8, ::1) whose SIP requests skip digest: servers that publish reginfo or subscribe on behalf of others.',
  },
  {
    key: 'auth.trustedTlsPeers',
    type: { kind: 'list', item: /^[a-z0-9.-]+$/i, hint: 'a comma-separated list of domain names' },
    default: [],
    doc: 'Domains whose TLS peers skip digest: a certificate that chains to sip.tlsCa and names one of them (SIP URI or DNS name in subjectAltName, else the Common Name; RFC 5922). For servers reached over TLS rather than by a fixed address.',
  },
  {
    key: 'auth.registerOthers',
    type: { kind: 'list', item: /^sips?:[^\s@]+@\S+$/, hint: 'a comma-separated list of sip: URIs' },
    default: [],
    doc: 'Authenticated users (sip:user@domain) that may register contacts for any AoR, not only their own; Contact: * stays with the AoR itself.',
  },
];
