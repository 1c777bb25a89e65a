/**
 * Every message of RFC 4475 (SIP torture test messages), as the bytes of its Appendix A archive
 * (test/fixtures/rfc4475, README there): valid ones parse and every accessor the server reads works;
 * invalid ones fail where the server finds the fault, with the reason and status it answers with.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipParseError } from '../errors/sip-parse-error';
import { parseMessage } from './parser';
import { SipRequest, SipResponse, type SipMessage } from './sip-message';
import { unescapeUri } from './text';
import type { NameAddr } from './name-addr';

const DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'rfc4475');
const load = (name: string): Buffer => readFileSync(join(DIR, `${name}.dat`));

/** What parsing a file gives: a request, a response, or a SipParseError (reason, status, partial request?). */
type Parsed = 'request' | 'response' | { reason: string; status: 400 | 505; partial: boolean };

interface Expectation {
  readonly parsed: Parsed;
  /** Accessors that throw, as `accessor: reason`; every other accessor must work. */
  readonly faults?: readonly string[];
}

const BAD_URI = 'Bad Request-URI';

/** Per file (RFC 4475 section): what the parser makes of it. The server's answers are in the e2e test. */
const EXPECTED: Readonly<Record<string, Expectation>> = {
  // §3.1.1 valid messages
  wsinv: { parsed: 'request' },
  intmeth: { parsed: 'request' },
  esc01: { parsed: 'request' },
  escnull: { parsed: 'request' },
  esc02: { parsed: 'request' },
  lwsdisp: { parsed: 'request' },
  longreq: { parsed: 'request' },
  dblreq: { parsed: 'request' },
  semiuri: { parsed: 'request' },
  transports: { parsed: 'request' },
  mpart01: { parsed: 'request' },
  unreason: { parsed: 'response' },
  noreason: { parsed: 'response' },
  // §3.1.2 invalid messages
  badinv01: { parsed: 'request', faults: ['via: Bad Via header'] },
  clerr: { parsed: { reason: 'Body shorter than Content-Length', status: 400, partial: true } },
  ncl: { parsed: { reason: 'Bad Content-Length header', status: 400, partial: true } },
  scalar02: { parsed: { reason: 'Bad CSeq header', status: 400, partial: true } },
  scalarlg: { parsed: { reason: 'Bad CSeq header', status: 400, partial: false } },
  quotbal: { parsed: 'request', faults: ['to: Bad To header'] },
  ltgtruri: { parsed: 'request', faults: [`uri: ${BAD_URI}`] },
  lwsruri: { parsed: { reason: BAD_URI, status: 400, partial: true } },
  lwsstart: { parsed: { reason: BAD_URI, status: 400, partial: true } },
  trws: { parsed: { reason: 'Bad Request-Line (trailing whitespace)', status: 400, partial: true } },
  escruri: { parsed: 'request', faults: [`uri: ${BAD_URI} (headers not allowed)`] },
  // §3.1.2.12: a Date the server never reads is not checked (the RFC: reject only if the Date matters).
  baddate: { parsed: 'request' },
  regbadct: { parsed: 'request', faults: ['contacts: Bad Contact header'] },
  badaspec: { parsed: 'request', faults: ['to: Bad To header'] },
  baddn: { parsed: 'request', faults: ['from: Bad From header', 'to: Bad To header'] },
  badvers: { parsed: { reason: 'Version Not Supported', status: 505, partial: true } },
  mismatch01: { parsed: { reason: 'CSeq method does not match', status: 400, partial: true } },
  mismatch02: { parsed: { reason: 'CSeq method does not match', status: 400, partial: true } },
  bigcode: { parsed: { reason: 'Bad status code', status: 400, partial: false } },
  // §3.2 transaction layer: valid syntax, a branch without an identifier (the stack matches it RFC 2543-style)
  badbranch: { parsed: 'request' },
  // §3.3 application layer
  insuf: { parsed: { reason: 'Missing From header', status: 400, partial: true } },
  unkscm: { parsed: 'request' },
  novelsc: { parsed: 'request' },
  unksm2: { parsed: 'request' },
  bext01: { parsed: 'request' },
  invut: { parsed: 'request' },
  regaut01: { parsed: 'request' },
  multi01: { parsed: { reason: 'Duplicate Call-ID header', status: 400, partial: true } },
  mcl01: { parsed: { reason: 'Duplicate Content-Length header', status: 400, partial: true } },
  bcast: { parsed: 'response' },
  zeromf: { parsed: 'request' },
  cparam01: { parsed: 'request' },
  cparam02: { parsed: 'request' },
  regescrt: { parsed: 'request' },
  sdp01: { parsed: 'request' },
  // §3.4 backward compatibility
  inv2543: { parsed: 'request' },
  // In the archive but in no section: no SIP-Version on the start line, so not a SIP message.
  test: { parsed: { reason: 'Bad start line', status: 400, partial: false } },
};

