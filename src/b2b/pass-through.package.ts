import type { ExpiresBounds, EventPackage, PresentityState, PublicationView } from '../pa/core/event-package';
import { FIELD_LIMITS, TEXT_BYTES } from '../common/field-limits';

/** The newest live publication of a state, or undefined. */
function newest(state: PresentityState): PublicationView | undefined {
  let best: PublicationView | undefined;
  for (const p of state.publications) if (!best || p.modifiedAt > best.modifiedAt) best = p;
  return best;
}

/** What a browser or REST caller gets for a package no module here knows: the remote document as it came. */
export interface PassThroughJson {
  readonly contentType: string | null;
  readonly body: string | null;
}

/**
 * An event package for a package no module here knows (`dialog`, `message-summary`, ...), registered by B2B
 * when it subscribes to one at a remote server: every document the remote NOTIFYs is stored as the
 * presentity's publication and handed to local watchers as it came (newest wins), in the browser's JSON as
 * `{contentType, body}`.
 */
export function createPassThroughPackage(name: string, expires: ExpiresBounds): EventPackage<string> {
  return {
    name,
    notifyContentTypes: ['*/*'],
    subscribeExpires: expires,
    followsRegistrations: false,
    publish: {
      contentTypes: ['*/*'],
      expires,
      maxBodySize: Math.min(TEXT_BYTES, FIELD_LIMITS.body.max),
      validate: () => undefined,
    },
    render(state) {
      const p = newest(state);
      return p ? { contentType: p.contentType, body: p.body } : null;
    },
    toJson(state): PassThroughJson {
      const p = newest(state);
      return { contentType: p?.contentType ?? null, body: p?.body ?? null };
    },
  };
}
