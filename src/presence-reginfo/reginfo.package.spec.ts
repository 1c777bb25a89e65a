import { join } from 'node:path';
import { validateXml } from '../../test/utils/xml-schema';
import type {
  ContactView,
  EventPackage,
  PresentityState,
  PublicationView,
  StateChange,
  WatcherSession,
} from '../pa/core/event-package';
import { parseReginfo, type Reginfo } from './reginfo';
import { localRegistrationId, parseIdentities } from './reginfo-local';
import { createReginfoPackage, type ReginfoPackageOptions } from './reginfo.package';

const XSD = join(__dirname, '..', '..', 'test', 'fixtures', 'xsd', 'reginfo.xsd');
const AOR = 'sip:alice@example.com';
const NOW = 1_800_000_000_000;

const options: ReginfoPackageOptions = {
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 7200,
  publishMinExpires: 60,
  publishMaxExpires: 7200,
  publishMaxBodySize: 65_535,
  aggregatePresentities: false,
  identitiesKey: 'identities',
  trustedWatchers: ['sip:as@example.com', 'pcscf.example.net'],
};

function contact(id: string, event = 'registered', expiresIn = 600): ContactView {
  return {
    id,
    uri: `sip:alice@${id}.example.com`,
    expiresAt: NOW + expiresIn * 1000,
    callId: `call-${id}`,
    cseq: 2,
    registeredAt: NOW - 30_000,
    event,
  };
}

function publication(etag: string, modifiedAt: number, aor: string, contactId: string): PublicationView {
  return {
    etag,
    contentType: 'application/reginfo+xml',
    body: `<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="5" state="full"><registration aor="${aor}" id="p${etag}" state="active"><contact id="${contactId}" state="active" event="registered"><uri>sip:far@${etag}.example.org</uri></contact></registration></reginfo>`,
    expiresAt: NOW + 600_000,
    modifiedAt,
    source: aor,
  };
}

function state(
  contacts: ContactView[] = [],
  publications: PublicationView[] = [],
  attributes?: Record<string, string>,
): PresentityState {
  return {
    presentity: AOR,
    event: 'reg',
    publications,
    contacts,
    ...(attributes && { attributes }),
    now: NOW,
  };
}

function renderDoc(
  pkg: EventPackage<string>,
  s: PresentityState,
  session: WatcherSession | undefined,
  changes?: StateChange[],
): Reginfo {
  const body = pkg.render(s, { kind: 'sip', uri: AOR, accept: [], ...(session && { session }) }, changes);
  expect(body?.contentType).toBe('application/reginfo+xml');
  expect(validateXml(body!.body, XSD).errors).toBe('');
  return parseReginfo(body!.body);
}

