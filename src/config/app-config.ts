/**
 * The typed, frozen configuration of Presence Hub. Every parameter of the modules Presence Hub replaces
 * keeps its name (camelCased) and its default under the section of the module that replaces it.
 */
export interface SipConfig {
  /** Address the UDP and TCP listeners bind to. */
  readonly host: string;
  /** Port of the UDP and TCP listeners. */
  readonly port: number;
  readonly udp: boolean;
  readonly tcp: boolean;
  /** SIP over WebSocket (RFC 7118) at `ws://host:HTTP_PORT/sip`. */
  readonly ws: boolean;
  /** Host written in Via/Contact of requests we send; defaults to the listen host, or 127.0.0.1 for 0.0.0.0. */
  readonly advertisedHost: string;
  /** Domains served; a Request-URI host outside this list is answered 404. Empty: every domain. */
  readonly domains: readonly string[];
  /** Largest message accepted, in bytes; a larger one is answered 513. */
  readonly maxMessageSize: number;
  /** Requests to UDP peers larger than this many bytes go over TCP (RFC 3261 §18.1.1). */
  readonly udpMaxRequestSize: number;
  /** RFC 3261 §17 timer base values in milliseconds. */
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** Log every SIP message at `trace` level. */
  readonly trace: boolean;
  /** Event-loop delay in ms above which new REGISTER/SUBSCRIBE/PUBLISH are refused with 503 (0: never). */
  readonly overloadDelayMs: number;
  /** Upper bound of the adaptive in-flight limit; 0 turns off in-flight and socket-driven shedding. */
  readonly maxPendingRequests: number;
  /** Most SIP TCP (and, separately, WS) connections at once; 0: no limit. */
  readonly maxConnections: number;
  /** Ms after which a connection that sent nothing and carries no binding or subscription is closed; 0: never. */
  readonly idleConnectionMs: number;
  /** Ms a connection may hold an incomplete message before it is closed; 0: never. */
  readonly partialMessageMs: number;
  /** Port of the SIP TLS listener (on `host`); it listens only when `tlsCert` and `tlsKey` are set. */
  readonly tlsPort: number;
  /** PEM files: certificate chain, private key, and CA certificates peers are verified against (empty: none). */
  readonly tlsCert: string;
  readonly tlsKey: string;
  readonly tlsCa: string;
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /**
   * Browser origins allowed besides the server's own (lower case, `scheme://host[:port]`), or `*` for any: CORS
   * on the REST API and the Origin check of WebSocket upgrades. Empty: same origin only.
   */
  readonly corsOrigins: readonly string[];
  /** Base of the HTTP URLs handed out (`http://host:port`); empty: derived from the listener. */
  readonly publicUrl: string;
  /** PEM files of the HTTPS certificate and key; set, the HTTP port serves HTTPS and WSS only. */
  readonly tlsCert: string;
  readonly tlsKey: string;
}

export interface DbConfig {
  /** `mysql://user:pass@host:3306/db`; empty for the embedded SQLite file. */
  readonly url: string;
  /** Directory of the SQLite file when `url` is empty. */
  readonly dataDir: string;
  /** Group commit: longest time between the end of one commit and the start of the next, in milliseconds. */
  readonly commitDelayMs: number;
  /** On an SQLite file, commit batches of row writes on a writer thread. */
  readonly sqliteWriterThread: boolean;
  readonly sqliteCheckpointThread: boolean;
  /** Page cache of each SQLite connection, in KiB. */
  readonly sqliteCacheKib: number;
  /** Time limit of every query, and of a write waiting for its commit, in milliseconds. */
  readonly queryTimeoutMs: number;
}

/** Registrar (RFC 3261 §10.3) — the parameters of the SIP servers' `registrar` and `usrloc` modules. */
export interface RegistrarConfig {
  readonly minExpires: number;
  readonly defaultExpires: number;
  readonly maxExpires: number;
  /** Largest number of contacts per AoR; 0 for no limit. */
  readonly maxContacts: number;
  /** Location domain (usrloc table) REGISTERs go to unless a request names another. */
  readonly defaultDomain: string;
  /** Seconds between sweeps that remove expired bindings. */
  readonly timerInterval: number;
}

/** `pa` (OpenSER presence agent). */
export interface PaConfig {
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly publishMinExpires: number;
  readonly publishMaxExpires: number;
  /** Most live publications per presentity and event; a new one beyond it is refused (403). */
  readonly maxPublicationsPerPresentity: number;
  /** Largest presence PUBLISH body in bytes (413 beyond). */
  readonly publishMaxBodySize: number;
  /** A user with a live binding and no publication is `open`; without bindings `closed`. */
  readonly registrarSource: boolean;
  /** Internal watchers of local presentities are answered (off: refused with 403). */
  readonly acceptInternalSubscriptions: boolean;
  /** Seconds between sweeps that expire publications and subscriptions. */
  readonly timerInterval: number;
  /** Seconds a content-indirection URL (RFC 4483) stays valid. */
  readonly contentUrlExpires: number;
  /** Key of content-indirection URL tokens; empty: drawn at start. */
  readonly contentUrlSecret: string;
}

