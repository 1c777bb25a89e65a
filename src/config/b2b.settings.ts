import type { Setting } from './config-schema';

/** Settings of `b2b` added to presence_b2b's own (which stay in the main list), kept beside it. */
export const B2B_SETTINGS: readonly Setting[] = [
  {
    key: 'b2b.shareSubscriptions',
    type: { kind: 'bool' },
    default: true,
    doc: 'One outgoing SUBSCRIBE dialog per (presentity, event, watcher identity), shared by every internal subscriber with that identity; off: one per subscriber.',
  },
  {
    key: 'b2b.watcherIdentity',
    type: { kind: 'string', pattern: /^$|^sips?:\S+@\S+$/i, hint: 'a sip: URI with a user, or empty' },
    default: '',
    doc: 'SIP identity (From) of B2B subscriptions made for browsers that gave no sip: user. Empty: sip:presence-hub@ the first of sip.domains, else sip.advertisedHost.',
  },
];
