/**
 * The `ua-profile` event package (RFC 6080) as an {@link EventPackage} object for the presence core: a device
 * subscribes with the Event parameters that describe it (profile-type, vendor, model, version, appids) and gets
 * the best-matching provisioning document in the NOTIFY body, byte for byte with its Content-Type, or a NOTIFY
 * without body when none matches. Documents come from the profile store (REST uploads, trusted PUBLISH).
 */
import { canAccept, EXTERNAL_BODY, mediaType } from '../pa/core/accept';
import {
  PackageError,
  type DocumentPublish,
  type EventPackage,
  type EventParams,
  type NotifyBody,
  type PresentityState,
  type StateChange,
  type WatcherView,
} from '../pa/core/event-package';
import { sameAor } from '../pa/presence/pidf';
import { hostOf } from '../common/aor';
import {
  bestMatch,
  domainOf,
  ownerFor,
  targetOfEventParams,
  UA_PROFILE_EVENT,
  type Profile,
  type ProfileMeta,
  type ProfileTarget,
} from './profile';

/** Where the package reads documents from (the profile service). */
export interface ProfileSource {
  /** The documents a subscriber to `presentity` may get: its own and its domain's local-network ones. */
  documentsFor(presentity: string): Promise<Profile[]>;
  /** The document version with entity tag `etag`, when it is still stored. */
  version(etag: string): Promise<Profile | undefined>;
  /** The presentity's subscribers and the version each was last sent. */
  holders(presentity: string): readonly ProfileHolder[];
  /** Stores what a trusted PUBLISH carries (RFC 3903 entity tags). */
  publish(req: DocumentPublish): Promise<{ etag: string; expires: number }>;
}

export interface UaProfilePackageOptions {
  /** SUBSCRIBE Expires when none is given (`presence_profile: default_expires`). */
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
}

/** What a subscription's package state holds: the version it was last sent (null: none). */
interface ProfileSession {
  readonly etag: string | null;
}

/** A subscriber of a presentity's profiles and the version it holds. */
export interface ProfileHolder {
  readonly subscription: string;
  readonly watcher: string;
  readonly kind: string;
  readonly target: Readonly<Record<string, string | null>>;
  /** Entity tag of the version last sent; null: a NOTIFY without body; absent: none sent yet. */
  readonly etag?: string | null;
  readonly expiresAt: number;
}

/**
 * JSON state for REST and the browser WebSocket: the versions that exist, without their bytes, and which
 * subscriber holds which.
 */
export interface UaProfileJson {
  readonly documents: readonly Omit<ProfileMeta, 'id'>[];
  readonly subscribers: readonly ProfileHolder[];
}

/** A subscriber's target: from its Event parameters; a reader without them (REST, WebSocket) asks for `user`. */
function targetOf(params: EventParams | undefined): ProfileTarget {
  return params === undefined ? { profileType: 'user' } : targetOfEventParams(params);
}

export function createUaProfilePackage(opts: UaProfilePackageOptions, source: ProfileSource): EventPackage<Buffer> {
  // One NotifyBody per version's bytes, so that a fan-out hashes and sends the same object to every watcher;
  // weakly held, so the bytes go when the profile service's cache lets them go.
  const bodies = new WeakMap<Buffer, NotifyBody<Buffer>>();

  const bodyOf = (p: Profile): NotifyBody<Buffer> => {
    let b = bodies.get(p.body);
    if (b) return b;
    b = {
      contentType: p.contentType,
      body: p.body,
      contentRef: p.etag,
      etag: p.etag,
      ...(p.effectiveBy !== undefined && { eventHeaderParams: { 'effective-by': String(p.effectiveBy) } }),
    };
    bodies.set(p.body, b);
    return b;
  };

  /** The document for a subscriber: the best match among the presentity's (or its domain's) documents. */
  const choose = (state: PresentityState, watcher: WatcherView): Profile | undefined => {
    const target = targetOf(watcher.eventParams);
    const owner = ownerFor(state.presentity, target.profileType);
    const docs = ((state.document ?? []) as readonly Profile[]).filter((d) => d.aor === owner);
    return bestMatch(docs, target);
  };

  /** Whether the watcher takes the document: its type, or a pointer to it (RFC 4483). */
  const takes = (watcher: WatcherView, p: Profile): boolean =>
    canAccept(watcher.accept, [mediaType(p.contentType)]) || watcher.accept.includes(EXTERNAL_BODY);

  return {
    name: UA_PROFILE_EVENT,
    // Documents are of any type the operator uploads; admit() holds a subscriber's Accept against the one it gets.
    notifyContentTypes: ['*/*'],
    subscribeExpires: { default: opts.defaultExpires, min: opts.minExpires, max: opts.maxExpires },
    rendersPerWatcher: true,
    followsRegistrations: false,
    loadDocument: (presentity: string) => source.documentsFor(presentity),
    publishDocument: (req: DocumentPublish) => source.publish(req),
    validateEventParams(params: EventParams): void {
      targetOfEventParams(params);
    },
    authorize(watcher: WatcherView, presentity: string) {
      // The watcher is the authenticated identity with auth.enabled, the From URI without (README).
      const type = watcher.kind === 'sip' ? targetOf(watcher.eventParams).profileType : 'user';
      if (type === 'local-network') return hostOf(watcher.uri) === domainOf(presentity) ? 'active' : 'terminated';
      return sameAor(watcher.uri, presentity) ? 'active' : 'terminated';
    },
    admit(state: PresentityState, watcher: WatcherView): void {
      const doc = choose(state, watcher);
      // RFC 6665 §8.2.2: a document the subscriber's Accept excludes is refused with the type it would be.
      if (doc && !takes(watcher, doc)) {
        throw new PackageError(406, 'Not Acceptable', { Accept: `${mediaType(doc.contentType)}, ${EXTERNAL_BODY}` });
      }
    },
    render(state: PresentityState, watcher: WatcherView, changes?: readonly StateChange[]) {
      const doc = choose(state, watcher);
      const usable = doc && takes(watcher, doc) ? doc : undefined;
      const session = watcher.session;
      const etag = usable?.etag ?? null;
      const held = heldVersion(session?.packageState);
      // A change of another device's document: this subscriber still holds the version it should.
      if (changes && held === etag) return undefined;
      if (session && held !== etag) session.packageState = { etag } satisfies ProfileSession;
      return usable ? bodyOf(usable) : null;
    },
    toJson: (state: PresentityState): UaProfileJson => ({
      documents: ((state.document ?? []) as readonly Profile[]).map(({ id: _id, body: _body, ...meta }) => meta),
      subscribers: source.holders(state.presentity),
    }),
    async fetchContent(ref: string): Promise<NotifyBody<Buffer> | undefined> {
      const p = await source.version(ref);
      return p && bodyOf(p);
    },
  };
}

/** The version a subscription was last sent, from its package state (null: none, undefined: not yet told). */
export function heldVersion(packageState: unknown): string | null | undefined {
  if (typeof packageState !== 'object' || packageState === null || !('etag' in packageState)) return undefined;
  return typeof packageState.etag === 'string' ? packageState.etag : null;
}
