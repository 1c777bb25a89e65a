/**
 * The `reg` event package (RFC 3680) as an {@link EventPackage} object for the presence core: watchers of an
 * AoR's registration state get `application/reginfo+xml` documents, full state after SUBSCRIBE and every
 * refresh, partial state (the contacts that changed) after a change of the location service, and a version
 * that grows by one with every NOTIFY of a subscription, kept with the subscription across restarts.
 *
 * Sources of one AoR: its bindings in the location service (local), and the live reginfo publications of it
 * (PUBLISH Event: reg, as pua_reginfo sends them). `aggregatePresentities` on: every NOTIFY with full state
 * holds the registrations of every source; off (Kamailio's presence_reginfo without aggregation, which sends
 * only the newest publication's document): the local registrations and those of the newest publication.
 */
import {
  PackageError,
  type ContactView,
  type EventPackage,
  type PresentityState,
  type PublicationView,
  type StateChange,
  type WatcherView,
} from '../pa/core/event-package';
import { mediaType } from '../pa/core/accept';
import { sameAor } from '../pa/presence/pidf';
import { trustedSources } from '../pa/presence/trusted-sources';
import { parseIdentities, registrationsOf } from './reginfo-local';
import { parseReginfo, REGINFO_CONTENT_TYPE, reginfoXml, type Reginfo, type Registration } from './reginfo';

/** Settings of the package, named after the `presence_reginfo` module parameters they replace. */
export interface ReginfoPackageOptions {
  /** SUBSCRIBE and PUBLISH Expires when none is given (`presence_reginfo: default_expires`). */
  readonly defaultExpires: number;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly publishMinExpires: number;
  readonly publishMaxExpires: number;
  readonly publishMaxBodySize: number;
  /** `presence_reginfo: aggregate_presentities`. */
  readonly aggregatePresentities: boolean;
  /** AoR attribute listing the user's other public identities (`pua_reginfo: ul_identities_key`); '' for none. */
  readonly identitiesKey: string;
  /** Watchers allowed to watch any AoR: SIP URIs (`sip:as@example.com`) or domains (`pcscf.example.com`). */
  readonly trustedWatchers: readonly string[];
}

/** What a subscription's package state holds: the version of the last document it was sent. */
interface ReginfoSession {
  readonly version: number;
}

/** JSON state for REST and the browser WebSocket: the full document without a version. */
export interface ReginfoJson {
  readonly registrations: readonly Registration[];
}

const PARSE_CACHE_SIZE = 1024;

/** The session after one more NOTIFY: version 0 first, then one more with each (RFC 3680 §4.1). */
function nextSession(current: unknown): ReginfoSession {
  const previous = current as ReginfoSession | undefined;
  return { version: previous === undefined ? 0 : previous.version + 1 };
}

export function createReginfoPackage(opts: ReginfoPackageOptions): EventPackage<string> {
  const clampPublish = (v: number): number => Math.min(opts.publishMaxExpires, Math.max(opts.publishMinExpires, v));
  const parsed = new Map<string, Reginfo | null>();
  const trusted = trustedSources(opts.trustedWatchers);

  const remember = (body: string, doc: Reginfo | null): void => {
    if (parsed.size >= PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
    parsed.set(body, doc);
  };

  // Stored bodies were validated at PUBLISH; one that no longer is (edited in the database) is skipped.
  const parse = (body: string): Reginfo | null => {
    let doc = parsed.get(body);
    if (doc !== undefined) return doc;
    try {
      doc = parseReginfo(body);
    } catch (e) {
      if (!(e instanceof PackageError)) throw e;
      doc = null;
    }
    remember(body, doc);
    return doc;
  };

  const identities = (state: PresentityState): string[] =>
    parseIdentities(state.presentity, opts.identitiesKey ? state.attributes?.[opts.identitiesKey] : undefined);

  /** The published registrations that count: every live publication's, or only the newest one's. */
  const published = (state: PresentityState): Registration[] => {
    const live: PublicationView[] = state.publications
      .filter((p) => p.expiresAt > state.now && mediaType(p.contentType) === REGINFO_CONTENT_TYPE)
      .sort((a, b) => a.modifiedAt - b.modifiedAt);
    const used = opts.aggregatePresentities ? live : live.slice(-1);
    return used.flatMap((p) => parse(p.body)?.registrations ?? []);
  };

  const fullState = (state: PresentityState): Registration[] => {
    const fromPublications = published(state);
    const contacts = state.contacts.filter((c) => c.expiresAt > state.now);
    // An AoR without local bindings that a publication describes is not listed a second time, as `init`.
    const local =
      contacts.length > 0 || !fromPublications.some((r) => sameAor(r.aor, state.presentity))
        ? registrationsOf(identities(state), contacts, state.now, 'full')
        : [];
    return [...local, ...fromPublications];
  };

  /** Partial state: the contacts that changed, last event of each, under every identity of the AoR. */
  const partialState = (state: PresentityState, changes: readonly StateChange[]): Registration[] => {
    const changed = new Map<string, ContactView>();
    for (const c of changes) if (c.kind === 'contacts') for (const v of c.contacts) changed.set(v.id, v);
    const remaining = state.contacts.some((c) => c.expiresAt > state.now);
    return registrationsOf(identities(state), [...changed.values()], state.now, remaining ? 'active' : 'terminated');
  };

  return {
    name: 'reg',
    notifyContentTypes: [REGINFO_CONTENT_TYPE],
    subscribeExpires: { default: opts.defaultExpires, min: opts.minExpires, max: opts.maxExpires },
    publish: {
      contentTypes: [REGINFO_CONTENT_TYPE],
      expires: {
        default: clampPublish(opts.defaultExpires),
        min: opts.publishMinExpires,
        max: opts.publishMaxExpires,
      },
      maxBodySize: opts.publishMaxBodySize,
      validate(contentType: string, body: string): void {
        if (mediaType(contentType) !== REGINFO_CONTENT_TYPE) {
          throw new PackageError(415, 'Unsupported Media Type', { Accept: REGINFO_CONTENT_TYPE });
        }
        remember(body, parseReginfo(body));
      },
    },
    rendersPerWatcher: true,
    followsRegistrations: true,
    // RFC 3680 §5.2: a refresh is an event (`refreshed`) the watcher is told about, though nothing else changed.
    notifiesUnchanged: true,
    nextState: nextSession,
    ...(opts.identitiesKey && { aorAttributes: [opts.identitiesKey] }),
    render(state: PresentityState, watcher: WatcherView, changes?: readonly StateChange[]) {
      const session = watcher.session;
      const previous = session?.packageState as ReginfoSession | undefined;
      const next = nextSession(previous);
      const { version } = next;
      if (session) session.packageState = next;
      // Partial state only for changes of the location service; anything else (a publication, the identities)
      // and an unknown cause send full state (RFC 3680 §4.1 allows full state at any time).
      const partial =
        previous !== undefined &&
        changes !== undefined &&
        changes.length > 0 &&
        changes.every((c) => c.kind === 'contacts');
      const registrations = partial ? partialState(state, changes) : fullState(state);
      const body = reginfoXml({ version, state: partial ? 'partial' : 'full', registrations });
      return { contentType: REGINFO_CONTENT_TYPE, body };
    },
    toJson: (state: PresentityState): ReginfoJson => ({ registrations: fullState(state) }),
    authorize(watcher: WatcherView, presentity: string) {
      return sameAor(watcher.uri, presentity) || trusted(watcher.uri) ? 'active' : 'terminated';
    },
  };
}
