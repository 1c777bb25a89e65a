import { DomainError } from '../common/domain-error';
import { reasonPhrase, SipError } from '../sip';

/**
 * Status and reason of an error thrown by a handler: SipError, a domain error (its message in the reason,
 * e.g. `400 Bad Request (Call-ID is too long: at most 255 characters)`, Retry-After with a 503), or any
 * error carrying a SIP status.
 */
export function statusOf(
  e: unknown,
): { status: number; reason: string; headers: Record<string, string | string[]> } | undefined {
  if (e instanceof SipError) return { status: e.status, reason: e.reason, headers: { ...e.headers } };
  if (e instanceof DomainError) {
    const headers: Record<string, string> = {};
    if (e.retryAfter !== undefined) headers['Retry-After'] = String(e.retryAfter);
    return { status: e.status, reason: `${reasonPhrase(e.status)} (${e.message})`, headers };
  }
  if (typeof e === 'object' && e !== null && 'status' in e && 'reason' in e) {
    const { status, reason, headers } = e as { status: unknown; reason: unknown; headers?: unknown };
    if (typeof status === 'number' && status >= 300 && status < 700 && typeof reason === 'string') {
      return { status, reason, headers: (headers ?? {}) as Record<string, string | string[]> };
    }
  }
  return undefined;
}
