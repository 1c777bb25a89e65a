import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipParseError } from '../errors/sip-parse-error';
import { parseMessage } from './parser';
import { serializeMessage } from './serializer';
import { SipRequest, SipResponse } from './sip-message';

const fixture = (name: string): Buffer => readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', name));
const req = (name: string): SipRequest => {
  const m = parseMessage(fixture(name));
  if (!(m instanceof SipRequest)) throw new Error('not a request');
  return m;
};
const parseError = (data: Buffer): SipParseError => {
  try {
    parseMessage(data);
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  throw new Error('parsed');
};

describe('parseMessage (RFC 3261 §7, §25)', () => {
  it('parses a typical SUBSCRIBE and its lazy accessors', () => {
    const m = req('subscribe-typical.sip');
    expect(m.method).toBe('SUBSCRIBE');
    expect(m.uri.toString()).toBe('sip:bob@presence.example.com');
    expect(m.callId).toBe('3848276298220188511@192.0.2.10');
    expect(m.cseq).toEqual({ seq: 1, method: 'SUBSCRIBE' });
    expect(m.from.tag).toBe('9fxced76sl');
    expect(m.from.displayName).toBe('Alice');
    expect(m.to.tag).toBeUndefined();
    expect(m.to.uri.aor()).toBe('sip:bob@presence.example.com');
    expect(m.via).toHaveLength(1);
    expect(m.via[0].branch).toBe('z9hG4bK74bf9a1c2e');
    expect(m.via[0].rport).toBeNull();
    expect(m.via[0].port).toBe(5060);
    expect(m.event).toEqual({ package: 'presence', id: undefined, params: new Map() });
    expect(m.expires).toBe(3600);
    expect(m.maxForwards).toBe(70);
    expect(m.headers.getAll('accept')).toEqual(['application/pidf+xml', 'application/rlmi+xml', 'multipart/related']);
    expect(m.headers.getAll('Allow')).toHaveLength(10);
    expect(m.headers.get('user-agent')).toBe('Acme SoftPhone 4.2.1');
    const contacts = m.contacts();
    expect(contacts !== '*' && contacts[0].uri.params.get('transport')).toBe('udp');
    expect(m.body.length).toBe(0);
  });

  it('maps compact forms to long names and keeps multiple Via in order', () => {
    const m = req('parser-compact-forms.sip');
    expect(m.via.map((v) => v.branch)).toEqual(['z9hG4bKcompact1', 'z9hG4bKcompact0']);
    expect(m.via[0].protocol).toBe('TCP');
    expect(m.via[1].received).toBe('10.0.0.1');
    expect(m.callId).toBe('compact-1@example.com');
    expect(m.event?.id).toBe('x1');
    expect(m.headers.getAll('Allow-Events')).toEqual(['presence', 'dialog']);
    expect(m.headers.get('Supported')).toBe('eventlist');
    expect(m.contentType).toBe('text/plain');
    expect(m.body.toString()).toBe('hello');
    const names = [...m.headers].map(([n]) => n);
    expect(names).toContain('Via');
    expect(names).toContain('Call-ID');
    expect(names).not.toContain('i');
  });

  it('unfolds continuation lines and tolerates whitespace around colons', () => {
    const m = req('parser-folded.sip');
    expect(m.via[0].branch).toBe('z9hG4bKfold1');
    expect(m.maxForwards).toBe(70);
    expect(m.to.uri.user).toBe('bob');
    expect(m.from.displayName).toBe('Alice Smith');
    expect(m.cseq).toEqual({ seq: 2, method: 'SUBSCRIBE' });
    expect(m.headers.get('subject')).toBe('one, two');
  });

  it('keeps escaped characters in URIs and compares AoRs canonically', () => {
    const m = req('parser-escaped-uri.sip');
    expect(m.uri.user).toBe('%61lice%20smith');
    expect(m.uri.aor()).toBe('sip:alice%20smith@example.com');
    expect(m.to.uri.aor()).toBe(m.uri.aor());
    expect(m.from.uri.headers.get('Subject')).toBe('hi%20there');
    const c = m.contacts();
    expect(c !== '*' && c[0].uri.user).toBe('bob;phone=1');
  });

  it('parses IPv6 references in the Request-URI, Via and Contact', () => {
    const m = req('parser-ipv6.sip');
    expect(m.uri.host).toBe('[2001:db8::10]');
    expect(m.uri.port).toBe(5070);
    expect(m.via[0].host).toBe('[2001:db8::9:1]');
    expect(m.via[0].port).toBe(5080);
    const c = m.contacts();
    expect(c !== '*' && c[0].uri.port).toBe(5080);
  });

  it('keeps unknown methods and headers', () => {
    const m = req('parser-unknown-method.sip');
    expect(m.method).toBe('NEWMETHOD');
    expect(m.headers.get('x-custom-header')).toBe('keep me ; even=this');
    expect(m.contentType).toBe('application/x-unknown');
    expect(m.body.toString()).toBe('abcd');
  });

  it('cuts a datagram at Content-Length', () => {
    const m = req('parser-over-long-body.sip');
    expect(m.body.toString()).toBe('12345');
  });

  it('counts Content-Length in bytes, not characters', () => {
    const m = req('parser-utf8-body.sip');
    expect(m.body.toString('utf8')).toBe('héllo');
    expect(m.from.displayName).toBe('Zoë');
    expect(serializeMessage(m).toString()).toContain('Content-Length: 6\r\n');
  });

  it('accepts bare LF line ends', () => {
    const m = req('parser-bare-lf.sip');
    expect(m.method).toBe('NOTIFY');
    expect(m.headers.get('subscription-state')).toBe('active;expires=60');
    expect(m.body.toString()).toBe('ok');
  });

  it('parses responses', () => {
    const m = parseMessage(fixture('parser-response-200.sip'));
    expect(m).toBeInstanceOf(SipResponse);
    const r = m as SipResponse;
    expect(r.status).toBe(200);
    expect(r.reason).toBe('OK');
    expect(r.recordRoute).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(r.to.tag).toBe('srv1');
    const noReason = parseMessage(fixture('parser-response-no-reason.sip')) as SipResponse;
    expect(noReason.status).toBe(100);
    expect(noReason.reason).toBe('');
  });

  it('ignores CRLFs before the start line (§7.5)', () => {
    const m = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), fixture('subscribe-typical.sip')]));
    expect((m as SipRequest).method).toBe('SUBSCRIBE');
  });

  it('takes the body to the end of a datagram without Content-Length', () => {
    const text = fixture('parser-over-long-body.sip').toString().replace('Content-Length: 5\r\n', '');
    expect(parseMessage(Buffer.from(text)).body.toString()).toBe('12345EXTRA BYTES AFTER THE BODY');
  });

  it('Contact: * in a REGISTER', () => {
    expect(req('torture-register-star.sip').contacts()).toBe('*');
  });

  // The RFC 4475 messages themselves are in rfc4475.spec.ts.
  describe('RFC 4475 rules on other messages', () => {
    const typical = fixture('subscribe-typical.sip').toString();
    const edit = (from: string, to: string): Buffer => Buffer.from(typical.replace(from, to));

    it('an unquoted display name is tokens and LWS (UTF-8 let through); separators need quotes', () => {
      expect(parseMessage(edit('From: "Alice"', 'From: Alice  Liddell')).from.displayName).toBe('Alice  Liddell');
      expect(parseMessage(edit('From: "Alice"', 'From: Jörg Müller')).from.displayName).toBe('Jörg Müller');
      for (const bad of ['Liddell, Alice', 'Alice;x', 'A@b', 'Al"ice']) {
        expect(() => parseMessage(edit('From: "Alice"', `From: ${bad}`)).from).toThrow('Bad From header');
      }
    });

    it('quoted Contact parameter values may hold ; , < > and escaped quotes', () => {
      const contact =
        'Contact: <sip:alice@192.0.2.10;transport=udp>;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0>";' +
        'methods="INVITE, MESSAGE";note="a;b,\\"c\\">";expires=60, <sip:alice@192.0.2.11>';
      const m = parseMessage(Buffer.from(typical.replace(/^Contact: .*$/m, contact)));
      const c = m.contacts();
      if (c === '*') throw new Error('wildcard');
      expect(c).toHaveLength(2);
      expect([...c[0].params]).toEqual([
        ['+sip.instance', '"<urn:uuid:f81d4fae-7dec-11d0>"'],
        ['methods', '"INVITE, MESSAGE"'],
        ['note', '"a;b,\\"c\\">"'],
        ['expires', '60'],
      ]);
      expect(c[1].uri.host).toBe('192.0.2.11');
    });

    it.each(['Call-ID: x@y', 'CSeq: 2 SUBSCRIBE', 'From: <sip:a@b>;tag=1', 'To: <sip:a@b>', 'Max-Forwards: 9'])(
      'a second %s → 400 naming the header',
      (line) => {
        const e = parseError(edit('Event: presence', `Event: presence\r\n${line}`));
        expect(e.reason).toBe(`Duplicate ${line.slice(0, line.indexOf(':'))} header`);
        expect(e.partial).toBeInstanceOf(SipRequest);
      },
    );

    it('SP or HT after SIP/2.0 → 400 with a partial request, not a drop', () => {
      for (const tail of [' ', '\t', '  ']) {
        const e = parseError(edit(' SIP/2.0\r\n', ` SIP/2.0${tail}\r\n`));
        expect(e.reason).toBe('Bad Request-Line (trailing whitespace)');
        expect(e.partial).toBeInstanceOf(SipRequest);
      }
    });

    it('URI headers in the Request-URI are refused; in a Contact they are kept', () => {
      const m = parseMessage(
        edit('SUBSCRIBE sip:bob@presence.example.com', 'SUBSCRIBE sip:bob@presence.example.com?a=b'),
      );
      expect(() => (m as SipRequest).uri).toThrow('Bad Request-URI (headers not allowed)');
    });
  });

  describe('invalid messages', () => {
    it.each([
      ['parser-missing-call-id.sip', 'Missing Call-ID'],
      ['parser-bad-cseq.sip', 'Bad CSeq header'],
      ['parser-truncated-body.sip', 'Body shorter than Content-Length'],
    ])('%s → %s with a partial request', (name, reason) => {
      const e = parseError(fixture(name));
      expect(e.reason).toBe(reason);
      expect(e.partial).toBeInstanceOf(SipRequest);
      expect(e.partial?.headers.has('via')).toBe(true);
    });

    it('garbage has no partial message', () => {
      const e = parseError(fixture('parser-no-start-line.sip'));
      expect(e.partial).toBeUndefined();
    });

    it('a response with a bad status code', () => {
      expect(parseError(Buffer.from('SIP/2.0 2000 OK\r\n\r\n')).reason).toBe('Bad status code');
    });

    it('malformed header values throw on access, naming the header', () => {
      const text = fixture('subscribe-typical.sip')
        .toString()
        .replace('Expires: 3600', 'Expires: soon')
        .replace('Max-Forwards: 70', 'Max-Forwards: 300')
        .replace('Event: presence', 'Event: ;id=1');
      const m = parseMessage(Buffer.from(text));
      expect(() => m.expires).toThrow('Bad Expires header');
      expect(() => m.maxForwards).toThrow('Bad Max-Forwards header');
      expect(() => m.event).toThrow('Bad Event header');
    });
  });

  it('serializes what it parsed (round trip)', () => {
    for (const name of [
      'subscribe-typical.sip',
      'parser-compact-forms.sip',
      'rfc4475/wsinv.dat',
      'parser-response-200.sip',
    ]) {
      const a = parseMessage(fixture(name));
      const b = parseMessage(serializeMessage(a));
      const noLength = (m: typeof a): [string, string][] =>
        [...m.headers].filter(([n]) => !/^(content-length|l)$/i.test(n));
      expect(noLength(b)).toEqual(noLength(a));
      expect(b.body.equals(a.body)).toBe(true);
      expect(b.callId).toBe(a.callId);
    }
  });

  it('invalidates cached accessors when headers change', () => {
    const m = req('subscribe-typical.sip');
    expect(m.expires).toBe(3600);
    expect(m.callId).toBe('3848276298220188511@192.0.2.10');
    m.headers.set('Call-ID', 'other');
    m.headers.set('Expires', '0');
    expect(m.callId).toBe('other');
    expect(m.expires).toBe(0);
  });
});
