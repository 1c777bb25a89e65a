import { randomUUID } from 'node:crypto';

/**
 * A 36-character id whose first 12 hex digits are the time in milliseconds (like UUIDv7), so that rows
 * inserted together land next to each other in the primary-key index: a commit touches a few pages
 * instead of one random page per row.
 */
export function timeOrderedId(now = Date.now()): string {
  const t = now.toString(16).padStart(12, '0').slice(-12);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-${randomUUID().slice(14)}`;
}
