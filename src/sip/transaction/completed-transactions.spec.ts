import { FakeClock } from '../ports/fake-clock';
import { createResponse } from '../message/create-response';
import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import type { SipRequest } from '../message/sip-message';
import {
  CompletedTransactions,
  copiedFields,
  packResponse,
  responseBytes,
  responseText,
  unpackResponse,
} from './completed-transactions';

describe('CompletedTransactions', () => {
  it('holds each record for its delay, in the order they were added', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    table.add('a', 'ra');
    clock.advance(400);
    table.add('b', 'rb');
    expect(table.get('a')).toBe('ra');
    clock.advance(600);
    expect(table.get('a')).toBeUndefined();
    expect(table.get('b')).toBe('rb');
    expect(table.size).toBe(1);
    clock.advance(400);
    expect(table.get('b')).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('finds the newer record of a key added twice, held for its own delay', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    table.add('a', 'first');
    clock.advance(500);
    table.add('a', 'second');
    expect(table.get('a')).toBe('second');
    clock.advance(500);
    expect(table.get('a')).toBe('second');
    clock.advance(500);
    expect(table.get('a')).toBeUndefined();
  });

  it('finds every key it holds and none it does not, across full generations', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 32_000);
    const key = (i: number): string => `z9hG4bK-${String(i)}\u0000192.0.2.1:5060\u0000SUBSCRIBE`;
    for (let i = 0; i < 100_000; i++) {
      table.add(key(i), `r${String(i)}`);
      if (i % 10 === 0) clock.advance(1);
    }
    for (let i = 0; i < 100_000; i++) expect(table.get(key(i))).toBe(`r${String(i)}`);
    for (let i = 100_000; i < 200_000; i++) expect(table.get(key(i))).toBeUndefined();
  });

  it('stays correct while records expire across many generations', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 10);
    for (let i = 0; i < 5000; i++) {
      table.add(`k${i}`, `r${i}`);
      clock.advance(1);
      // k{j} was added at time j and is held until j + 10; it is now i + 1.
      if (i >= 9) expect(table.get(`k${i - 9}`)).toBeUndefined();
      if (i >= 8) expect(table.get(`k${i - 8}`)).toBe(`r${i - 8}`);
    }
    expect(table.size).toBe(9);
    table.clear();
    expect(table.size).toBe(0);
  });

  it('holds records added at once beyond one generation, and drops them all at their deadline', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    for (let i = 0; i < 70_000; i++) table.add(`k${i}`, `r${i}`);
    expect(table.size).toBe(70_000);
    expect([table.get('k0'), table.get('k40000'), table.get('k69999')]).toEqual(['r0', 'r40000', 'r69999']);
    clock.advance(999);
    table.add('late', 'rl');
    expect(table.get('k12345')).toBe('r12345');
    clock.advance(1);
    expect(table.get('k69999')).toBeUndefined();
    expect(table.size).toBe(1);
    // A key held once and expired is taken again, with a deadline of its own.
    table.add('k1', 'again');
    expect(table.get('k1')).toBe('again');
    clock.advance(999);
    expect(table.get('late')).toBeUndefined();
    expect(table.get('k1')).toBe('again');
  });

  it('finds the newer record of a key added twice in one generation, also after the generation grew', () => {
    const table = new CompletedTransactions(new FakeClock(), 1000);
    table.add('k5', 'first');
    for (let i = 0; i < 1000; i++) if (i !== 5) table.add(`k${i}`, `r${i}`);
    table.add('k5', 'second');
    for (let i = 1000; i < 3000; i++) table.add(`k${i}`, `r${i}`);
    expect([table.get('k5'), table.get('k4'), table.get('k2999')]).toEqual(['second', 'r4', 'r2999']);
    expect(table.size).toBe(3001);
  });

  it('gives back the record with our tag, kept as a number when it is one this stack makes', () => {
    const table = new CompletedTransactions(new FakeClock(), 1000);
    const tags = [
      'a1b2c3d4e5f6',
      '000000000000',
      'ffffffffffff',
      '0000000abc00',
      'A1B2C3D4E5F6',
      'a1b2c3d4e5f',
      'tag-1',
      '',
    ];
    tags.forEach((tag, i) => {
      table.add(`k${i}`, `text${i}\u0002`, tag);
    });
    table.add('untagged', 'whole');
    tags.forEach((tag, i) => {
      expect(table.get(`k${i}`)).toBe(`text${i}\u0002${tag}`);
    });
    expect(table.get('untagged')).toBe('whole');
  });

  it('keeps every byte of a response through its text', () => {
    const bytes = Buffer.from('SIP/2.0 200 OK\r\nTo: "Zoë" <sip:z@example.com>;tag=1\r\n\r\n', 'utf8');
    expect(responseBytes(responseText(bytes)).equals(bytes)).toBe(true);
  });
});

