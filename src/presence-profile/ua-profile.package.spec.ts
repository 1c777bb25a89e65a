import { PackageError, type EventParams, type PresentityState, type WatcherSession } from '../pa/core/event-package';
import { bestMatch, matchScore, targetOfEventParams, type Profile, type ProfileTarget } from './profile';
import { createUaProfilePackage, heldVersion, type ProfileSource } from './ua-profile.package';

const AOR = 'sip:mac-01@example.com';
const NOW = 1_800_000_000_000;

let n = 0;
function doc(target: ProfileTarget, body: string, aor = AOR, modifiedAt = NOW): Profile {
  n++;
  return {
    id: `id${n}`,
    aor,
    ...target,
    contentType: 'application/xml',
    etag: `e${n}`,
    size: body.length,
    createdAt: modifiedAt,
    modifiedAt,
    body: Buffer.from(body),
  };
}

const source: ProfileSource = {
  documentsFor: () => Promise.resolve([]),
  version: () => Promise.resolve(undefined),
  holders: () => [],
  publish: () => Promise.reject(new Error('not used')),
};
const pkg = createUaProfilePackage({ defaultExpires: 3600, minExpires: 60, maxExpires: 7200 }, source);

function state(docs: Profile[], presentity = AOR): PresentityState {
  return { presentity, event: 'ua-profile', publications: [], contacts: [], document: docs, now: NOW };
}

const params = (p: Record<string, string>): EventParams => p;

describe('ua-profile best match', () => {
  const device = { profileType: 'device' } as const;

  it('scores vendor over model over version over appids; a set field that differs excludes the document', () => {
    const want = { ...device, vendor: 'Acme', model: 'p3', version: '1.0', appids: 'a,b' };
    expect(matchScore(device, want)).toBe(0);
    expect(matchScore({ ...device, vendor: 'acme' }, want)).toBe(8);
    expect(matchScore({ ...device, vendor: 'acme', model: 'P3' }, want)).toBe(12);
    expect(matchScore({ ...device, model: 'p3', version: '1.0', appids: 'c,b' }, want)).toBe(7);
    expect(matchScore({ ...device, vendor: 'zeta' }, want)).toBe(-1);
    expect(matchScore({ ...device, appids: 'c' }, want)).toBe(-1);
    expect(matchScore({ profileType: 'user' }, want)).toBe(-1);
  });

  it('picks the most specific document, the newest between equals, none when nothing matches', () => {
    const generic = doc(device, 'g');
    const acme = doc({ ...device, vendor: 'acme' }, 'a');
    const older = doc({ ...device, vendor: 'acme', model: 'p3' }, 'old', AOR, NOW - 1000);
    const newer = doc({ ...device, vendor: 'acme', version: '1.0' }, 'new', AOR, NOW);
    expect(bestMatch([generic, acme], { ...device, vendor: 'acme' })).toBe(acme);
    expect(bestMatch([generic, acme], { ...device, vendor: 'zeta' })).toBe(generic);
    expect(bestMatch([older, newer, generic], { ...device, vendor: 'acme', model: 'p3', version: '1.0' })).toBe(older);
    expect(bestMatch([acme], { profileType: 'user' })).toBeUndefined();
  });

  it('reads the Event parameters, quoted or not; profile-type is required (489), bad values 400', () => {
    expect(targetOfEventParams(params({ 'profile-type': 'device', vendor: '"acme"', model: 'p3' }))).toEqual({
      profileType: 'device',
      vendor: 'acme',
      model: 'p3',
    });
    expect(() => targetOfEventParams(params({}))).toThrow(expect.objectContaining({ status: 489 }) as Error);
    expect(() => targetOfEventParams(params({ 'profile-type': 'application' }))).toThrow(
      expect.objectContaining({ status: 489 }) as Error,
    );
    expect(() => targetOfEventParams(params({ 'profile-type': 'user', vendor: '""' }))).toThrow(PackageError);
  });
});

describe('ua-profile package', () => {
  const user = doc({ profileType: 'user' }, '<user/>');
  const acme = doc({ profileType: 'device', vendor: 'acme' }, '<acme/>');
  const net = doc({ profileType: 'local-network' }, '<net/>', 'sip:anonymous@example.com');

  it('renders the chosen document byte for byte and records the version in the package state', () => {
    const session: WatcherSession = {};
    const body = pkg.render(state([user, acme, net]), {
      kind: 'sip',
      uri: AOR,
      accept: [],
      eventParams: params({ 'profile-type': 'device', vendor: 'acme' }),
      session,
    });
    expect(body?.body).toEqual(Buffer.from('<acme/>'));
    expect(body?.contentType).toBe('application/xml');
    expect(body?.contentRef).toBe(acme.etag);
    expect(heldVersion(session.packageState)).toBe(acme.etag);
    const local = pkg.render(state([net]), {
      kind: 'sip',
      uri: 'sip:desk@example.com',
      accept: [],
      eventParams: params({ 'profile-type': 'local-network' }),
    });
    expect(local?.body).toEqual(Buffer.from('<net/>'));
  });

  it('says a change does not concern a watcher that holds the right version, and sends null when none matches', () => {
    const session: WatcherSession = { packageState: { etag: acme.etag } };
    const watcher = {
      kind: 'sip' as const,
      uri: AOR,
      accept: [],
      eventParams: params({ 'profile-type': 'device', vendor: 'acme' }),
      session,
    };
    expect(pkg.render(state([acme, user]), watcher, [{ kind: 'document' }])).toBeUndefined();
    expect(pkg.render(state([user]), watcher, [{ kind: 'document' }])).toBeNull();
    expect(heldVersion(session.packageState)).toBeNull();
  });

  it('admits by Accept (406 naming the type), and allows its own AoR or its domain for local-network', () => {
    const s = state([user]);
    const watcher = { kind: 'sip' as const, uri: AOR, eventParams: params({ 'profile-type': 'user' }) };
    expect(() => {
      pkg.admit!(s, { ...watcher, accept: ['application/json'] });
    }).toThrow(
      expect.objectContaining({ status: 406, headers: { Accept: 'application/xml, message/external-body' } }) as Error,
    );
    expect(() => {
      pkg.admit!(s, { ...watcher, accept: ['application/*'] });
    }).not.toThrow();
    expect(() => {
      pkg.admit!(s, { ...watcher, accept: ['message/external-body'] });
    }).not.toThrow();
    expect(pkg.authorize!({ ...watcher, accept: [] }, AOR)).toBe('active');
    expect(pkg.authorize!({ ...watcher, uri: 'sip:eve@example.com', accept: [] }, AOR)).toBe('terminated');
    const lan = { kind: 'sip' as const, accept: [], eventParams: params({ 'profile-type': 'local-network' }) };
    expect(pkg.authorize!({ ...lan, uri: 'sip:desk@example.com' }, 'sip:anonymous@example.com')).toBe('active');
    expect(pkg.authorize!({ ...lan, uri: 'sip:desk@example.net' }, 'sip:anonymous@example.com')).toBe('terminated');
  });

  it('puts effective-by in the Event header parameters', () => {
    const eff = { ...doc({ profileType: 'user' }, 'x'), effectiveBy: 600 };
    const body = pkg.render(state([eff]), {
      kind: 'sip',
      uri: AOR,
      accept: [],
      eventParams: params({ 'profile-type': 'user' }),
    });
    expect(body?.eventHeaderParams).toEqual({ 'effective-by': '600' });
  });
});
