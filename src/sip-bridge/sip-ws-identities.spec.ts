import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setPrincipal, type Principal } from '../access/principal';
import { parseMessage, SipError, type Flow, type SipRequest } from '../sip';
import { SipWsIdentities } from './sip-ws-identities';

const fixture = readFileSync(join(__dirname, '../../test/fixtures/limits-register.sip'), 'utf8');

/** A request from the REGISTER fixture: `method`, with From and To set to `from` and `to`. */
function request(method: string, from: string, to: string): SipRequest {
  const text = fixture
    .replace(/\{\{[a-zA-Z]+\}\}/g, 'x1')
    .replace(/^REGISTER /, `${method} `)
    .replace(/^CSeq: (\d+) REGISTER/m, `CSeq: $1 ${method}`)
    .replace(/^From: .*$/m, `From: <${from}>;tag=t1`)
    .replace(/^To: .*$/m, `To: <${to}>`);
  return parseMessage(Buffer.from(text)) as SipRequest;
}

const flow = (connectionId?: string): Flow => ({
  protocol: 'ws',
  localAddress: '127.0.0.1',
  localPort: 3000,
  remoteAddress: '127.0.0.1',
  remotePort: 40000,
  ...(connectionId !== undefined && { connectionId }),
});

describe('SipWsIdentities', () => {
  let retry: number;
  let ids: SipWsIdentities;
  const bind = (id: string, p: Principal): void => {
    const req = {} as IncomingMessage;
    setPrincipal(req, p);
    ids.bind(id, req);
  };

  beforeEach(() => {
    retry = 0;
    ids = new SipWsIdentities(() => retry);
    bind('ws-1', { keyId: 'k1', role: 'user', aor: 'sip:alice@example.com' });
    bind('ws-2', { keyId: 'k0', role: 'admin' });
  });

  it('lets a user key act for its own AoR: the To of a REGISTER, the From of others', () => {
    expect(() => {
      ids.check(request('REGISTER', 'sip:bob@example.com', 'sip:alice@example.com'), flow('ws-1'));
    }).not.toThrow();
    expect(() => {
      ids.check(request('PUBLISH', 'sip:alice@example.com', 'sip:bob@example.com'), flow('ws-1'));
    }).not.toThrow();
    expect(() => {
      ids.check(request('REGISTER', 'sip:alice@example.com', 'sip:bob@example.com'), flow('ws-1'));
    }).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => {
      ids.check(request('SUBSCRIBE', 'sip:bob@example.com', 'sip:alice@example.com'), flow('ws-1'));
    }).toThrow(/may not act for sip:bob@example.com, the From/);
  });

  it('lets admin keys and connections without a key through', () => {
    const other = request('PUBLISH', 'sip:bob@example.com', 'sip:bob@example.com');
    expect(() => {
      ids.check(other, flow('ws-2'));
    }).not.toThrow();
    expect(() => {
      ids.check(other, flow('ws-3'));
    }).not.toThrow();
    expect(() => {
      ids.check(other, flow());
    }).not.toThrow();
  });

  it("answers 503 with Retry-After past the key's rate, and forgets a closed connection", () => {
    retry = 4;
    let err: unknown;
    try {
      ids.check(request('OPTIONS', 'sip:alice@example.com', 'sip:example.com'), flow('ws-1'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SipError);
    expect(err).toMatchObject({ status: 503, headers: { 'Retry-After': '4' } });
    ids.drop(flow('ws-1'));
    expect(ids.of(flow('ws-1'))).toBeUndefined();
  });
});
