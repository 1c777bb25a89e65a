import type { Setting } from './config-schema';

/** Settings of content indirection (RFC 4483): the HTTP URLs a NOTIFY may point at instead of carrying bytes. */
export const CONTENT_SETTINGS: readonly Setting[] = [
  {
    key: 'http.publicUrl',
    type: {
      kind: 'string',
      pattern: /^$|^https?:\/\/[^\s/?#]+$/i,
      hint: 'http(s)://host[:port] without a path, or empty',
    },
    default: '',
    doc: 'Base of the HTTP URLs the server hands out (content indirection); empty: http://<sip.advertisedHost or the HTTP host>:<bound HTTP port>.',
  },
  {
    key: 'pa.contentUrlExpires',
    type: { kind: 'int', min: 1, max: 31_536_000 },
    default: 3600,
    doc: 'Seconds an HTTP URL given for content indirection (RFC 4483, message/external-body) stays valid.',
  },
  {
    key: 'pa.contentUrlSecret',
    type: { kind: 'string', pattern: /^$|^\S{16,}$/, hint: 'empty, or at least 16 characters without spaces' },
    default: '',
    doc: 'Key of the access tokens of content-indirection URLs (at least 16 characters); set the same on every instance so a URL stays valid across restarts and instances. Empty: a key drawn at start (URLs handed out before a restart are refused after it).',
  },
];
