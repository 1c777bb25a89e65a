/**
 * The location service's bindings as reginfo (RFC 3680 §5.3): one registration per public identity of the
 * AoR, all with the same contacts (3GPP TS 24.229 §5.4.2.1.2 style implicit registration).
 */
import type { ContactView } from '../pa/core/event-package';
import type { ContactEvent, ReginfoContact, Registration, RegistrationState, UnknownParam } from './reginfo';

/** Events after which a contact is no longer bound (RFC 3680 §5.2). */
const ENDED = new Set(['expired', 'deactivated', 'probation', 'unregistered', 'rejected']);

/** FNV-1a, 32 bits: a short stable id from an AoR (the same across restarts and instances). */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The id of the registration element of an AoR's local bindings: stable, so a watcher can match partial state. */
export function localRegistrationId(aor: string): string {
  return `r${fnv1a(aor.toLowerCase())}`;
}

/**
 * The AoR followed by the other public identities an attribute lists, in P-Associated-URI form
 * (`<sip:alice@example.com>, <tel:+15551234>`; angle brackets optional, parameters after them dropped);
 * duplicates and the AoR itself are listed once.
 */
export function parseIdentities(aor: string, value: string | undefined): string[] {
  const out = [aor];
  if (!value) return out;
  const seen = new Set([aor.toLowerCase()]);
  for (const m of value.matchAll(/<([^>]*)>|([^,<\s][^,]*)/g)) {
    const uri = (m[1] ?? m[2].split(';', 1)[0]).trim();
    if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri) || seen.has(uri.toLowerCase())) continue;
    seen.add(uri.toLowerCase());
    out.push(uri);
  }
  return out;
}

function params(c: ContactView): UnknownParam[] {
  const out: UnknownParam[] = [];
  if (c.instance !== undefined) out.push({ name: '+sip.instance', value: `"${c.instance}"` });
  if (c.regId !== undefined) out.push({ name: 'reg-id', value: String(c.regId) });
  for (const [name, value] of c.params ?? []) out.push({ name, value: value ?? '' });
  return out;
}

/** One binding as a `<contact>`; full state reports every live binding as `registered`. */
export function reginfoContact(c: ContactView, now: number, full: boolean): ReginfoContact {
  const ended = ENDED.has(c.event) || c.expiresAt <= now;
  const extra = params(c);
  return {
    id: c.id,
    state: ended ? 'terminated' : 'active',
    event: (full ? 'registered' : c.event) as ContactEvent,
    uri: c.uri,
    ...(!ended && { expires: Math.max(0, Math.ceil((c.expiresAt - now) / 1000)) }),
    durationRegistered: Math.max(0, Math.floor((now - c.registeredAt) / 1000)),
    ...(c.q !== undefined && { q: String(c.q) }),
    callid: c.callId,
    cseq: c.cseq,
    ...(c.displayName !== undefined && { displayName: c.displayName }),
    ...(extra.length > 0 && { unknownParams: extra }),
  };
}

/**
 * Registration elements for the AoR and each other identity with the given contacts. `'full'`: the live
 * bindings, the registration `active` with some and `init` without; otherwise the state to give the
 * registrations of a partial document (the changed contacts, with their events).
 */
export function registrationsOf(
  identities: readonly string[],
  contacts: readonly ContactView[],
  now: number,
  state: 'full' | RegistrationState,
): Registration[] {
  const full = state === 'full';
  const shown = contacts.map((c) => reginfoContact(c, now, full));
  const regState: RegistrationState = full ? (shown.length > 0 ? 'active' : 'init') : state;
  return identities.map((aor) => ({ aor, id: localRegistrationId(aor), state: regState, contacts: shown }));
}
