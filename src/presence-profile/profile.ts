/**
 * Provisioning documents of the `ua-profile` event package (RFC 6080): what a document is stored with, which
 * devices it targets, and which document a subscriber gets.
 */
import { createHash } from 'node:crypto';
import { PackageError, type EventParams } from '../pa/core/event-package';

/** RFC 6080 §6.2 profile types. */
export const PROFILE_TYPES = ['user', 'device', 'local-network'] as const;
export type ProfileType = (typeof PROFILE_TYPES)[number];

export const UA_PROFILE_EVENT = 'ua-profile';

/** Longest vendor, model, version (characters) and appids list of a document or a SUBSCRIBE. */
export const TARGET_MAX = 64;
export const APPIDS_MAX = 255;

/** Which devices a document is for (RFC 6080 §6.2 parameters); an absent field matches any device. */
export interface ProfileTarget {
  readonly profileType: ProfileType;
  readonly vendor?: string;
  readonly model?: string;
  readonly version?: string;
  /** Application ids, comma-separated as in the Event parameter. */
  readonly appids?: string;
}

/** A stored document without its bytes. */
export interface ProfileMeta extends ProfileTarget {
  /** Derived from AoR and target: one document per AoR and target. */
  readonly id: string;
  /** The AoR (user, device URI) or, for local-network documents, `sip:anonymous@<domain>`. */
  readonly aor: string;
  readonly contentType: string;
  /** Entity tag of this version of the document (HTTP ETag, SIP-ETag). */
  readonly etag: string;
  /** Bytes. */
  readonly size: number;
  /** RFC 6080 §6.2 `effective-by`: seconds within which the device should apply the document. */
  readonly effectiveBy?: number;
  readonly createdAt: number;
  readonly modifiedAt: number;
}

/** A document with its bytes. */
export interface Profile extends ProfileMeta {
  readonly body: Buffer;
}

/** The key of the one local-network document set of a domain. */
export function localNetworkAor(domain: string): string {
  return `sip:anonymous@${domain.toLowerCase()}`;
}

/** The host of an AoR `sip:user@host`, lower case. */
export function domainOf(aor: string): string {
  return aor.slice(aor.lastIndexOf('@') + 1).toLowerCase();
}

/** The key of the documents a subscriber to `presentity` with a profile type reads: its own, or its domain's. */
export function ownerFor(presentity: string, type: ProfileType): string {
  return type === 'local-network' ? localNetworkAor(domainOf(presentity)) : presentity;
}

/** The id of the document of an AoR for a target (stable, so that a PUT of the same target replaces it). */
export function profileId(aor: string, t: ProfileTarget): string {
  const key = [aor, t.profileType, t.vendor ?? '', t.model ?? '', t.version ?? '', t.appids ?? ''].join('\u0000');
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

const same = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();

/** Whether two targets name the same document. */
export function sameTarget(a: ProfileTarget, b: ProfileTarget): boolean {
  const eq = (x: string | undefined, y: string | undefined): boolean => (x ?? '') === (y ?? '') || same(x, y);
  return (
    a.profileType === b.profileType &&
    eq(a.vendor, b.vendor) &&
    eq(a.model, b.model) &&
    eq(a.version, b.version) &&
    eq(a.appids, b.appids)
  );
}

const appidList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);

/**
 * How specifically `doc` targets the subscriber `want`, or -1 when it is for other devices. A document's field
 * that is set must equal the subscriber's (case-insensitively; for appids, one of the document's ids must be
 * among the subscriber's); an unset field matches any. The score weighs vendor over model over version over
 * appids, so that the most specific document wins (README: the best-match rule).
 */
export function matchScore(doc: ProfileTarget, want: ProfileTarget): number {
  if (doc.profileType !== want.profileType) return -1;
  let score = 0;
  const fields = [
    [doc.vendor, want.vendor, 8],
    [doc.model, want.model, 4],
    [doc.version, want.version, 2],
  ] as const;
  for (const [d, w, weight] of fields) {
    if (d === undefined) continue;
    if (!same(d, w)) return -1;
    score += weight;
  }
  if (doc.appids !== undefined) {
    const wanted = new Set(appidList(want.appids ?? ''));
    if (!appidList(doc.appids).some((a) => wanted.has(a))) return -1;
    score += 1;
  }
  return score;
}

/** The best-matching document for a subscriber: highest {@link matchScore}, then the newest. */
export function bestMatch<T extends ProfileMeta>(docs: readonly T[], want: ProfileTarget): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const d of docs) {
    const s = matchScore(d, want);
    if (s > bestScore || (s === bestScore && s >= 0 && best !== undefined && d.modifiedAt > best.modifiedAt)) {
      best = d;
      bestScore = s;
    }
  }
  return best;
}

const TOKENISH = /^[\x21-\x7e]+$/;

/** Event parameters as a subscriber meant them: quoted-string values without their quotes, flags as null. */
export function eventParamValues(params: EventParams | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(params ?? {})) out[name] = unquote(value) ?? null;
  return out;
}

/** A parameter value without its quotes (RFC 3261 quoted-string), or undefined for a flag. */
function unquote(v: string | null): string | undefined {
  if (v === null) return undefined;
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/**
 * The target a SUBSCRIBE's Event parameters describe (RFC 6080 §6.2). `profile-type` is required: without it,
 * or with a type this server does not serve, the subscription is refused with 489 Bad Event naming it.
 * `network-user` is accepted (a local-network subscriber's user) and otherwise not used.
 */
export function targetOfEventParams(params: EventParams | undefined): ProfileTarget {
  const raw = params?.['profile-type'];
  const type = raw === undefined || raw === null ? undefined : unquote(raw)?.toLowerCase();
  if (type === undefined) {
    throw new PackageError(489, 'Bad Event (profile-type parameter missing: user, device or local-network)');
  }
  if (!(PROFILE_TYPES as readonly string[]).includes(type)) {
    throw new PackageError(489, `Bad Event (profile-type ${type} not served: user, device or local-network)`);
  }
  const field = (name: 'vendor' | 'model' | 'version' | 'appids', max: number): string | undefined => {
    const v = params?.[name];
    if (v === undefined) return undefined;
    const value = unquote(v);
    if (value === undefined || value === '' || value.length > max || !TOKENISH.test(value.replace(/ /g, '_'))) {
      throw new PackageError(
        400,
        `Bad Request (Event parameter ${name} must be a non-empty value of at most ${max} characters)`,
      );
    }
    return value;
  };
  const vendor = field('vendor', TARGET_MAX);
  const model = field('model', TARGET_MAX);
  const version = field('version', TARGET_MAX);
  const appids = field('appids', APPIDS_MAX);
  return {
    profileType: type as ProfileType,
    ...(vendor !== undefined && { vendor }),
    ...(model !== undefined && { model }),
    ...(version !== undefined && { version }),
    ...(appids !== undefined && { appids }),
  };
}
