import type { Setting } from './config-schema';

/** Settings of `auth` (who may register, publish, watch and provision), kept beside the main list. */
export const AUTH_SETTINGS: readonly Setting[] = [
  {
    key: 'auth.enabled',
    type: { kind: 'bool' },
    default: false,
    doc: 'Require authentication: SIP digest for the methods in auth.sipMethods, API keys on REST, tokens on WebSocket.',
  },
];
