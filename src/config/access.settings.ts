import type { Setting } from './config-schema';

const perSecond = { kind: 'int', min: 0, max: 1_000_000 } as const;
const burst = { kind: 'int', min: 1, max: 1_000_000 } as const;

/**
 * Settings of API keys, WebSocket tokens and rate limits (README, "Security"), kept beside the main list;
 * `auth.enabled` is in auth.settings.ts.
 */
export const ACCESS_SETTINGS: readonly Setting[] = [
  {
    key: 'auth.bootstrapAdminKey',
    type: { kind: 'bool' },
    default: true,
    doc: 'With auth.enabled and no admin API key stored, create one at start and print it once in the start log.',
  },
  {
    key: 'auth.apiKeyCacheSeconds',
    type: { kind: 'int', min: 0, max: 3600 },
    default: 10,
    doc: 'Seconds a checked API key is trusted without asking the database again: how long a key revoked on another instance still works here.',
  },
  {
    key: 'auth.sipWsRequireToken',
    type: { kind: 'bool' },
    default: false,
    doc: 'With auth.enabled, refuse /sip upgrades without an API key (401); off: a /sip client may instead authenticate by SIP digest.',
  },
  {
    key: 'rateLimit.sipPerSecond',
    type: perSecond,
    default: 200,
    doc: 'New SIP requests per second from one source address; more get 503 with Retry-After before they are parsed (0: no limit).',
  },
  {
    key: 'rateLimit.sipBurst',
    type: burst,
    default: 400,
    doc: 'SIP requests one source address may send at once before rateLimit.sipPerSecond applies.',
  },
  {
    key: 'rateLimit.restPerSecond',
    type: perSecond,
    default: 100,
    doc: 'HTTP requests (REST, /ws and /sip upgrades) per second from one source address; more get 429 with Retry-After (0: no limit).',
  },
  {
    key: 'rateLimit.restBurst',
    type: burst,
    default: 200,
    doc: 'HTTP requests one source address may send at once before rateLimit.restPerSecond applies.',
  },
  {
    key: 'rateLimit.identityPerSecond',
    type: perSecond,
    default: 50,
    doc: "Requests per second of one identity, whatever its address: an API key's REST requests (429), /ws messages (error) and SIP requests on a /sip connection opened with it (503); a SIP digest user's authenticated requests (503) (0: no limit).",
  },
  {
    key: 'rateLimit.identityBurst',
    type: burst,
    default: 100,
    doc: 'Requests one API key may make at once before rateLimit.identityPerSecond applies.',
  },
  {
    key: 'rateLimit.exemptLoopback',
    type: { kind: 'bool' },
    default: true,
    doc: 'Source addresses 127.0.0.0/8 and ::1 are not limited per address (local tools, benchmarks, a proxy on the same host).',
  },
  {
    key: 'rateLimit.exempt',
    type: {
      kind: 'list',
      item: /^[0-9a-f:.]+(\/\d{1,3})?$/,
      hint: 'a comma-separated list of IP addresses or CIDR prefixes such as 10.0.0.0/8',
    },
    default: [],
    doc: 'Source addresses and CIDR prefixes not limited per address: SIP proxies, SBCs and gateways that speak for many users.',
  },
  {
    key: 'rateLimit.maxTracked',
    type: { kind: 'int', min: 100, max: 10_000_000 },
    default: 100_000,
    doc: 'Source addresses and identities tracked per limit at most (about 100 bytes each); past it the least recently seen is forgotten.',
  },
];
