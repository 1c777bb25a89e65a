import { SipError } from '../sip';
import { loadConfig } from '../config/load-config';
import type { Binding } from './binding';
import { contactKey } from './contact-key';
import { decideRegister, type RegisterInput } from './register-decision';

const config = loadConfig({
  REGISTRAR_MIN_EXPIRES: '60',
  REGISTRAR_MAX_EXPIRES: '7200',
  REGISTRAR_MAX_CONTACTS: '2',
}).registrar;
const source = {
  protocol: 'udp' as const,
  remoteAddress: '192.0.2.1',
  remotePort: 5060,
  localAddress: '127.0.0.1',
  localPort: 5060,
};
let ids = 0;
const newId = (): string => `id${++ids}`;

function input(over: Partial<RegisterInput> = {}): RegisterInput {
  return {
    domain: 'location',
    aor: 'sip:alice@example.com',
    callId: 'c1',
    cseq: 1,
    contacts: [{ uri: 'sip:alice@192.0.2.1', key: contactKey('sip:alice@192.0.2.1') }],
    path: [],
    userAgent: 'ua',
    source,
    ...over,
  };
}

function statusOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof SipError) return e.status;
    throw e;
  }
  return 200;
}

describe('decideRegister (RFC 3261 §10.3)', () => {
  const now = 1_000_000;

  it('adds a binding with the default expiry and announces it as created', () => {
    const d = decideRegister([], input(), config, now, newId, contactKey);
    expect(d.next).toHaveLength(1);
    expect(d.next[0].expiresAt).toBe(now + config.defaultExpires * 1000);
    expect(d.events.map((e) => e.type)).toEqual(['created']);
  });

  it('refreshes an equal URI (case-insensitive host) and shortens to max expires', () => {
    const first = decideRegister([], input(), config, now, newId, contactKey).next;
    const uri = 'sip:alice@192.0.2.1';
    const d = decideRegister(
      first,
      input({ cseq: 2, contacts: [{ uri, key: contactKey('SIP:alice@192.0.2.1'), expires: 999_999 }] }),
      config,
      now,
      newId,
      contactKey,
    );
    expect(d.next).toHaveLength(1);
    expect(d.next[0].id).toBe(first[0].id);
    expect(d.next[0].expiresAt).toBe(now + 7200 * 1000);
    expect(d.events.map((e) => e.type)).toEqual(['shortened']);
  });

  it('refuses too brief expiries with 423, reordered CSeq with 500, * without Expires 0 with 400', () => {
    const c = { uri: 'sip:a@h', key: 'k', expires: 10 };
    expect(statusOf(() => decideRegister([], input({ contacts: [c] }), config, now, newId, contactKey))).toBe(423);
    const first = decideRegister([], input({ cseq: 5 }), config, now, newId, contactKey).next;
    expect(statusOf(() => decideRegister(first, input({ cseq: 5 }), config, now, newId, contactKey))).toBe(500);
    expect(
      statusOf(() => decideRegister(first, input({ contacts: '*', cseq: 6 }), config, now, newId, contactKey)),
    ).toBe(400);
  });

  it('removes all with * and Expires 0, announcing unregistered', () => {
    const first = decideRegister([], input(), config, now, newId, contactKey).next;
    const d = decideRegister(
      first,
      input({ contacts: '*', expiresHeader: 0, callId: 'other' }),
      config,
      now,
      newId,
      contactKey,
    );
    expect(d.next).toEqual([]);
    expect(d.events.map((e) => e.type)).toEqual(['unregistered']);
  });

  it('matches RFC 5626 flows by instance and reg-id, not URI, and enforces max contacts', () => {
    const flow = { instance: '<urn:uuid:1>', regId: 1 };
    const a = decideRegister(
      [],
      input({ contacts: [{ uri: 'sip:a@1.1.1.1', key: 'a', ...flow }] }),
      config,
      now,
      newId,
      contactKey,
    ).next;
    const b = decideRegister(
      a,
      input({ cseq: 2, contacts: [{ uri: 'sip:a@2.2.2.2', key: 'b', ...flow }] }),
      config,
      now,
      newId,
      contactKey,
    );
    expect(b.next).toHaveLength(1);
    expect(b.next[0].uri).toBe('sip:a@2.2.2.2');
    const three = ['x', 'y', 'z'].map((h) => ({ uri: `sip:a@${h}`, key: h }));
    expect(statusOf(() => decideRegister([], input({ contacts: three }), config, now, newId, contactKey))).toBe(403);
  });

  it('reports bindings that expired meanwhile as expired', () => {
    const old: Binding = {
      ...decideRegister([], input(), config, now, newId, contactKey).next[0],
      expiresAt: now - 1,
    };
    const d = decideRegister([old], input({ callId: 'c2', contacts: [] }), config, now, newId, contactKey);
    expect(d.next).toEqual([]);
    expect(d.events.map((e) => e.type)).toEqual(['expired']);
  });
});
