import { ACCESS_SETTINGS } from './access.settings';
import { AUTH_SETTINGS } from './auth.settings';
import { B2B_SETTINGS } from './b2b.settings';
import { CONTENT_SETTINGS } from './content.settings';
import { PRESENCE_PROFILE_SETTINGS } from './presence-profile.settings';
import { PUA_REGINFO_SETTINGS } from './pua-reginfo.settings';
import { SIP_CLIENT_SETTINGS } from './sip-client.settings';
import { TLS_SETTINGS } from './tls.settings';
import { WATCHERS_SETTINGS } from './watchers.settings';

/**
 * One row per setting: where it lives in {@link AppConfig}, its type, its default, and the parameter of
 * the original SIP-server module it replaces. The README's configuration table is this list.
 */
export type SettingType =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'string'; readonly pattern?: RegExp; readonly hint?: string }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** Comma-separated in the environment, an array of strings in the file; `item` checks each entry. */
  | { readonly kind: 'list'; readonly item?: RegExp; readonly hint?: string };

export interface Setting {
  /** Dotted path, e.g. `pa.defaultExpires`. */
  readonly key: string;
  readonly type: SettingType;
  readonly default: number | boolean | string | readonly string[];
  /** Extra environment names besides the derived one (`SECTION_KEY`). */
  readonly env?: readonly string[];
  /** The original module parameter, e.g. `pa: default_expires`. */
  readonly origin?: string;
  readonly doc: string;
}

const port = { kind: 'int', min: 0, max: 65535 } as const;
const seconds = { kind: 'int', min: 0, max: 31_536_000 } as const;
const positiveSeconds = { kind: 'int', min: 1, max: 31_536_000 } as const;
const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const sipUriOrEmpty = { kind: 'string', pattern: /^$|^sips?:\S+$/i, hint: 'a sip: or sips: URI, or empty' } as const;

