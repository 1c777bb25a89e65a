import type { Setting } from './config-schema';

/** Settings of watcher authorization for `presence` (RFC 6665 pending/active, RFC 5025 polite blocking). */
export const WATCHERS_SETTINGS: readonly Setting[] = [
  {
    key: 'watchers.defaultPolicy',
    type: { kind: 'enum', values: ['allow', 'same-domain', 'pending', 'deny', 'polite-block'] },
    default: 'allow',
    origin: 'presence_xml: force_active (1: allow)',
    doc: "Policy for a presence watcher that neither its own rule nor the presentity's `*` rule covers: allow; same-domain (the presentity's domain allowed, others pending until approved); pending (every watcher waits for approval); deny; polite-block (neutral state). A user may always watch itself.",
  },
];
