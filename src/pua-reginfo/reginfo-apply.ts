/**
 * reginfo_handle_notify as a pure decision: the bindings of one AoR after a reginfo document received in a
 * subscription (RFC 3680 §5), and the contact events to announce. Only bindings learned from that
 * subscription (same `origin`) are touched; a contact that is one of our own REGISTERed bindings (our own
 * state coming back) is left alone.
 */
import { createHash } from 'node:crypto';
import type { Binding, BindingSource, ContactEvent as BindingEvent, ContactEventType } from '../location/binding';
import type { ContactEvent, Registration } from '../presence-reginfo/reginfo';

/** What applying one registration element decided. */
export interface AppliedRegistration {
  readonly next: Binding[];
  readonly events: BindingEvent[];
}

/** pua_reginfo's return codes: 1 when contacts remain after the NOTIFY, 2 when none are left. */
export type ReginfoResult = 1 | 2;

const LEARNED_SOURCE: BindingSource = {
  protocol: 'udp',
  remoteAddress: '',
  remotePort: 0,
  localAddress: '',
  localPort: 0,
};

/** Expiry times this close are the same (a document's `expires` counts whole seconds, and it travelled). */
const SAME_EXPIRY_MS = 2000;

/** Bindings learned from reginfo carry this User-Agent (Kamailio's pua_reginfo writes "n/a"). */
export const LEARNED_USER_AGENT = 'reginfo';

/** The id of a learned binding: stable for one contact (URI and Call-ID) of one origin. */
export function learnedBindingId(origin: string, uri: string, callId: string): string {
  return `ri${createHash('sha1').update(`${origin}\u0000${uri}\u0000${callId}`).digest('hex').slice(0, 36)}`;
}

/** The binding event a terminated contact's reginfo event stands for. */
function endEvent(event: ContactEvent): ContactEventType {
  switch (event) {
    case 'expired':
      return 'expired';
    case 'unregistered':
      return 'unregistered';
    case 'registered':
    case 'created':
    case 'refreshed':
    case 'shortened':
    case 'deactivated':
    case 'probation':
    case 'rejected':
      return 'deactivated';
  }
}

/**
 * The AoR's bindings after `reg` (one registration element of a document of state `docState`) from `origin`:
 * active contacts inserted or refreshed (their `expires`, default `defaultExpires`), terminated ones removed;
 * a terminated registration, or a full document that no longer lists a learned contact, removes it.
 */
export function applyRegistration(
  current: readonly Binding[],
  reg: Registration,
  ctx: { origin: string; domain: string; aor: string; now: number; full: boolean; defaultExpires: number },
): AppliedRegistration {
  const { origin, now } = ctx;
  const mine = (b: Binding): boolean => b.origin === origin;
  const events: BindingEvent[] = [];
  const byId = new Map(current.map((b) => [b.id, b]));
  const listed = new Set<string>();
  if (reg.state !== 'terminated') {
    for (const c of reg.contacts) {
      const callId = c.callid ?? c.id;
      // Our own REGISTERed binding coming back (we publish it, the other side notifies it): not learned.
      if (current.some((b) => b.origin === undefined && b.uri === c.uri && b.callId === callId)) continue;
      const id = learnedBindingId(origin, c.uri, callId);
      listed.add(id);
      const old = byId.get(id);
      if (c.state === 'terminated') {
        if (old) {
          byId.delete(id);
          events.push({ type: endEvent(c.event), binding: old });
        }
        continue;
      }
      const binding: Binding = {
        id,
        domain: ctx.domain,
        aor: ctx.aor,
        uri: c.uri,
        ...(c.displayName !== undefined && { displayName: c.displayName }),
        expiresAt: now + (c.expires ?? ctx.defaultExpires) * 1000,
        ...(c.q !== undefined && !Number.isNaN(Number(c.q)) && { q: Number(c.q) }),
        callId,
        cseq: c.cseq ?? 0,
        path: [],
        userAgent: LEARNED_USER_AGENT,
        source: LEARNED_SOURCE,
        origin,
        createdAt: old?.createdAt ?? now,
        updatedAt: now,
      };
      // The same contact told again (its CSeq unchanged, the same expiry give or take the transit time) is no
      // change: two servers that subscribe to each other stop here instead of notifying each other forever.
      if (old && old.cseq === binding.cseq && Math.abs(old.expiresAt - binding.expiresAt) < SAME_EXPIRY_MS) continue;
      byId.set(id, binding);
      events.push({ type: old ? 'refreshed' : 'created', binding });
    }
  }
  for (const b of current) {
    if (!mine(b) || listed.has(b.id) || !byId.has(b.id)) continue;
    if (reg.state === 'terminated' || ctx.full) {
      byId.delete(b.id);
      events.push({ type: reg.state === 'terminated' ? 'unregistered' : 'deactivated', binding: b });
    }
  }
  return { next: [...byId.values()], events };
}
