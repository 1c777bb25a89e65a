import type { Setting } from './config-schema';

/** Settings of the outgoing SIP client (the `pua` role) shared by puaReginfo and b2b, kept beside the main list. */
export const SIP_CLIENT_SETTINGS: readonly Setting[] = [
  {
    key: 'sipClient.credentials',
    type: {
      kind: 'list',
      item: /^[^:@\s]+:[^\s]*@[^@\s]+$/,
      hint: 'a comma-separated list of user:password@realm',
    },
    default: [],
    doc: 'Digest credentials (user:password@realm) answering 401/407 challenges to outgoing PUBLISH and SUBSCRIBE (MD5 or SHA-256). Empty: challenges are not answered.',
  },
  {
    key: 'sipClient.retryAfter',
    type: { kind: 'int', min: 1, max: 86_400 },
    default: 60,
    doc: 'Seconds before an outgoing PUBLISH or SUBSCRIBE that failed (error response, time-out) is tried again, unless the server sent Retry-After.',
  },
  {
    key: 'sipClient.waitForTermNotify',
    type: { kind: 'int', min: 0, max: 3600 },
    default: 5,
    doc: 'Seconds an outgoing subscription waits for the terminating NOTIFY after its SUBSCRIBE Expires 0.',
  },
];
