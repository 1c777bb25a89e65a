/**
 * An event package (RFC 6665 §7) as the presence core sees it: a small object that feature modules
 * register into the {@link EventPackageRegistry}. `presence` (RFC 3856), `reg` (RFC 3680) and
 * `ua-profile` (RFC 6080) are three such objects; the core never imports the modules that define them.
 */

/** Expires bounds in seconds, as a module parameter sets them (`default_expires` and friends). */
export interface ExpiresBounds {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** One live publication (RFC 3903) of a presentity for a package, as the core stores it. */
export interface PublicationView {
  readonly etag: string;
  readonly contentType: string;
  readonly body: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
  /** Epoch milliseconds of the last modification (initial or modify, not refresh). */
  readonly modifiedAt: number;
  /** Who published: a SIP AoR, `ws:<user>`, `rest`, ... */
  readonly source: string;
}

/** A registered contact of a presentity, as the location service reports it to packages. */
export interface ContactView {
  readonly id: string;
  readonly uri: string;
  /** The Contact's display name, when it had one. */
  readonly displayName?: string;
  /** The Contact's header parameters other than expires, q, +sip.instance and reg-id: `[name, value or null]`. */
  readonly params?: readonly (readonly [string, string | null])[];
  readonly expiresAt: number;
  readonly q?: number;
  readonly instance?: string;
  /** RFC 5626 `reg-id` of an outbound flow. */
  readonly regId?: number;
  readonly callId: string;
  readonly cseq: number;
  readonly registeredAt: number;
  readonly event: string;
}

/** Parameters of a SUBSCRIBE's Event header other than `id` (RFC 6665 §8.2.1), names lowercase; `null` for a flag. */
export type EventParams = Readonly<Record<string, string | null>>;

/**
 * State a package that renders per watcher keeps per subscription (a `reg` version counter, what the watcher
 * was last sent). The package reads `packageState` while rendering and replaces it (a new value, not a
 * mutation) when it changes; the core keeps it with the subscription, and for a SIP subscription commits the
 * new value before the NOTIFY that reflects it goes out, so it survives a restart.
 */
export interface WatcherSession {
  packageState?: unknown;
}

/** Who a NOTIFY body (or a `state` push) is being rendered for. */
export interface WatcherView {
  readonly kind: 'sip' | 'ws' | 'internal';
  /** The watcher's identity: a SIP AoR for SIP dialogs, otherwise the name the client gave. */
  readonly uri: string;
  /** Media types from the SUBSCRIBE's Accept header, lowercase; empty when none was sent. */
  readonly accept: readonly string[];
  /** The Event header's parameters (without `id`); absent when there were none. */
  readonly eventParams?: EventParams;
  /** The subscription's package-owned state; given when rendering for a subscription (not for a REST read). */
  readonly session?: WatcherSession;
}

/** A publication event that caused a notification (RFC 3903 §4). */
export type PublicationAction = 'published' | 'modified' | 'removed' | 'expired';

/**
 * What caused a notification, so that a package can render partial state (RFC 3680 §4.1 `partial` reginfo).
 * Changes to one presentity within one event-loop turn are delivered together, oldest first.
 */
export type StateChange =
  | {
      readonly kind: 'contacts';
      /** The bindings that changed, each with its RFC 3680 event in `event` (created, refreshed, expired, ...). */
      readonly contacts: readonly ContactView[];
    }
  | { readonly kind: 'publication'; readonly action: PublicationAction; readonly etag: string }
  /** One of the package's {@link EventPackage.aorAttributes} of the presentity was set or deleted. */
  | { readonly kind: 'attributes'; readonly key: string }
  | { readonly kind: 'document' };

/** What a package needs to render the state of one presentity. */
export interface PresentityState {
  readonly presentity: string;
  readonly event: string;
  readonly publications: readonly PublicationView[];
  /** Contacts of the presentity in the location service (for `presence` and `reg`). */
  readonly contacts: readonly ContactView[];
  /**
   * The presentity's per-AoR attributes that the package asked for ({@link EventPackage.aorAttributes}), those
   * that are set; absent for a package that asks for none.
   */
  readonly attributes?: Readonly<Record<string, string>>;
  /**
   * What the package loaded itself ({@link EventPackage.loadDocument}, e.g. the provisioning documents of a
   * `ua-profile` presentity); the core passes it back to the package untouched.
   */
  readonly document?: unknown;
  /** Epoch milliseconds at which the state was read. */
  readonly now: number;
}

/** A NOTIFY body; `null` from `render` means a NOTIFY without body (RFC 6665 §4.2.2 pending state etc.). */
export interface NotifyBody<B extends string | Buffer = string | Buffer> {
  readonly contentType: string;
  /** Text (sent as UTF-8), or bytes sent as they are (a binary document). */
  readonly body: B;
  /**
   * Parameters the NOTIFY's Event header carries besides the package name and `id` (e.g. RFC 6080 §6.2
   * `effective-by`), names lowercase; values are tokens.
   */
  readonly eventHeaderParams?: Readonly<Record<string, string>>;
  /**
   * For content indirection (RFC 4483): a reference by which the package serves these exact bytes again
   * ({@link EventPackage.fetchContent}). A watcher whose Accept includes `message/external-body` then gets a
   * NOTIFY pointing at the content over HTTP instead of the bytes.
   */
  readonly contentRef?: string;
  /** The entity tag of the content, given with {@link NotifyBody.contentRef} (Content-ID, HTTP ETag). */
  readonly etag?: string;
}

/** A document given to the core to publish or validate: always text. */
export interface TextDocument {
  readonly contentType: string;
  readonly body: string;
}

/** Raised by package code; the bridge maps it to a SIP status, REST to JSON, WS to an `error` message. */
export class PackageError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(reason);
    this.name = 'PackageError';
  }
}

