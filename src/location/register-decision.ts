import { SipError } from '../sip';
import type { RegistrarConfig } from '../config/app-config';
import type { Binding, BindingSource, ContactEvent, ContactParam } from './binding';

/** One Contact of a REGISTER, already parsed (RFC 3261 §10.2.1). */
export interface RegisterContact {
  readonly uri: string;
  readonly displayName?: string;
  /** Header parameters besides expires, q, +sip.instance and reg-id. */
  readonly params?: readonly ContactParam[];
  /** Comparison key of the URI (RFC 3261 §19.1.4). */
  readonly key: string;
  readonly expires?: number;
  readonly q?: number;
  readonly instance?: string;
  readonly regId?: number;
}

/** What the registrar reads from a REGISTER. */
export interface RegisterInput {
  readonly domain: string;
  readonly aor: string;
  readonly callId: string;
  readonly cseq: number;
  readonly expiresHeader?: number;
  /** `'*'` for `Contact: *`; empty for a query. */
  readonly contacts: readonly RegisterContact[] | '*';
  readonly path: readonly string[];
  readonly userAgent: string;
  readonly source: BindingSource;
}

export interface RegisterDecision {
  readonly next: Binding[];
  readonly events: ContactEvent[];
}

type KeyFn = (uri: string) => string;

function sameContact(b: Binding, c: RegisterContact, keyOf: KeyFn): boolean {
  // RFC 5626 §6: with an instance and reg-id the flow is identified by them, not by the URI.
  if (c.instance !== undefined && c.regId !== undefined) return b.instance === c.instance && b.regId === c.regId;
  if (c.instance !== undefined && b.instance === c.instance && b.regId === undefined) return true;
  return keyOf(b.uri) === c.key;
}

/** Call-ID/CSeq ordering of RFC 3261 §10.3 step 7: a replayed or reordered REGISTER is refused. */
function checkOrder(b: Binding, input: RegisterInput): void {
  if (b.callId === input.callId && input.cseq <= b.cseq) {
    throw new SipError(500, 'Out of order CSeq', { 'Retry-After': '1' });
  }
}

/**
 * The registrar's decision for one REGISTER (RFC 3261 §10.3 steps 6–8), from the AoR's current bindings.
 * Pure: throws {@link SipError} (400, 403, 423, 500) to refuse, returns the next bindings and the
 * RFC 3680 events otherwise.
 */
export function decideRegister(
  current: readonly Binding[],
  input: RegisterInput,
  config: RegistrarConfig,
  now: number,
  newId: () => string,
  keyOf: KeyFn,
): RegisterDecision {
  const live = current.filter((b) => b.expiresAt > now);
  const events: ContactEvent[] = current
    .filter((b) => b.expiresAt <= now)
    .map((binding) => ({ type: 'expired', binding }));

  if (input.contacts === '*') {
    if (input.expiresHeader !== 0) throw new SipError(400, 'Contact * requires Expires: 0');
    for (const b of live) checkOrder(b, input);
    events.push(...live.map((binding) => ({ type: 'unregistered' as const, binding })));
    return { next: [], events };
  }

  const next = [...live];
  for (const c of input.contacts) {
    let expires = c.expires ?? input.expiresHeader ?? config.defaultExpires;
    if (expires > 0 && expires < config.minExpires) {
      throw new SipError(423, 'Interval Too Brief', { 'Min-Expires': String(config.minExpires) });
    }
    const shortenedByUs = expires > config.maxExpires;
    if (shortenedByUs) expires = config.maxExpires;
    const i = next.findIndex((b) => sameContact(b, c, keyOf));
    const existing = i >= 0 ? next[i] : undefined;
    if (existing) checkOrder(existing, input);
    if (expires === 0) {
      if (existing) {
        next.splice(i, 1);
        events.push({ type: 'unregistered', binding: existing });
      }
      continue;
    }
    const binding: Binding = {
      id: existing?.id ?? newId(),
      domain: input.domain,
      aor: input.aor,
      uri: c.uri,
      ...(c.displayName !== undefined && { displayName: c.displayName }),
      ...(c.params !== undefined && { params: c.params }),
      expiresAt: now + expires * 1000,
      q: c.q,
      callId: input.callId,
      cseq: input.cseq,
      instance: c.instance,
      regId: c.regId,
      path: input.path,
      userAgent: input.userAgent,
      source: input.source,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (existing) {
      next[i] = binding;
      const type = binding.expiresAt < existing.expiresAt || shortenedByUs ? 'shortened' : 'refreshed';
      events.push({ type, binding });
    } else {
      next.push(binding);
      events.push({ type: 'created', binding });
    }
  }
  if (config.maxContacts > 0 && next.length > config.maxContacts) {
    throw new SipError(403, `Too many registered contacts (at most ${config.maxContacts})`);
  }
  return { next, events };
}