/** `presence_reginfo`. */
export interface PresenceReginfoConfig {
  readonly defaultExpires: number;
  readonly aggregatePresentities: boolean;
  /** SIP URIs and domains of watchers that may watch any AoR's registrations (lower case). */
  readonly trustedWatchers: readonly string[];
}

/** `pua_reginfo`. */
export interface PuaReginfoConfig {
  readonly defaultDomain: string;
  readonly publishReginfo: boolean;
  readonly outboundProxy: string;
  readonly serverAddress: string;
  readonly ulDomain: string;
  readonly ulIdentitiesKey: string;
  /** AoRs whose reginfo is subscribed to at start. */
  readonly subscriptions: readonly string[];
  readonly subscribeExpires: number;
  readonly publishExpires: number;
}

/** The outgoing SIP client (the `pua` role) shared by puaReginfo and b2b. */
export interface SipClientConfig {
  /** `user:password@realm` entries answering digest challenges. */
  readonly credentials: readonly string[];
  readonly retryAfter: number;
  readonly waitForTermNotify: number;
}

/** `presence_profile`. */
export interface PresenceProfileConfig {
  readonly defaultExpires: number;
  /** Largest profile document in bytes (413 beyond). */
  readonly maxDocumentSize: number;
  /** SIP URIs and domains whose PUBLISH Event: ua-profile stores a document (lower case). */
  readonly trustedPublishers: readonly string[];
}

/** `presence_b2b`. */
export interface B2bConfig {
  readonly presenceRoute: string;
  readonly maxSubscribeDelay: number;
  readonly onErrorRetryTime: number;
  readonly waitForTermNotify: number;
  readonly resubscribeDelta: number;
  readonly minResubscribeTime: number;
  readonly defaultExpiration: number;
  /** One remote dialog per (presentity, event, watcher identity), shared by its internal subscribers. */
  readonly shareSubscriptions: boolean;
  /** From of subscriptions made for browsers without a sip: user; empty: derived from sip.domains/advertisedHost. */
  readonly watcherIdentity: string;
  /** SIP SUBSCRIBEs to presentities of other domains are served through B2B (presence proxy). */
  readonly presenceProxy: boolean;
}

/** Default policy of a presence watcher no rule covers (see `watchers.defaultPolicy`). */
export type WatcherDefaultPolicy = 'allow' | 'same-domain' | 'pending' | 'deny' | 'polite-block';

/** Watcher authorization for `presence`. */
export interface WatchersConfig {
  readonly defaultPolicy: WatcherDefaultPolicy;
}

/** Authentication and authorization. */
export interface AuthConfig {
  readonly enabled: boolean;
  /** Methods that must carry digest credentials (lower case, as lists are read). */
  readonly sipMethods: readonly string[];
  /** Realm of every challenge; empty: the request's domain. */
  readonly realm: string;
  /** Digest algorithms offered, in order (lower case, as lists are read: `sha-256`, `md5`). */
  readonly algorithms: readonly string[];
  /** Seconds a nonce is accepted. */
  readonly nonceExpires: number;
  /** Source addresses and CIDR blocks that skip digest. */
  readonly trustedPeers: readonly string[];
  /** Domains whose authorized TLS certificates skip digest (lower case). */
  readonly trustedTlsPeers: readonly string[];
  /** Identities (`sip:user@domain`, lower case) that may register any AoR. */
  readonly registerOthers: readonly string[];
  /** Create and print an admin API key at start when auth is enabled and none is stored. */
  readonly bootstrapAdminKey: boolean;
  /** Seconds a checked API key is trusted without asking the database again. */
  readonly apiKeyCacheSeconds: number;
  /** With auth enabled, /sip upgrades need an API key (otherwise SIP digest may authenticate them). */
  readonly sipWsRequireToken: boolean;
}

/** Token-bucket limits per source address and per identity (API key); 0 per second: no limit. */
export interface RateLimitConfig {
  readonly sipPerSecond: number;
  readonly sipBurst: number;
  readonly restPerSecond: number;
  readonly restBurst: number;
  readonly identityPerSecond: number;
  readonly identityBurst: number;
  /** 127.0.0.0/8 and ::1 are not limited per address. */
  readonly exemptLoopback: boolean;
  /** IP addresses and CIDR prefixes not limited per address. */
  readonly exempt: readonly string[];
  /** Keys (addresses, identities) held per limit at most. */
  readonly maxTracked: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface AppConfig {
  readonly sip: SipConfig;
  readonly http: HttpConfig;
  readonly db: DbConfig;
  readonly log: { readonly level: LogLevel };
  readonly registrar: RegistrarConfig;
  readonly pa: PaConfig;
  readonly presenceReginfo: PresenceReginfoConfig;
  readonly puaReginfo: PuaReginfoConfig;
  readonly sipClient: SipClientConfig;
  readonly presenceProfile: PresenceProfileConfig;
  readonly b2b: B2bConfig;
  readonly auth: AuthConfig;
  readonly rateLimit: RateLimitConfig;
  readonly watchers: WatchersConfig;
}

/** Injection token of the {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');
