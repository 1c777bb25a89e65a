/**
 * The `presence` event package (RFC 3856) as an {@link EventPackage} object for the presence core.
 */
import {
  ContactView,
  EventPackage,
  JsonInput,
  JsonPublishing,
  NotifyBody,
  PackageError,
  PresentityState,
  PublicationView,
  TextDocument,
} from '../core/event-package';
import { mediaType } from '../core/accept';
import { PIDF_CONTENT_TYPE, PidfDocument, PidfJson, pidfToJson, validatePidf } from './pidf';
import { closedPidf, composePidf, openPidf, pidfFromStatus, type StatusPublish } from './pidf-compose';

/** Settings of the package, named after the `presence`/`pa` module parameters they replace. */
export interface PresencePackageOptions {
  /** SUBSCRIBE Expires when none is given (RFC 3856 §6.4 suggests 3600). */
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly publishMinExpires: number;
  readonly publishMaxExpires: number;
  /** PUBLISH Expires when none is given; defaults to `defaultExpires` clamped to the publish bounds. */
  readonly publishDefaultExpires?: number;
  /** Whether registrations count as presence (the `pa` module's registrar source). */
  readonly registrarSource: boolean;
  /** Largest PIDF body of a PUBLISH in bytes (default {@link PRESENCE_MAX_BODY_SIZE}). */
  readonly publishMaxBodySize?: number;
}

/** Default largest PIDF body of a PUBLISH: 64 KiB, about what one UDP datagram carries. */
export const PRESENCE_MAX_BODY_SIZE = 65_535;

/** JSON state of a presentity for REST and the browser WebSocket. */
export interface PresenceJson extends PidfJson {
  readonly publications: readonly { readonly etag: string; readonly expiresAt: string; readonly source: string }[];
  /** Whether the presentity has a live registration. */
  readonly registered: boolean;
}

const PARSE_CACHE_SIZE = 1024;

/**
 * Whether an Accept list (lowercase media types, maybe with parameters) admits one of `types`: an empty
 * list does (RFC 6665 §4.1.2: no Accept means the package default), as do `* /*`, `type/*` and an exact
 * match; a range with `q=0` excludes. The SUBSCRIBE handler answers 406 when this is false.
 */
