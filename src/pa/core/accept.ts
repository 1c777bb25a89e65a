/** The media type of a Content-Type or Accept value: lowercase, without parameters (`''` for none). */
export function mediaType(value: string): string {
  return (value.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** Media types of Accept header values, lowercase and without parameters. */
export function acceptTypes(values: readonly string[]): string[] {
  return values.map(mediaType).filter((v) => v.length > 0);
}

/** The media type of content indirection (RFC 4483): a pointer to the content instead of the content. */
export const EXTERNAL_BODY = 'message/external-body';

/**
 * Whether a watcher accepting `accept` (empty: the package default) can take one of `offered`; an offered
 * `* /*` (a package whose documents may be of any type) is taken by any Accept.
 */
export function canAccept(accept: readonly string[], offered: readonly string[]): boolean {
  if (accept.length === 0 || offered.includes('*/*')) return true;
  return accept.some((a) => {
    if (a === '*/*') return true;
    if (a.endsWith('/*')) return offered.some((o) => o.startsWith(a.slice(0, -1)));
    return offered.includes(a);
  });
}