export const SETTINGS: readonly Setting[] = [
  { key: 'sip.host', type: str, default: '0.0.0.0', doc: 'Address the SIP UDP and TCP listeners bind to.' },
  { key: 'sip.port', type: port, default: 5060, doc: 'Port of the SIP UDP and TCP listeners (0: any free port).' },
  { key: 'sip.udp', type: bool, default: true, doc: 'Listen on UDP.' },
  { key: 'sip.tcp', type: bool, default: true, doc: 'Listen on TCP.' },
  { key: 'sip.ws', type: bool, default: true, doc: 'SIP over WebSocket (RFC 7118) at /sip on the HTTP port.' },
  {
    key: 'sip.advertisedHost',
    type: str,
    default: '',
    doc: 'Host put in Via and Contact of what the server sends; empty: the listen host (127.0.0.1 for 0.0.0.0).',
  },
  {
    key: 'sip.domains',
    type: { kind: 'list' },
    default: [],
    doc: 'Comma-separated domains served; requests for others get 404. Empty: every domain.',
  },
  {
    key: 'sip.maxMessageSize',
    type: { kind: 'int', min: 1024, max: 1_048_576 },
    default: 65_535,
    doc: 'Largest SIP message accepted in bytes; larger ones get 513.',
  },
  {
    key: 'sip.udpMaxRequestSize',
    type: { kind: 'int', min: 512, max: 65_507 },
    default: 1300,
    doc: 'Requests to UDP peers larger than this (bytes) go over TCP to the same host and port (RFC 3261 §18.1.1), over UDP again if TCP fails.',
  },
  { key: 'sip.t1', type: { kind: 'int', min: 1, max: 60_000 }, default: 500, doc: 'RFC 3261 T1 in ms.' },
  { key: 'sip.t2', type: { kind: 'int', min: 1, max: 60_000 }, default: 4000, doc: 'RFC 3261 T2 in ms.' },
  { key: 'sip.t4', type: { kind: 'int', min: 1, max: 60_000 }, default: 5000, doc: 'RFC 3261 T4 in ms.' },
  {
    key: 'sip.trace',
    type: bool,
    default: false,
    doc: 'Log every SIP message sent and received (at level trace, shown whatever the log level).',
  },
  {
    key: 'sip.overloadDelayMs',
    type: { kind: 'int', min: 0, max: 60_000 },
    default: 500,
    doc: 'Event-loop delay (ms) above which new REGISTER/SUBSCRIBE/PUBLISH get 503 with Retry-After (0: never).',
  },
  {
    key: 'sip.maxPendingRequests',
    type: { kind: 'int', min: 0, max: 1_000_000 },
    default: 1000,
    doc: 'Upper bound of requests taken in and not yet answered; below it the limit follows what the server has shown it finishes in 400 ms (at least 64) and the admission rate is cut while the UDP socket backs up or drops; past them new REGISTER/SUBSCRIBE/PUBLISH get 503 with Retry-After (0: neither).',
  },
  {
    key: 'sip.maxConnections',
    type: { kind: 'int', min: 0, max: 1_000_000 },
    default: 10_000,
    doc: 'Most SIP TCP connections, and most SIP WebSocket connections, at once; more are refused (0: no limit). Keep it well below the file-descriptor limit.',
  },
  {
    key: 'sip.idleConnectionMs',
    type: { kind: 'int', min: 0, max: 86_400_000 },
    default: 120_000,
    origin: 'tcp_connection_lifetime (core)',
    doc: 'A TCP/WS connection that sent nothing for this long and carries no binding or subscription is closed, in ms (0: never).',
  },
  {
    key: 'sip.partialMessageMs',
    type: { kind: 'int', min: 0, max: 600_000 },
    default: 5000,
    doc: 'A TCP connection holding an incomplete message (headers without their end, a body shorter than its Content-Length) this long is closed, in ms (0: never).',
  },
  ...TLS_SETTINGS,
  { key: 'http.host', type: str, default: '0.0.0.0', doc: 'Address of the HTTP, REST and WebSocket listener.' },
  { key: 'http.port', type: port, default: 3000, doc: 'Port of HTTP (REST /api, /docs, /health, WS /ws and /sip).' },
  {
    key: 'http.corsOrigins',
    type: {
      kind: 'list',
      item: /^\*$|^https?:\/\/[^/\s]+$/,
      hint: 'a comma-separated list of origins such as https://app.example.com, or *',
    },
    default: [],
    doc:
      "Browser origins (scheme://host[:port]) allowed besides the server's own: CORS on the REST API, and the " +
      'Origin of WebSocket upgrades to /ws and /sip. Empty: same origin only; `*`: any origin.',
  },
  {
    key: 'db.url',
    type: { kind: 'string', pattern: /^$|^mysql:\/\/\S+$|^sqlite:\S+$/, hint: 'mysql://user:pass@host:port/db' },
    default: '',
    origin: 'db_url (every module)',
    doc: 'Database URL; empty: the SQLite file in db.dataDir.',
  },
  { key: 'db.dataDir', type: str, default: './data', env: ['DATA_DIR'], doc: 'Directory of the SQLite file.' },
  {
    key: 'db.commitDelayMs',
    type: { kind: 'int', min: 0, max: 1000 },
    default: 2,
    doc: 'Group commit: a commit follows the previous one by this long at most, in ms, and the writes of that interval share it; a write after a quiet spell is committed after the current turn of the event loop without waiting.',
  },
  {
    key: 'db.sqliteWriterThread',
    type: { kind: 'bool' },
    default: false,
    doc: 'On an SQLite file, commit the batches of row writes on a thread of their own with its own connection (the main thread waits for the commit instead of running it). Off: measured no faster on 2 cores shared with the load generator, and it makes a cold server shed a first burst.',
  },
  {
    key: 'db.sqliteCheckpointThread',
    type: { kind: 'bool' },
    default: true,
    doc: 'On an SQLite file, copy the WAL into the database file (checkpoints) on a thread of their own instead of in the main thread every 1000 pages, which stopped the event loop for 20-40 ms every few megabytes written; the thread also starts the WAL over, whose header sync stopped it for up to 300 ms.',
  },
  {
    key: 'db.sqliteCacheKib',
    type: { kind: 'int', min: 64, max: 4_194_304 },
    default: 2048,
    doc: 'Page cache of each SQLite connection, in KiB (the driver builds SQLite with 16,000). The server serves its state from memory and reads the file at start, so a small cache costs no speed: 2 MiB instead of 16 keeps about 19 MiB less resident with 50,000 subscriptions held.',
  },
  {
    key: 'db.queryTimeoutMs',
    type: { kind: 'int', min: 100, max: 600_000 },
    default: 2000,
    doc: 'Time limit of every query and of a write waiting for its commit, in ms; past it REGISTER/SUBSCRIBE/PUBLISH get 503 with Retry-After, REST 503.',
  },
  {
    key: 'log.level',
    type: { kind: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] },
    default: 'info',
    doc: 'Log level (pino).',
  },
  {
    key: 'registrar.minExpires',
    type: seconds,
    default: 60,
    origin: 'registrar: min_expires',
    doc: 'Shorter REGISTER expiries get 423 with Min-Expires.',
  },
  {
    key: 'registrar.defaultExpires',
    type: positiveSeconds,
    default: 3600,
    origin: 'registrar: default_expires',
    doc: 'Expiry of a contact without Expires.',
  },
  {
    key: 'registrar.maxExpires',
    type: positiveSeconds,
    default: 86_400,
    origin: 'registrar: max_expires',
    doc: 'Longer expiries are shortened to this.',
  },
  {
    key: 'registrar.maxContacts',
    type: { kind: 'int', min: 0, max: 10_000 },
    default: 0,
    origin: 'registrar: max_contacts',
    doc: 'Most contacts per AoR (0: no limit); more get 403.',
  },
  {
    key: 'registrar.defaultDomain',
    type: { kind: 'string', pattern: /^[A-Za-z0-9_.-]+$/, hint: 'a table-like name' },
    default: 'location',
    origin: 'save("location")',
    doc: 'Location domain REGISTERs are saved in.',
  },
  {
    key: 'registrar.timerInterval',
    type: positiveSeconds,
    default: 1,
    origin: 'usrloc: timer_interval',
    doc: 'Seconds between sweeps for expired contacts.',
  },
  {
    key: 'pa.defaultExpires',
    type: positiveSeconds,
    default: 3600,
    origin: 'pa: default_expires',
    doc: 'Expiry of a presence SUBSCRIBE without Expires.',
  },
  {
    key: 'pa.minExpires',
    type: seconds,
    default: 60,
    origin: 'presence: min_expires',
    doc: 'Shorter SUBSCRIBE expiries get 423.',
  },
  {
    key: 'pa.maxExpires',
    type: positiveSeconds,
    default: 3600,
    origin: 'presence: max_expires',
    doc: 'Longer SUBSCRIBE expiries are shortened to this.',
  },
  {
    key: 'pa.publishMinExpires',
    type: seconds,
    default: 60,
    origin: 'presence: min_expires',
    doc: 'Shorter PUBLISH expiries get 423.',
  },
  {
    key: 'pa.publishMaxExpires',
    type: positiveSeconds,
    default: 3600,
    origin: 'presence: max_expires_publish',
    doc: 'Longer PUBLISH expiries are shortened to this.',
  },
  {
    key: 'pa.maxPublicationsPerPresentity',
    type: { kind: 'int', min: 1, max: 10_000 },
    default: 16,
    doc: 'Most live publications per presentity and event; a new one beyond it gets 403 (SIP, REST, WS).',
  },
  {
    key: 'pa.publishMaxBodySize',
    type: { kind: 'int', min: 256, max: 65_535 },
    default: 65_535,
    doc: 'Largest presence PUBLISH body (PIDF) in bytes, at most what a stored body holds (65,535); larger ones get 413 (SIP, REST).',
  },
  {
    key: 'pa.registrarSource',
    type: bool,
    default: true,
    origin: 'pa: use registrar as presence source',
    doc: 'Without publications, a registered user is open and an unregistered one closed.',
  },
  ...CONTENT_SETTINGS,
  ...WATCHERS_SETTINGS,
  {
    key: 'pa.acceptInternalSubscriptions',
    type: bool,
    default: true,
    origin: 'pa: accept_internal_subscriptions',
    doc: 'Internal watchers (B2B, modules) of local presentities are answered by the presence core; off: refused (403).',
  },
  {
    key: 'pa.timerInterval',
    type: positiveSeconds,
    default: 1,
    origin: 'pa: timer_interval',
    doc: 'Seconds between sweeps for expired publications and subscriptions.',
  },
  {
    key: 'presenceReginfo.defaultExpires',
    type: positiveSeconds,
    default: 3600,
    origin: 'presence_reginfo: default_expires',
    doc: 'Expiry of a reg SUBSCRIBE/PUBLISH without Expires (within pa.minExpires..pa.maxExpires and the publish bounds).',
  },
  {
    key: 'presenceReginfo.aggregatePresentities',
    type: bool,
    default: false,
    origin: 'presence_reginfo: aggregate_presentities',
    doc: 'On: a reg NOTIFY with full state holds the registrations of every publication of the AoR besides the local ones; off: only of the newest publication.',
  },
  {
    key: 'presenceReginfo.trustedWatchers',
    type: { kind: 'list', item: /^(sips?:\S+|[a-z0-9.-]+)$/, hint: 'a comma-separated list of sip: URIs or domains' },
    default: [],
    doc: 'Who may watch the reg state of any AoR (an application server, a P-CSCF): SIP URIs or domains. Others may only watch their own AoR (403 otherwise).',
  },
  ...PUA_REGINFO_SETTINGS,
  ...SIP_CLIENT_SETTINGS,
  ...PRESENCE_PROFILE_SETTINGS,
  ...AUTH_SETTINGS,
  ...ACCESS_SETTINGS,
  {
    key: 'b2b.presenceRoute',
    type: sipUriOrEmpty,
    default: '',
    origin: 'presence_b2b: presence_route',
    doc: 'Route for outgoing SUBSCRIBEs to remote presentities.',
  },
  {
    key: 'b2b.maxSubscribeDelay',
    type: seconds,
    default: 0,
    origin: 'presence_b2b: max_subscribe_delay',
    doc: 'Random delay before an outgoing SUBSCRIBE, up to this.',
  },
  {
    key: 'b2b.onErrorRetryTime',
    type: seconds,
    default: 120,
    origin: 'presence_b2b: on_error_retry_time',
    doc: 'Seconds before retrying a failed outgoing subscription.',
  },
  {
    key: 'b2b.waitForTermNotify',
    type: seconds,
    default: 30,
    origin: 'presence_b2b: wait_for_term_notify',
    doc: 'Seconds to wait for the terminating NOTIFY.',
  },
  {
    key: 'b2b.resubscribeDelta',
    type: seconds,
    default: 30,
    origin: 'presence_b2b: resubscribe_delta',
    doc: 'Refresh outgoing subscriptions this long before expiry.',
  },
  {
    key: 'b2b.minResubscribeTime',
    type: seconds,
    default: 30,
    origin: 'presence_b2b: min_resubscribe_time',
    doc: 'Shortest time between refreshes.',
  },
  {
    key: 'b2b.defaultExpiration',
    type: positiveSeconds,
    default: 3600,
    origin: 'presence_b2b: default_expiration',
    doc: 'Expires asked for in outgoing SUBSCRIBEs.',
  },
  ...B2B_SETTINGS,
];

/** `pa.defaultExpires` → `PA_DEFAULT_EXPIRES`. */
export function envName(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase();
}
