/** The media type of a Content-Type or Accept value: lowercase, without parameters (`''` for none). */
export function mediaType(value: string): string {
  return (value.split(';', 1)[0] ?? '').trim().toLowerCase();
}

/** Media types of Accept header values, lowercase and without parameters. */
export function acceptTypes(values: readonly string[]): string[] {
  return values.map(mediaType).filter((v) => v.length > 0);
}

/** Whether a watcher accepting `accept` (empty: the package default) can take one of `offered`. */
export function canAccept(accept: readonly string[], offered: readonly string[]): boolean {
  if (accept.length === 0) return true;
  return accept.some((a) => {
    if (a === '*/*') return true;
    if (a.endsWith('/*')) return offered.some((o) => o.startsWith(a.slice(0, -1)));
    return offered.includes(a);
  });
}
