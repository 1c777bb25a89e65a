/**
 * The `presence.winfo` template package (RFC 3857, RFC 3858): a presentity watches who watches its presence —
 * each watcher with its status (`pending`, `active`, `waiting` for one that asked and is gone), so that it can
 * approve or deny them (REST `/api/watchers`). Only the presentity itself may subscribe. Full state in every
 * NOTIFY, with a version per subscription (RFC 3858 §4.2).
 */
import { escapeAttr, escapeText } from '../../common/xml/xml-tree';
import type { ExpiresBounds, EventPackage, PresentityState, WatcherView } from '../core/event-package';
import { sameAor } from '../presence/pidf';

export const WINFO_EVENT = 'presence.winfo';
export const WATCHERINFO_CONTENT_TYPE = 'application/watcherinfo+xml';
const WATCHERINFO_NS = 'urn:ietf:params:xml:ns:watcherinfo';

/** One watcher of the presentity's presence as watcher information lists it (RFC 3858 §5). */
export interface WinfoWatcher {
  readonly id: string;
  readonly uri: string;
  readonly status: 'pending' | 'active' | 'waiting' | 'terminated';
  /** What last happened to it (RFC 3857 §3.2): `subscribe`, `approved`, `rejected`, ... */
  readonly event: string;
  /** Seconds since it subscribed. */
  readonly durationSubscribed?: number;
}

/** What the package loads per presentity: the watchers of its presence. */
export type WatcherList = readonly WinfoWatcher[];

interface WinfoSession {
  readonly version: number;
}

/** The watcherinfo document (RFC 3858 §5) of one presentity's presence watchers. */
export function watcherinfoXml(presentity: string, watchers: WatcherList, version: number): string {
  const items = watchers
    .map(
      (w) =>
        `<watcher id="${escapeAttr(w.id)}" status="${w.status}" event="${escapeAttr(w.event)}"` +
        (w.durationSubscribed === undefined ? '' : ` duration-subscribed="${w.durationSubscribed}"`) +
        `>${escapeText(w.uri)}</watcher>`,
    )
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<watcherinfo xmlns="${WATCHERINFO_NS}" version="${version}" state="full">` +
    `<watcher-list resource="${escapeAttr(presentity)}" package="presence">${items}</watcher-list></watcherinfo>`
  );
}

/** The `presence.winfo` package; `load` gives the watchers of a presentity's presence. */
export function createWinfoPackage(
  expires: ExpiresBounds,
  load: (presentity: string) => WatcherList,
): EventPackage<string> {
  const watchersOf = (state: PresentityState): WatcherList => (state.document as WatcherList | undefined) ?? [];
  return {
    name: WINFO_EVENT,
    notifyContentTypes: [WATCHERINFO_CONTENT_TYPE],
    subscribeExpires: expires,
    followsRegistrations: false,
    rendersPerWatcher: true,
    loadDocument: (presentity) => Promise.resolve(load(presentity)),
    render(state: PresentityState, watcher: WatcherView) {
      const session = watcher.session;
      const previous = session?.packageState as WinfoSession | undefined;
      const version = previous === undefined ? 0 : previous.version + 1;
      if (session) session.packageState = { version } satisfies WinfoSession;
      return {
        contentType: WATCHERINFO_CONTENT_TYPE,
        body: watcherinfoXml(state.presentity, watchersOf(state), version),
      };
    },
    toJson: (state) => ({ watchers: watchersOf(state) }),
    // RFC 3857 §5.1: watcher information tells who watches; only the presentity itself may have it.
    authorize: (watcher, presentity) => (sameAor(watcher.uri, presentity) ? 'active' : 'terminated'),
  };
}
