import { cryptoRandom, type Random } from '../sip';

/** The millisecond of the last id, and its time part (see {@link timeOrderedId}). */
let lastTime = Number.NaN;
let lastTimePart = '';

/**
 * A 36-character id whose first 12 hex digits are the time in milliseconds (UUIDv7's layout), so that rows
 * inserted together land next to each other in the primary-key index: a commit touches a few pages
 * instead of one random page per row. The other 74 bits come from `random`.
 */
export function timeOrderedId(now: number, random: Random = cryptoRandom): string {
  // The time part is the same for every id of one millisecond (several under load): its hex digits, which cost
  // more than the rest, are made once.
  if (now !== lastTime) {
    const t = now.toString(16).padStart(12, '0').slice(-12);
    lastTime = now;
    lastTimePart = `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
  }
  const r = random.hex(10);
  const variant = (8 | (parseInt(r[3], 16) & 3)).toString(16);
  return `${lastTimePart}${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(8, 20)}`;
}
