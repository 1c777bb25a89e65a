export {
  digestAuthorization,
  digestResponse,
  parseAuthParams,
  parseDigestChallenge,
  pickDigestChallenge,
} from './digest-client';
export type { DigestAlgorithm, DigestChallenge, DigestCredentials, DigestRequest } from './digest-client';
