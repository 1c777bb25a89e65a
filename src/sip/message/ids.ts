import type { Random } from '../ports/random';
import { cryptoRandom } from '../ports/random';

/** A new From/To tag (RFC 3261 §19.3). */
export function generateTag(random: Random = cryptoRandom): string {
  return random.tag();
}

/** A new branch with the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7). */
export function generateBranch(random: Random = cryptoRandom): string {
  return random.branch();
}

/** A new Call-ID (RFC 3261 §8.1.1.4). */
export function generateCallId(random: Random = cryptoRandom): string {
  return random.callId();
}
