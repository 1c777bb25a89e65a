import { ownString } from '../../sip';
import type { EventParams } from './event-package';

/** The Event header's parameters other than `id` (RFC 6665 §8.2.1), or undefined when there are none. */
export function eventParamsOf(params: ReadonlyMap<string, string | null> | undefined): EventParams | undefined {
  if (!params || params.size === 0 || (params.size === 1 && params.has('id'))) return undefined;
  const out: Record<string, string | null> = {};
  for (const [name, value] of params)
    if (name !== 'id') out[ownString(name)] = value === null ? null : ownString(value);
  return Object.freeze(out);
}
