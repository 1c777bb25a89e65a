import type { Binding } from '../location/binding';
import type { Registration } from '../presence-reginfo/reginfo';
import { applyRegistration, learnedBindingId } from './reginfo-apply';

const NOW = 1_800_000_000_000;
const ORIGIN = 'sip:alice@a.example.com';
const ctx = {
  origin: ORIGIN,
  domain: 'location',
  aor: 'sip:alice@example.com',
  now: NOW,
  full: false,
  defaultExpires: 3600,
};

function reg(state: Registration['state'], contacts: Registration['contacts']): Registration {
  return { aor: 'sip:alice@example.com', id: 'r1', state, contacts };
}

const local: Binding = {
  id: 'local1',
  domain: 'location',
  aor: 'sip:alice@example.com',
  uri: 'sip:alice@10.0.0.1',
  expiresAt: NOW + 600_000,
  callId: 'own-call',
  cseq: 3,
  path: [],
  userAgent: 'phone',
  source: { protocol: 'udp', remoteAddress: '10.0.0.1', remotePort: 5060, localAddress: '', localPort: 0 },
  createdAt: NOW,
  updatedAt: NOW,
};

describe('reginfo applied to the location service (reginfo_handle_notify)', () => {
  it('inserts active contacts with their origin, refreshes them, removes terminated ones', () => {
    const c = {
      id: 'c1',
      state: 'active' as const,
      event: 'registered' as const,
      uri: 'sip:alice@10.9.9.9',
      expires: 300,
      callid: 'x1',
      cseq: 1,
    };
    const first = applyRegistration([local], reg('active', [c]), ctx);
    expect(first.events.map((e) => e.type)).toEqual(['created']);
    const learned = first.next.find((b) => b.origin === ORIGIN)!;
    expect(learned).toMatchObject({
      id: learnedBindingId(ORIGIN, c.uri, 'x1'),
      uri: c.uri,
      expiresAt: NOW + 300_000,
      cseq: 1,
    });
    expect(first.next).toContain(local);

    // Told again unchanged: nothing happens (no event, so no NOTIFY ping-pong between two servers).
    expect(applyRegistration(first.next, reg('active', [c]), { ...ctx, now: NOW + 500 }).events).toEqual([]);
    // A refresh (new CSeq) is one.
    const refreshed = applyRegistration(first.next, reg('active', [{ ...c, cseq: 2 }]), ctx);
    expect(refreshed.events.map((e) => e.type)).toEqual(['refreshed']);

    const gone = applyRegistration(
      refreshed.next,
      reg('active', [{ ...c, state: 'terminated', event: 'unregistered' }]),
      ctx,
    );
    expect(gone.events.map((e) => e.type)).toEqual(['unregistered']);
    expect(gone.next).toEqual([local]);
  });

  it('leaves our own bindings alone when they come back, and a terminated registration removes only learned ones', () => {
    const own = {
      id: 'x',
      state: 'active' as const,
      event: 'registered' as const,
      uri: local.uri,
      expires: 600,
      callid: 'own-call',
      cseq: 3,
    };
    const other = {
      id: 'y',
      state: 'active' as const,
      event: 'created' as const,
      uri: 'sip:alice@10.9.9.8',
      expires: 60,
      callid: 'y1',
    };
    const applied = applyRegistration([local], reg('active', [own, other]), ctx);
    expect(applied.next.map((b) => b.origin ?? 'local')).toEqual(['local', ORIGIN]);
    const ended = applyRegistration(applied.next, reg('terminated', []), ctx);
    expect(ended.next).toEqual([local]);
    expect(ended.events.map((e) => e.type)).toEqual(['unregistered']);
  });

  it('with full state drops learned contacts the document no longer lists', () => {
    const a = {
      id: 'a',
      state: 'active' as const,
      event: 'registered' as const,
      uri: 'sip:a@h',
      expires: 60,
      callid: 'a',
    };
    const b = { ...a, id: 'b', uri: 'sip:b@h', callid: 'b' };
    const both = applyRegistration([], reg('active', [a, b]), ctx).next;
    const onlyA = applyRegistration(both, reg('active', [a]), { ...ctx, full: true, now: NOW + 10_000 });
    expect(onlyA.next.map((x) => x.uri)).toEqual(['sip:a@h']);
    expect(onlyA.events.map((e) => `${e.type} ${e.binding.uri}`)).toEqual(['refreshed sip:a@h', 'deactivated sip:b@h']);
  });
});
