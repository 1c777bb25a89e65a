import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../message/parser';
import type { SipRequest } from '../message/sip-message';
import { serverKey } from './stack-support';

const load = (name: string): SipRequest =>
  parseMessage(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', name))) as SipRequest;

describe('serverKey (RFC 3261 §17.2.3)', () => {
  it('keys an RFC 3261 branch by branch, sent-by and method', () => {
    const req = load('subscribe-typical.sip');
    expect(serverKey(req, req.via[0], 'SUBSCRIBE')).toBe('z9hG4bK74bf9a1c2e|192.0.2.10:5060|SUBSCRIBE');
  });

  it('falls back to the RFC 2543 fields for the magic cookie alone (RFC 4475 §3.2.1, badbranch)', () => {
    const req = load('rfc4475/badbranch.dat');
    const key = serverKey(req, req.via[0], 'OPTIONS');
    expect(key.startsWith('2543|badbranch.sadonfo23i420jv0as0derf3j3n|8|OPTIONS|33242|')).toBe(true);
  });

  it('uses the RFC 2543 fields without a branch (RFC 4475 §3.4.1, inv2543)', () => {
    const req = load('rfc4475/inv2543.dat');
    expect(serverKey(req, req.via[0], 'INVITE')).toMatch(
      /^2543\|inv2543\.1717@ift\.client\.example\.com\|56\|INVITE\|/,
    );
  });
});
