import { DomainError } from '../../common/domain-error';
import { PackageError } from '../core/event-package';

/** The part of a SIP reason phrase in parentheses (`Forbidden (sip:a@b has 16 ...)`), else all of it. */
const detail = (reason: string): string => /\((.+)\)$/.exec(reason)?.[1] ?? reason;

/**
 * Translates a {@link PackageError} of the presence core (a SIP status and reason) into the
 * {@link DomainError} that REST sends as JSON and the browser WebSocket as an `error` message.
 * A 400 names the field its reason starts with when that is one of `fields` (a package's JSON fields,
 * {@link JsonPublishing}), else `body`. Anything else is returned unchanged.
 */
export function fromPackageError(e: unknown, fields: readonly string[] = []): unknown {
  if (!(e instanceof PackageError)) return e;
  switch (e.status) {
    case 412:
      return new DomainError(
        412,
        'If-Match: no live publication of this presentity and event has that entity tag (it expired, was removed or replaced)',
        'If-Match',
      );
    case 415:
      return new DomainError(
        415,
        `Content-Type is not accepted here; use ${e.headers.Accept ?? 'a type the event package accepts'}`,
        'Content-Type',
      );
    case 403:
      return new DomainError(403, `aor: ${detail(e.reason)}; refresh, modify or remove one with If-Match`, 'aor');
    case 413:
      return new DomainError(413, `body is too large: ${detail(e.reason)}`, 'body');
    case 423: {
      const min = e.headers['Min-Expires'];
      return new DomainError(400, `expires is too short: at least ${min ?? 'the minimum'} seconds`, 'expires');
    }
    case 489:
      return new DomainError(
        400,
        `event: this event package takes no publications (publishable: ${e.headers['Allow-Events'] ?? 'none'})`,
        'event',
      );
    case 400: {
      const first = /^[A-Za-z]+/.exec(e.reason)?.[0];
      if (first && fields.includes(first)) return new DomainError(400, e.reason, first);
      return new DomainError(400, `body: ${e.reason}`, 'body');
    }
    default:
      return new DomainError(e.status >= 400 && e.status < 600 ? e.status : 500, e.reason);
  }
}