describe('the reg package (RFC 3680)', () => {
  it('sends full state with version 0 first, then partial state with the changed contacts, +1 each', () => {
    const pkg = createReginfoPackage(options);
    const session: WatcherSession = {};
    const first = renderDoc(pkg, state([contact('c1')]), session);
    expect(first.version).toBe(0);
    expect(first.state).toBe('full');
    expect(first.registrations).toHaveLength(1);
    const reg = first.registrations[0];
    expect(reg).toMatchObject({ aor: AOR, id: localRegistrationId(AOR), state: 'active' });
    expect(reg.contacts[0]).toMatchObject({
      id: 'c1',
      state: 'active',
      event: 'registered',
      expires: 600,
      durationRegistered: 30,
      callid: 'call-c1',
      cseq: 2,
    });

    const created = contact('c2', 'created');
    const second = renderDoc(pkg, state([contact('c1'), created]), session, [
      { kind: 'contacts', contacts: [created] },
    ]);
    expect(second).toMatchObject({ version: 1, state: 'partial' });
    expect(second.registrations[0].contacts.map((c) => [c.id, c.state, c.event])).toEqual([
      ['c2', 'active', 'created'],
    ]);

    const gone = contact('c1', 'unregistered');
    const third = renderDoc(pkg, state([]), session, [{ kind: 'contacts', contacts: [gone] }]);
    expect(third).toMatchObject({ version: 2, state: 'partial' });
    expect(third.registrations[0].state).toBe('terminated');
    expect(third.registrations[0].contacts[0]).toMatchObject({ id: 'c1', state: 'terminated', event: 'unregistered' });
    expect(third.registrations[0].contacts[0].expires).toBeUndefined();

    // A refresh SUBSCRIBE (no changes given) gets full state with the next version.
    const refresh = renderDoc(pkg, state([]), session);
    expect(refresh).toMatchObject({ version: 3, state: 'full' });
    expect(refresh.registrations[0]).toMatchObject({ state: 'init', contacts: [] });
  });

  it("writes a contact's display name and other parameters as display-name and unknown-param", () => {
    const pkg = createReginfoPackage(options);
    const c: ContactView = {
      ...contact('c1'),
      displayName: 'Alice <desk> & co',
      instance: '<urn:uuid:00000000-0000-4000-8000-000000000001>',
      regId: 1,
      params: [
        ['audio', null],
        ['x-line', '"2"'],
      ],
    };
    const doc = renderDoc(pkg, state([c]), {});
    expect(doc.registrations[0].contacts[0]).toMatchObject({
      displayName: 'Alice <desk> & co',
      unknownParams: [
        { name: '+sip.instance', value: '"<urn:uuid:00000000-0000-4000-8000-000000000001>"' },
        { name: 'reg-id', value: '1' },
        { name: 'audio', value: '' },
        { name: 'x-line', value: '"2"' },
      ],
    });
  });

  it('keeps the last event of a contact changed twice in one notification', () => {
    const pkg = createReginfoPackage(options);
    const session: WatcherSession = { packageState: { version: 4 } };
    const doc = renderDoc(pkg, state([contact('c1')]), session, [
      { kind: 'contacts', contacts: [contact('c1', 'created')] },
      { kind: 'contacts', contacts: [contact('c1', 'refreshed')] },
    ]);
    expect(doc.version).toBe(5);
    expect(doc.registrations[0].contacts.map((c) => c.event)).toEqual(['refreshed']);
  });

  it('without aggregation lists the local registrations and the newest publication', () => {
    const pkg = createReginfoPackage(options);
    const pubs = [publication('old', NOW - 5000, AOR, 'p1'), publication('new', NOW - 1000, AOR, 'p2')];
    const doc = renderDoc(pkg, state([contact('c1')], pubs), {}, [
      { kind: 'publication', action: 'published', etag: 'new' },
    ]);
    expect(doc.state).toBe('full');
    expect(doc.registrations.map((r) => r.id)).toEqual([localRegistrationId(AOR), 'pnew']);
  });

  it('with aggregation lists every publication, and no init registration of an AoR a publication describes', () => {
    const pkg = createReginfoPackage({ ...options, aggregatePresentities: true });
    const pubs = [publication('new', NOW - 1000, AOR, 'p2'), publication('old', NOW - 5000, AOR, 'p1')];
    const doc = renderDoc(pkg, state([], pubs), {});
    expect(doc.registrations.map((r) => r.id)).toEqual(['pold', 'pnew']);
    expect(pkg.toJson(state([], pubs))).toEqual({ registrations: doc.registrations });
  });

  it('lists a registration for every public identity, with the same contacts', () => {
    const pkg = createReginfoPackage(options);
    const attrs = {
      identities: '<sip:alice@example.com>, <tel:+15551234>;x=y, <sip:+15551234@example.com;user=phone>',
    };
    const doc = renderDoc(pkg, state([contact('c1')], [], attrs), {});
    expect(doc.registrations.map((r) => r.aor)).toEqual([AOR, 'tel:+15551234', 'sip:+15551234@example.com;user=phone']);
    for (const r of doc.registrations) expect(r.contacts.map((c) => c.id)).toEqual(['c1']);
    expect(new Set(doc.registrations.map((r) => r.id)).size).toBe(3);
    expect(pkg.aorAttributes).toEqual(['identities']);
  });

  it('reads identities in P-Associated-URI form', () => {
    expect(parseIdentities(AOR, undefined)).toEqual([AOR]);
    expect(parseIdentities(AOR, 'sip:b@example.com, sip:alice@example.com,<sip:c@example.com>')).toEqual([
      AOR,
      'sip:b@example.com',
      'sip:c@example.com',
    ]);
  });

  it('lets a user watch its own AoR and trusted watchers any; others are refused', () => {
    const pkg = createReginfoPackage(options);
    const who = (uri: string) => pkg.authorize!({ kind: 'sip', uri, accept: [] }, AOR);
    expect(who(AOR)).toBe('active');
    expect(who('sip:as@example.com')).toBe('active');
    expect(who('sip:scscf@pcscf.example.net')).toBe('active');
    expect(who('sip:mallory@example.com')).toBe('terminated');
    expect(who('sip:x@evil.pcscf.example.net')).toBe('terminated');
  });

  it('takes reginfo PUBLISH bodies only: 415 for another type, 400 for a bad document', () => {
    const pkg = createReginfoPackage(options);
    const rules = pkg.publish!;
    expect(rules.expires.default).toBe(3600);
    expect(() => {
      rules.validate('application/pidf+xml', '<x/>', AOR);
    }).toThrow(expect.objectContaining({ status: 415 }) as Error);
    expect(() => {
      rules.validate('application/reginfo+xml', '<reginfo/>', AOR);
    }).toThrow(expect.objectContaining({ status: 400 }) as Error);
    expect(() => {
      rules.validate('application/reginfo+xml; charset=utf-8', publication('a', NOW, AOR, 'x').body, AOR);
    }).not.toThrow();
  });
});
