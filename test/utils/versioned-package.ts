/**
 * A test event package in the manner of `reg` (RFC 3680), exercising what the presence core offers packages:
 * bodies rendered per watcher, a version per watcher kept in the subscription's package state, full state
 * first and partial state (the changed contacts with their events) after, and an Event header parameter
 * (`view`: `all` or `mine`) that the package validates and that chooses the document.
 *
 * Body: `v<version> <view> full:<contact ids>` or `v<version> <view> partial:<id>/<event>,...`.
 */
import {
  PackageError,
  type EventPackage,
  type EventParams,
  type PresentityState,
  type StateChange,
  type WatcherView,
} from '../../src/pa/core/event-package';

interface VersionState {
  readonly version: number;
}

export function versionedPackage(name = 'versioned', renders: WatcherView[] = []): EventPackage {
  return {
    name,
    notifyContentTypes: ['text/plain'],
    subscribeExpires: { default: 3600, min: 60, max: 7200 },
    followsRegistrations: true,
    notifiesUnchanged: true,
    rendersPerWatcher: true,
    validateEventParams(params: EventParams) {
      const view = params.view;
      if (view !== undefined && view !== 'all' && view !== 'mine') {
        throw new PackageError(400, `Bad Event parameter view: "${String(view)}" (all or mine)`);
      }
    },
    render(state: PresentityState, watcher: WatcherView, changes?: readonly StateChange[]) {
      renders.push(watcher);
      const session = watcher.session ?? {};
      const previous = session.packageState as VersionState | undefined;
      const version = previous === undefined ? 0 : previous.version + 1;
      session.packageState = { version };
      const view = watcher.eventParams?.view ?? 'all';
      const what =
        changes === undefined
          ? `full:${state.contacts.map((c) => c.id).join(',')}`
          : `partial:${changes
              .flatMap((c) => (c.kind === 'contacts' ? c.contacts.map((x) => `${x.id}/${x.event}`) : [c.kind]))
              .join(',')}`;
      return { contentType: 'text/plain', body: `v${version} ${view} ${what}` };
    },
    toJson: () => ({}),
  };
}