/** A JSON object as REST and the browser WebSocket received it. */
export type JsonInput = Readonly<Record<string, unknown>>;

/**
 * The JSON form of a publication (REST PUT as `application/json`, WebSocket `publish`): the package's input
 * mapping, the counterpart of {@link EventPackage.toJson}. The API reads `expires` itself and refuses fields
 * that are neither `expires` nor one of {@link JsonPublishing.fields}.
 */
export interface JsonPublishing {
  /** The document fields of the JSON form, e.g. `status`, `note`. */
  readonly fields: readonly string[];
  /**
   * The document a JSON publish stands for; it is then published exactly like a SIP PUBLISH body (RFC 3903
   * §6). `input` holds the given document fields; it is empty for a new publication that gave none, so that
   * the package says what is required (the same fields without If-Match would be a refresh).
   *
   * @throws PackageError 400 whose reason starts with the field at fault (`status must be ...`).
   */
  fromJson(presentity: string, input: JsonInput): TextDocument;
}

export interface PublishRules {
  /** Content types a PUBLISH body may have (lowercase); the range of every type (star/star) takes any body. */
  readonly contentTypes: readonly string[];
  readonly expires: ExpiresBounds;
  /** Largest body in bytes (UTF-8); a larger one is refused with 413 before it is validated. */
  readonly maxBodySize: number;
  /** Throws {@link PackageError} (400 naming the fault, 415 with Accept) when the body is not acceptable. */
  validate(contentType: string, body: string, presentity: string): void;
  /** Present when REST and the browser WebSocket may publish JSON instead of a document. */
  readonly json?: JsonPublishing;
}

/** A SIP PUBLISH handed to a package that stores documents itself ({@link EventPackage.publishDocument}). */
export interface DocumentPublish {
  readonly presentity: string;
  /** The From URI (an AoR for sip: URIs). */
  readonly source: string;
  /** The Event header's parameters other than `id`. */
  readonly eventParams?: EventParams;
  readonly ifMatch?: string;
  readonly expires?: number;
  readonly contentType?: string;
  /** The body's bytes (empty for a refresh or removal). */
  readonly body: Buffer;
}

