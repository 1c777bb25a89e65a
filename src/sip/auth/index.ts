export { digestAuthorization, pickDigestChallenge } from './digest-client';
export type { DigestAccount, DigestRequest } from './digest-client';