/** Reads every accessor the stack, the bridge and the registrar use; returns those that throw. */
function faultsOf(m: SipMessage): string[] {
  const faults: string[] = [];
  const read = (name: string, get: () => unknown): void => {
    try {
      get();
    } catch (e) {
      faults.push(`${name}: ${e instanceof SipParseError ? e.reason : String(e)}`);
    }
  };
  read('callId', () => m.callId);
  read('cseq', () => m.cseq);
  read('from', () => m.from);
  read('to', () => m.to);
  read('via', () => m.via);
  read('maxForwards', () => m.maxForwards);
  read('expires', () => m.expires);
  read('contentType', () => m.contentType);
  read('event', () => m.event);
  read('contacts', () => m.contacts());
  if (m instanceof SipRequest) read('uri', () => m.uri);
  return faults;
}

function parse(name: string): SipRequest | SipResponse | SipParseError {
  try {
    return parseMessage(load(name));
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
}

function request(name: string): SipRequest {
  const m = parse(name);
  if (!(m instanceof SipRequest)) throw new Error(`${name} is not a request`);
  return m;
}

function response(name: string): SipResponse {
  const m = parse(name);
  if (!(m instanceof SipResponse)) throw new Error(`${name} is not a response`);
  return m;
}

function contactsOf(m: SipMessage): NameAddr[] {
  const c = m.contacts();
  if (c === '*') throw new Error('wildcard');
  return c;
}

describe('RFC 4475 torture messages (parser)', () => {
  it('has an expectation for every file of the archive', () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith('.dat'))
      .map((f) => f.slice(0, -4))
      .sort();
    expect(files).toHaveLength(50);
    expect(Object.keys(EXPECTED).sort()).toEqual(files);
  });

  it.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    const m = parse(name);
    const { parsed } = expected;
    if (parsed === 'request' || parsed === 'response') {
      if (m instanceof SipParseError) throw new Error(`${name}: ${m.reason}`);
      expect(m).toBeInstanceOf(parsed === 'request' ? SipRequest : SipResponse);
      expect(faultsOf(m)).toEqual(expected.faults ?? []);
    } else {
      expect(m).toBeInstanceOf(SipParseError);
      const e = m as SipParseError;
      expect({ reason: e.reason, status: e.status, partial: e.partial !== undefined }).toEqual(parsed);
      // A 400/505 needs what a response copies (RFC 3261 §8.2.6): the top Via at least.
      if (e.partial !== undefined) expect(e.partial.headers.has('via')).toBe(true);
    }
  });

  describe('§3.1.1 valid messages: key fields', () => {
    it('wsinv: LWS, folding, case and compact forms everywhere', () => {
      const m = request('wsinv');
      expect(m.method).toBe('INVITE');
      expect(m.uri.params.get('unknownparam')).toBeNull();
      expect(m.to.tag).toBe('1918181833n');
      expect(m.to.uri.toString()).toBe('sip:vivekg@chair-dnrc.example.com');
      expect(m.from.tag).toBe('98asjd8');
      expect(m.from.displayName).toBe('J Rosenberg \\"');
      expect(m.maxForwards).toBe(68);
      expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
      expect(m.via.map((v) => [v.protocol, v.host, v.branch])).toEqual([
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      expect(m.headers.get('subject')).toBe('');
      expect(m.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
      expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
      expect(m.route).toEqual(['<sip:services.example.com;lr;unknownwith=value;unknown-no-value>']);
      const [c] = contactsOf(m);
      expect(c.displayName).toBe('Quoted string ""');
      expect([...c.params]).toEqual([
        ['newparam', 'newvalue'],
        ['secondparam', null],
        ['q', '0.33'],
      ]);
      expect(m.contentType).toBe('application/sdp');
      expect(m.body.length).toBe(150);
    });

    it('intmeth: every token character in method, branch, tags; a NUL and UTF-8 in quoted strings', () => {
      const m = request('intmeth');
      const method = "!interesting-Method0123456789_*+`.%indeed'~";
      expect(m.method).toBe(method);
      expect(m.cseq).toEqual({ seq: 139122385, method });
      expect(m.uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      expect(m.uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
      expect(m.uri.host).toBe('example.com');
      expect(m.via[0].branch).toBe("z9hG4bK-.!%66*_+`'~");
      expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
      expect(m.to.uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      expect(m.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
      expect(m.from.params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
      expect(m.from.tag).toBe("_token~1'+`*%!-.");
      expect(m.callId).toBe('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
      expect(m.maxForwards).toBe(255);
      expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
    });

    it('esc01: escapes in user parts and Contact URI parameters are equivalent to their characters', () => {
      const m = request('esc01');
      expect(m.uri.user).toBe('sips%3Auser%40example.com');
      expect(unescapeUri(m.uri.user ?? '')).toBe('sips:user@example.com');
      expect(m.uri.host).toBe('example.net');
      expect(m.to.uri.aor()).toBe('sip:user@example.com');
      expect(m.from.uri.aor()).toBe('sip:I%20have%20spaces@example.net');
      const [c] = contactsOf(m);
      expect(c.uri.aor()).toBe('sip:caller@host5.example.net');
      // ;%6C%72 is ;lr; the value of "name" is value%41, kept escaped so it is never unescaped twice.
      expect([...c.uri.params]).toEqual([
        ['lr', null],
        ['name', 'v%61lue%25%34%31'],
      ]);
      expect(unescapeUri(c.uri.params.get('name') ?? '')).toBe('value%41');
      expect(m.contentType).toBe('application/sdp');
    });

    it('escnull: %00 in user parts keeps the whole name, and two contacts stay distinct', () => {
      const m = request('escnull');
      expect(m.to.uri.aor()).toBe('sip:null-%00-null@example.com');
      expect(unescapeUri(m.to.uri.user ?? '')).toBe('null-\0-null');
      expect(m.from.uri.aor()).toBe(m.to.uri.aor());
      expect(contactsOf(m).map((c) => c.uri.aor())).toEqual([
        'sip:%00@host5.example.com',
        'sip:%00%00@host5.example.com',
      ]);
    });

    it('esc02: % that is not an escape: method, display names, branch, header name', () => {
      const m = request('esc02');
      expect(m.method).toBe('RE%47IST%45R');
      expect(m.cseq.method).toBe('RE%47IST%45R');
      expect(m.to.displayName).toBe('%Z%45');
      expect(m.from.displayName).toBe('%Z%45');
      expect(m.via[0].branch).toBe('z9hG4bK209%fzsnel234');
      expect(contactsOf(m).map((c) => c.uri.host)).toEqual(['host1.example.com', 'host3.example.com']);
      expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    });

    it('lwsdisp: no LWS between the display name and <', () => {
      const m = request('lwsdisp');
      expect(m.from.displayName).toBe('caller');
      expect(m.from.uri.toString()).toBe('sip:caller@example.com');
      expect(m.from.tag).toBe('323');
    });

    it('longreq: long display name, parameters, tag, Call-ID, 34 Via values', () => {
      const m = request('longreq');
      expect(m.to.displayName).toBe(`I have a user name of ${'extreme'.repeat(10)} proportion`);
      expect(m.to.uri.port).toBe(6000);
      expect(m.to.uri.params.get('unknownparam1')).toBe(`very${'long'.repeat(20)}value`);
      expect(m.to.uri.params.get(`longparam${'name'.repeat(25)}`)).toBe('shortvalue');
      expect(m.to.uri.params.get(`very${'long'.repeat(25)}parameternamewithnovalue`)).toBeNull();
      expect(m.from.uri.user).toBe('amazinglylongcallername'.repeat(5));
      expect(m.from.tag).toBe(`12${'982'.repeat(50)}424`);
      expect(m.from.params.get(`unknownvalueless${'paramname'.repeat(10)}`)).toBeNull();
      expect(m.callId).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
      expect(m.via).toHaveLength(34);
      expect(m.via[0].host).toBe('sip33.example.com');
      expect(m.via[33].received).toBe('192.0.2.5');
      expect(m.via[33].branch).toBe(`very${'long'.repeat(50)}branchvalue`);
      expect(contactsOf(m)[0].uri.host).toBe('host5.example.net');
      expect(m.body.length).toBe(150);
    });

    it('dblreq: the octets after Content-Length are not part of the message', () => {
      const m = request('dblreq');
      expect(m.method).toBe('REGISTER');
      expect(m.body.length).toBe(0);
      expect(contactsOf(m).map((c) => c.uri.toString())).toEqual(['sip:j.user@host.example.com']);
    });

    it('semiuri: ; in the user part of the Request-URI', () => {
      const m = request('semiuri');
      expect(m.uri.user).toBe('user;par=u%40example.net');
      expect(unescapeUri(m.uri.user ?? '')).toBe('user;par=u@example.net');
      expect(m.uri.host).toBe('example.com');
      expect(m.uri.params.size).toBe(0);
      expect(m.headers.getAll('accept')).toHaveLength(6);
    });

    it('transports: known and unknown Via transports', () => {
      expect(request('transports').via.map((v) => v.protocol)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    });

    it('mpart01: a binary multipart body with NULs is framed by Content-Length', () => {
      const data = load('mpart01');
      const m = request('mpart01');
      expect(m.contentType).toBe('multipart/mixed');
      expect(m.body.length).toBe(553);
      expect(m.body.equals(data.subarray(data.length - 553))).toBe(true);
      expect(m.body.includes(0)).toBe(true);
      expect(m.via[0].rport).toBeNull();
    });

    it('unreason: a UTF-8 reason phrase', () => {
      const r = response('unreason');
      expect(r.status).toBe(200);
      expect(r.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
      expect(r.body.length).toBe(154);
    });

    it('noreason: an empty reason phrase', () => {
      const r = response('noreason');
      expect(r.status).toBe(100);
      expect(r.reason).toBe('');
    });
  });

  describe('§3.2–§3.4: fields the application reads', () => {
    it('badbranch: the magic cookie alone is parsed as the branch', () => {
      expect(request('badbranch').via[0].branch).toBe('z9hG4bK');
    });

    it('unkscm, novelsc: Request-URIs of other schemes parse opaque (the bridge answers 416)', () => {
      const a = request('unkscm').uri;
      expect([a.scheme, a.opaque, a.isSip]).toEqual(['nobodyknowsthisscheme', 'totallyopaquecontent', false]);
      const b = request('novelsc').uri;
      expect([b.scheme, b.opaque, b.isSip]).toEqual(['soap.beep', '//192.0.2.103:3002', false]);
    });

    it('unksm2: other schemes in To, From and Contact', () => {
      const m = request('unksm2');
      expect(m.to.uri.toString()).toBe('isbn:2983792873');
      expect(m.from.uri.toString()).toBe('http://www.example.com');
      expect(m.from.tag).toBe('3234233');
      expect(contactsOf(m).map((c) => c.uri.toString())).toEqual(['name:John_Smith']);
    });

    it('bext01: Require and Proxy-Require lists', () => {
      const m = request('bext01');
      expect(m.headers.getAll('require')).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
      expect(m.headers.getAll('proxy-require')).toEqual(['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
    });

    it('invut, regaut01, sdp01: unknown Content-Type, Authorization scheme and Accept are kept', () => {
      expect(request('invut').contentType).toBe('application/unknownformat');
      expect(request('regaut01').headers.get('authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
      expect(request('sdp01').headers.getAll('accept')).toEqual(['text/nobodyKnowsThis']);
    });

    it('bcast, zeromf: broadcast sent-by, Max-Forwards 0', () => {
      expect(response('bcast').via[1].host).toBe('255.255.255.255');
      expect(request('zeromf').maxForwards).toBe(0);
    });

    it('cparam01: after an addr-spec, ;unknownparam is a contact parameter', () => {
      const [c] = contactsOf(request('cparam01'));
      expect(c.uri.toString()).toBe('sip:+19725552222@gw1.example.net');
      expect([...c.params]).toEqual([['unknownparam', null]]);
    });

    it('cparam02: inside <>, ;unknownparam is a URI parameter', () => {
      const [c] = contactsOf(request('cparam02'));
      expect(c.uri.toString()).toBe('sip:+19725552222@gw1.example.net;unknownparam');
      expect(c.params.size).toBe(0);
    });

    it('regescrt: an escaped header in a Contact URI survives parsing and output', () => {
      const [c] = contactsOf(request('regescrt'));
      expect([...c.uri.headers]).toEqual([['Route', '%3Csip:sip.example.com%3E']]);
      expect(c.uri.toString()).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E');
    });

    it('inv2543: no branch, no From tag, no Max-Forwards, no Content-Length', () => {
      const m = request('inv2543');
      expect(m.via[0].branch).toBeUndefined();
      expect(m.from.tag).toBeUndefined();
      expect(m.maxForwards).toBeUndefined();
      expect(m.to.params.get('user')).toBe('phone');
      expect(m.body.toString()).toMatch(/^v=0\r\n[^]*m=audio 49217 RTP\/AVP 0\r\n$/);
    });
  });
});