/** An event package; `B` is the kind of body it renders (text for XML packages, bytes for any document). */
export interface EventPackage<B extends string | Buffer = string | Buffer> {
  /** Event package name as in the Event header, lowercase. */
  readonly name: string;
  /** Media types this package renders NOTIFY bodies in; the first is the default. */
  readonly notifyContentTypes: readonly string[];
  readonly subscribeExpires: ExpiresBounds;
  /** Present when the package accepts PUBLISH (RFC 3903). */
  readonly publish?: PublishRules;
  /**
   * Present when the package keeps what a SIP PUBLISH carries itself, as a stored document rather than an
   * expiring publication (a provisioning document); entity tags work as RFC 3903 says. The PUBLISH handler hands
   * the request over and answers 200 with the SIP-ETag and Expires returned; errors are {@link PackageError}s
   * or domain errors with a status.
   */
  publishDocument?(req: DocumentPublish): Promise<{ etag: string; expires: number }>;
  /**
   * Whether bodies are rendered for each watcher (they carry per-watcher state such as a version, or depend on
   * the Event parameters). Default false: one body per distinct Accept, shared by every watcher of a change.
   */
  readonly rendersPerWatcher?: boolean;
  /** Whether the package's state also depends on the location service (bindings notify watchers). */
  readonly followsRegistrations: boolean;
  /**
   * Whether a change that renders the same body as the watcher's last NOTIFY is still notified (`reg` notifies
   * every refresh, RFC 3680 §5.2). Default false: a change that alters nothing the package renders sends nothing.
   */
  readonly notifiesUnchanged?: boolean;
  /**
   * For a package whose per-watcher state advances the same way with every notification (a `reg` version
   * counter): the state the next render will leave a watcher in, given its current one. With it the core
   * commits that state together with the registration change that causes the notification, so the NOTIFY
   * needs no commit of its own; {@link EventPackage.render} must then advance the state exactly so.
   */
  nextState?(current: unknown): unknown;
  /**
   * Keys of per-AoR attributes (the registrations API's `attributes`) the package renders from, e.g. the extra
   * public identities of a user; the core loads them into {@link PresentityState.attributes} and notifies the
   * package's watchers when one of them is set or deleted.
   */
  readonly aorAttributes?: readonly string[];
  /** Extra state a package loads itself (profile documents); the core loads publications and contacts. */
  loadDocument?(presentity: string): Promise<unknown>;
  /**
   * Judges a new subscription against the current state, after {@link EventPackage.authorize}: throws
   * {@link PackageError} to refuse it, e.g. 406 with Accept when the document the watcher would get is of a
   * type its Accept excludes (RFC 6665 §8.2.2). Default: every subscription is admitted.
   */
  admit?(state: PresentityState, watcher: WatcherView): void;
  /**
   * The content a {@link NotifyBody.contentRef} names, for content indirection over HTTP (RFC 4483); undefined
   * when it no longer exists (the document was replaced or removed: its watchers were told).
   */
  fetchContent?(ref: string): Promise<NotifyBody<B> | undefined>;
  /**
   * Body of a NOTIFY for one watcher; `null` for a NOTIFY without body. `changes` lists what caused this
   * notification; it is absent when the watcher must get full state (after SUBSCRIBE, a refresh, at the end).
   * With `changes`, `undefined` says the change does not concern this watcher (what it was sent, as its package
   * state records, is still current): nothing is sent to it, also after a restart that forgot its last body.
   */
  render(
    state: PresentityState,
    watcher: WatcherView,
    changes?: readonly StateChange[],
  ): NotifyBody<B> | null | undefined;
  /**
   * JSON form of the state for REST GET and the browser WebSocket's `state` messages (a REST GET that asks for
   * one of {@link EventPackage.notifyContentTypes} gets {@link EventPackage.render}'s document instead).
   */
  toJson(state: PresentityState): unknown;
  /**
   * Checks the Event header's parameters of a SUBSCRIBE (all but `id`; empty when there are none, so that a
   * required one can be missed); throws {@link PackageError} (400 naming the parameter, 489) when they are not
   * acceptable. Default: every parameter is accepted.
   */
  validateEventParams?(params: EventParams): void;
  /** Whether `watcher` may subscribe to `presentity` (RFC 6665 §4.1.3). Default: allowed. */
  authorize?(watcher: WatcherView, presentity: string): 'active' | 'pending' | 'terminated';
}