describe('packResponse / unpackResponse', () => {
  const request = (extra = ''): SipRequest =>
    parseMessage(
      Buffer.from(
        'SUBSCRIBE sip:p1@example.com SIP/2.0\r\n' +
          'Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK-77\r\n' +
          'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK-66\r\n' +
          'From: <sip:w1@example.com>;tag=abc\r\n' +
          'To: <sip:p1@example.com>\r\n' +
          'Call-ID: 42-call@192.0.2.10\r\n' +
          'CSeq: 7 SUBSCRIBE\r\n' +
          'Max-Forwards: 70\r\n' +
          extra +
          'Content-Length: 0\r\n\r\n',
      ),
    ) as SipRequest;
  const fields = (req: SipRequest) => copiedFields(req, req.headers.getAll('via')[0]);
  const response = (req: SipRequest, body = '', tag = 'ourtag'): Buffer => {
    const res = createResponse(req, 200);
    res.headers.set('To', `${req.headers.get('To')};tag=${tag}`);
    res.headers.append('Expires', '600');
    if (body !== '') res.body = Buffer.from(body, 'latin1');
    return serializeMessage(res);
  };

  it('leaves out what the response copied from the request, and a retransmission puts it back byte for byte', () => {
    const req = request();
    const data = response(req);
    const record = packResponse(data, fields(req));
    expect(record.length).toBeLessThan(data.length - 90);
    expect(record).not.toContain('42-call@192.0.2.10');
    expect(record).toContain('Expires: 600');
    expect(unpackResponse(record, fields(request()))?.equals(data)).toBe(true);
  });

  it('keeps a response whole that holds the mark byte or none of the values', () => {
    const req = request();
    const marked = response(req, 'a\u0001b');
    expect(packResponse(marked, fields(req))).toBe(responseText(marked));
    expect(unpackResponse(responseText(marked), fields(req))?.equals(marked)).toBe(true);
    const other = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
    expect(packResponse(Buffer.from(other, 'latin1'), fields(req))).toBe(other);
  });

  it('fills in the fields of the request in hand, and gives up when one is missing', () => {
    const record = packResponse(response(request()), fields(request()));
    const changed = request();
    changed.headers.set('Call-ID', 'other@192.0.2.10');
    expect(unpackResponse(record, fields(changed))?.toString('latin1')).toContain('Call-ID: other@192.0.2.10\r\n');
    changed.headers.delete('Call-ID');
    expect(unpackResponse(record, fields(changed))).toBeUndefined();
    expect(unpackResponse(record, copiedFields(request(), undefined))).toBeUndefined();
  });

  it('shares the text of responses that differ only in what they copied and in our tag, and keeps the tag alone', () => {
    const first = request();
    const text = serializeMessage(first).toString('latin1');
    const other = parseMessage(
      Buffer.from(text.replace('42-call', 'other').replace('w1@example.com>;tag=abc', 'w2@example.com>;tag=def')),
    ) as SipRequest;
    const a = response(first, '', 'tag-of-a');
    const b = response(other, '', 'tag-of-b');
    const recordA = packResponse(a, fields(first));
    const recordB = packResponse(b, fields(other));
    expect(recordA.endsWith('\u0002tag-of-a')).toBe(true);
    expect(recordB.endsWith('\u0002tag-of-b')).toBe(true);
    expect(recordA.slice(0, -'tag-of-a'.length)).toBe(recordB.slice(0, -'tag-of-b'.length));
    expect(unpackResponse(recordA, fields(request()))?.equals(a)).toBe(true);
    expect(unpackResponse(recordB, fields(other))?.equals(b)).toBe(true);
    // A tag followed by other parameters stays in the shared text's place, not split off.
    const params = response(first, '', 'x;p=1');
    const record = packResponse(params, fields(first));
    expect(record).not.toContain('\u0002');
    expect(unpackResponse(record, fields(first))?.equals(params)).toBe(true);
  });
});
