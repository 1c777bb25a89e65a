import type { ExpiresBounds } from './event-package';
import { PackageError } from './event-package';

/**
 * The expiry granted for a requested one (RFC 6665 §4.2.1.1, RFC 3903 §6): the package default when
 * absent, 0 kept (removal/unsubscribe), shorter than the minimum refused with 423 and Min-Expires,
 * longer than the maximum shortened.
 */
export function grantExpires(requested: number | undefined, bounds: ExpiresBounds): number {
  if (requested === undefined) return Math.min(bounds.default, bounds.max);
  if (requested === 0) return 0;
  if (requested < bounds.min) {
    throw new PackageError(423, 'Interval Too Brief', { 'Min-Expires': String(bounds.min) });
  }
  return Math.min(requested, bounds.max);
}
