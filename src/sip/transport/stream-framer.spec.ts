import { StreamFramer } from './stream-framer';

const msg = (body = ''): string =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('StreamFramer (RFC 3261 §18.3)', () => {
  it('frames coalesced messages and keep-alives', () => {
    const f = new StreamFramer(65535);
    const ev = f.push(Buffer.from('\r\n\r\n' + msg('héllo') + msg() + '\r\n\r\n'));
    expect(ev.map((e) => e.kind)).toEqual(['ping', 'message', 'message', 'ping']);
    expect(ev[1].kind === 'message' && ev[1].data.toString()).toBe(msg('héllo'));
  });

  it('frames a message split byte by byte, and a ping split in two', () => {
    const f = new StreamFramer(65535);
    const data = Buffer.from(msg('body!'));
    const out = [];
    for (let i = 0; i < data.length; i++) out.push(...f.push(data.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(f.push(Buffer.from('\r\n'))).toEqual([{ kind: 'ping' }]);
  });

  it('fails on a missing Content-Length or an over-long message', () => {
    expect(new StreamFramer(65535).push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n'))[0]).toEqual({
      kind: 'error',
      reason: 'Missing Content-Length on stream',
    });
    const over = new StreamFramer(100).push(Buffer.from(msg('x'.repeat(200))));
    expect(over.map((e) => e.kind)).toEqual(['oversized', 'error']);
    expect(over[0]).toEqual({
      kind: 'oversized',
      head: Buffer.from(msg('x'.repeat(200)).split('\r\n\r\n')[0] + '\r\n\r\n'),
      length: msg('x'.repeat(200)).length,
    });
    expect(new StreamFramer(100).push(Buffer.alloc(200, 0x41))[0].kind).toBe('error');
  });
});