export function acceptsAny(accept: readonly string[], types: readonly string[]): boolean {
  if (accept.length === 0) return true;
  return accept.some((entry) => {
    const [range, ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
    if (params.some((p) => /^q\s*=\s*0(\.0*)?$/.test(p))) return false;
    return types.some((t) => {
      const type = mediaType(t);
      return range === '*/*' || range === type || (range.endsWith('/*') && type.startsWith(range.slice(0, -1)));
    });
  });
}

/** The presentity as a `sip:` URI for the `entity` attribute (`pres:` and bare `user@host` are mapped). */
export function presentityUri(presentity: string): string {
  const p = presentity.trim();
  if (/^sips?:/i.test(p)) return p;
  if (/^pres:/i.test(p)) return `sip:${p.slice(5)}`;
  return `sip:${p}`;
}

/**
 * The JSON form of a `presence` publication for REST and the browser WebSocket: `{status, note?, tupleId?}`
 * stands for a PIDF document with one tuple ({@link pidfFromStatus}).
 */
export const presenceJsonPublishing: JsonPublishing = {
  fields: ['status', 'note', 'tupleId'],
  fromJson(presentity: string, input: JsonInput): TextDocument {
    const { status } = input;
    if (status === undefined) throw new PackageError(400, 'status is required ("open" or "closed")');
    if (status !== 'open' && status !== 'closed') {
      throw new PackageError(400, `status must be "open" or "closed", got ${JSON.stringify(status)}`);
    }
    const publish = { ...input, status } as StatusPublish;
    return { contentType: PIDF_CONTENT_TYPE, body: pidfFromStatus(presentityUri(presentity), publish) };
  },
};

function liveContacts(state: PresentityState): ContactView[] {
  return state.contacts.filter((c) => c.expiresAt > state.now);
}

function bestContact(contacts: readonly ContactView[]): ContactView {
  return contacts.reduce((best, c) =>
    (c.q ?? 1) > (best.q ?? 1) || ((c.q ?? 1) === (best.q ?? 1) && c.registeredAt > best.registeredAt) ? c : best,
  );
}

/**
 * Creates the `presence` package (RFC 3856 §6): PUBLISH and NOTIFY bodies are `application/pidf+xml`;
 * a NOTIFY carries the composition of all live PIDF publications, newest first; without one, the
 * registrar source (when enabled) makes a presentity with a live binding `open`, else it is `closed`.
 *
 * The PIDF `entity` of a PUBLISH need not name the presentity (compared loosely, {@link sameAor}): like
 * Kamailio we accept it, since the Request-URI decides whose state it is and NOTIFYs carry the presentity
 * as entity anyway.
 */
export function createPresencePackage(opts: PresencePackageOptions): EventPackage<string> {
  const clamp = (v: number): number => Math.min(opts.publishMaxExpires, Math.max(opts.publishMinExpires, v));
  const parsed = new Map<string, PidfDocument | null>();
  const rendered = new WeakMap<PresentityState, NotifyBody<string>>();
  const jsons = new WeakMap<PresentityState, PresenceJson>();

  // Stored bodies were validated at PUBLISH; one that no longer is (edited in the database) is skipped.
  const parse = (body: string): PidfDocument | null => {
    let doc = parsed.get(body);
    if (doc === undefined) {
      try {
        doc = validatePidf(body);
      } catch (e) {
        if (!(e instanceof PackageError)) throw e;
        doc = null;
      }
      if (parsed.size >= PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    } else {
      parsed.delete(body);
    }
    parsed.set(body, doc);
    return doc;
  };

  const livePublications = (state: PresentityState): PublicationView[] =>
    state.publications
      .filter((p) => p.expiresAt > state.now && mediaType(p.contentType) === PIDF_CONTENT_TYPE)
      .sort((a, b) => b.modifiedAt - a.modifiedAt);

  const renderState = (state: PresentityState): NotifyBody<string> => {
    const cached = rendered.get(state);
    if (cached) return cached;
    const entity = presentityUri(state.presentity);
    const docs = livePublications(state)
      .map((p) => parse(p.body))
      .filter((d): d is PidfDocument => d !== null);
    let body: string;
    if (docs.length > 0) {
      body = composePidf(entity, docs);
    } else {
      const contacts = opts.registrarSource ? liveContacts(state) : [];
      if (contacts.length > 0) {
        const best = bestContact(contacts);
        body = openPidf(entity, { contact: best.uri, ...(best.q !== undefined && { priority: best.q }) });
      } else {
        body = closedPidf(entity);
      }
    }
    const result = { contentType: PIDF_CONTENT_TYPE, body };
    rendered.set(state, result);
    return result;
  };

  return {
    name: 'presence',
    notifyContentTypes: [PIDF_CONTENT_TYPE],
    subscribeExpires: { default: opts.defaultExpires, min: opts.minExpires, max: opts.maxExpires },
    publish: {
      contentTypes: [PIDF_CONTENT_TYPE],
      expires: {
        default: clamp(opts.publishDefaultExpires ?? opts.defaultExpires),
        min: opts.publishMinExpires,
        max: opts.publishMaxExpires,
      },
      maxBodySize: opts.publishMaxBodySize ?? PRESENCE_MAX_BODY_SIZE,
      validate(contentType: string, body: string, presentity: string): void {
        if (mediaType(contentType) !== PIDF_CONTENT_TYPE) {
          throw new PackageError(415, 'Unsupported Media Type', { Accept: PIDF_CONTENT_TYPE });
        }
        // RFC 3903 §6 step 5; the result is cached for the NOTIFYs that follow.
        const doc = validatePidf(body, presentity);
        if (parsed.size >= PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
        parsed.set(body, doc);
      },
      json: presenceJsonPublishing,
    },
    followsRegistrations: opts.registrarSource,
    // The body does not depend on the watcher: presence has no per-watcher filtering (yet), and the 406 for
    // an Accept without PIDF is the SUBSCRIBE handler's ({@link acceptsAny}).
    render: (state) => renderState(state),
    toJson(state: PresentityState): PresenceJson {
      // One state object is shared by every watcher of one change: convert it once.
      const cached = jsons.get(state);
      if (cached) return cached;
      const json = pidfToJson(validatePidf(renderState(state).body));
      const out: PresenceJson = {
        ...json,
        publications: livePublications(state).map((p) => ({
          etag: p.etag,
          expiresAt: new Date(p.expiresAt).toISOString(),
          source: p.source,
        })),
        registered: liveContacts(state).length > 0,
      };
      jsons.set(state, out);
      return out;
    },
  };
}
