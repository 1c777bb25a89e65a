import { Via } from '../message/via';
import type { Flow } from '../transport/transport';
import { stampedVia } from './response-routing';

const FLOW: Flow = {
  protocol: 'udp',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '192.0.2.7',
  remotePort: 40000,
};

describe('stampedVia (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it.each([
    [
      'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport',
      'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7',
    ],
    ['SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1;received=192.0.2.7'],
    ['SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bK1', 'SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bK1'],
    ['SIP/2.0/UDP  192.0.2.7 ; branch=z9hG4bK1', 'SIP/2.0/UDP  192.0.2.7 ; branch=z9hG4bK1'],
  ])('%s', (value, stamped) => {
    expect(stampedVia(value, FLOW)).toBe(stamped);
    // From the request's parsed Via: the same text, and the request's Via is left as it was.
    const parsed = Via.parse(value);
    const before = parsed.toString();
    expect(stampedVia(value, FLOW, parsed)).toBe(stamped);
    expect(parsed.toString()).toBe(before);
  });

  it('leaves an unparsable value as it is', () => {
    expect(stampedVia('garbage', FLOW)).toBe('garbage');
  });
});
