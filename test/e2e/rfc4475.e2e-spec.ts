/**
 * The RFC 4475 torture messages, as the bytes of the RFC's own archive (test/fixtures/rfc4475), sent to the
 * running app: each as one UDP datagram, and all of them on one TCP stream. Valid messages get a proper
 * answer (never 400), invalid ones a 400/505 or nothing, responses are dropped, and the server answers
 * OPTIONS afterwards (DESIGN.md "Robustness").
 *
 * Every message fits in a datagram (the largest, longreq, is 3,515 bytes; SIP_MAX_MESSAGE_SIZE is 65,535).
 *
 * The RFC reuses branch `z9hG4bKkdjuw` and sent-by between some messages; to RFC 3261 §17.2.3 matching
 * cparam02, regescrt and unkscm are then retransmissions of cparam01, escnull and novelsc while those
 * transactions live, and get their answer. They go in a second round, after Timer J (64·T1, with T1
 * shortened here) on UDP and after the first round's answers on TCP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { FIXTURES_DIR, SipTestClient, uriOf, type SipTestMessage } from '../utils/sip-test-client';
import { api, registrationPath } from '../utils/e2e-helpers';

/** A status with the start of its reason phrase, or no answer at all. */
type Answer = { readonly status: number; readonly reason?: string } | 'none';

interface Row {
  /** The answer to the message alone in a datagram; the same on a stream unless STREAM_ENDS says otherwise. */
  readonly udp: Answer;
  /** Why this answer; the RFC's own expectation in quotes where the server differs from its wording. */
  readonly note: string;
}

const ok = (status: number, reason?: string): Answer => ({ status, reason });

/** File → expected answer. Responses (unreason, noreason, scalarlg, bigcode, bcast) match no transaction. */
const TABLE: Readonly<Record<string, Row>> = {
  // §3.1.1 valid messages
  wsinv: { udp: ok(405), note: 'INVITE: valid, not a method of a presence server' },
  intmeth: { udp: ok(501), note: 'unknown method: "endpoints will generate a 501"' },
  esc01: { udp: ok(405), note: 'INVITE' },
  escnull: { udp: ok(200), note: 'REGISTER of two contacts whose users are %00 and %00%00' },
  esc02: { udp: ok(501), note: 'RE%47IST%45R is an unknown method, not REGISTER: "reject with a 501"' },
  lwsdisp: { udp: ok(200), note: 'OPTIONS' },
  longreq: { udp: ok(405), note: 'INVITE' },
  dblreq: {
    udp: ok(200),
    note: 'REGISTER; the INVITE after Content-Length is noise in a datagram, a second message on a stream',
  },
  semiuri: { udp: ok(200), note: 'OPTIONS to user;par=u%40example.net' },
  transports: { udp: ok(200), note: 'OPTIONS' },
  mpart01: { udp: ok(405), note: 'MESSAGE' },
  unreason: { udp: 'none', note: 'a response: matches no client transaction, dropped' },
  noreason: { udp: 'none', note: 'a response, dropped' },
  // §3.1.2 invalid messages
  badinv01: { udp: ok(400, 'Bad Via header'), note: '' },
  clerr: { udp: ok(400, 'Body shorter than Content-Length'), note: 'on a stream: waits for the body' },
  ncl: { udp: ok(400, 'Bad Content-Length header'), note: 'on a stream: cannot be framed, connection closed' },
  scalar02: { udp: ok(400, 'Bad CSeq header'), note: '' },
  scalarlg: { udp: 'none', note: 'a response with a bad CSeq: "simply discard it"' },
  quotbal: { udp: ok(400, 'Bad To header'), note: '' },
  ltgtruri: { udp: ok(400, 'Bad Request-URI'), note: '' },
  lwsruri: { udp: ok(400, 'Bad Request-URI'), note: '' },
  lwsstart: { udp: ok(400, 'Bad Request-URI'), note: '"acceptable to reject this request as malformed"' },
  trws: { udp: ok(400, 'Bad Request-Line'), note: '"acceptable to reject this request as malformed"' },
  escruri: { udp: ok(400, 'Bad Request-URI'), note: '"acceptable ... to reject this request with a 400"' },
  baddate: {
    udp: ok(405),
    note: 'the only fault is in a Date the server never reads: "shouldn\'t [reject] unless the contents of the Date header field were actually important"; INVITE is refused anyway',
  },
  regbadct: { udp: ok(400, 'Bad Contact header'), note: '' },
  badaspec: { udp: ok(400, 'Bad To header'), note: '' },
  baddn: { udp: ok(400, 'Bad From header'), note: 'on a stream: its header section never ends (see README)' },
  badvers: { udp: ok(505), note: '' },
  mismatch01: { udp: ok(400, 'CSeq method does not match'), note: '' },
  mismatch02: {
    udp: ok(400, 'CSeq method does not match'),
    note: '"a 400 Bad Request is also acceptable" (501 preferred): the parser refuses the mismatch first',
  },
  bigcode: { udp: 'none', note: 'a response with code 4294967301: "simply drop it"' },
  // §3.2
  badbranch: { udp: ok(200), note: 'OPTIONS; branch=z9hG4bK alone is matched RFC 2543-style' },
  // §3.3
  insuf: { udp: ok(400, 'Missing From header'), note: 'no Call-ID, From, To: answered by its branch' },
  unkscm: { udp: ok(416), note: '' },
  novelsc: { udp: ok(416), note: 'soap.beep: never meaningful here' },
  unksm2: {
    udp: ok(404),
    note: 'REGISTER whose To is isbn:: RFC 3261 §10.3 step 3, an AoR not valid for the domain (RFC 4475: "reject with 400")',
  },
  bext01: { udp: ok(420), note: 'Unsupported lists the Require tags (Proxy-Require is for proxies)' },
  invut: { udp: ok(405), note: 'INVITE: refused before its body type matters' },
  regaut01: { udp: ok(200), note: 'REGISTER; no authentication configured: Authorization ignored' },
  multi01: { udp: ok(400, 'Duplicate Call-ID header'), note: '' },
  mcl01: { udp: ok(400, 'Duplicate Content-Length header'), note: 'on a stream: its first Content-Length frames it' },
  bcast: { udp: 'none', note: 'a response, dropped' },
  zeromf: { udp: ok(200), note: 'Max-Forwards 0 at an endpoint: OPTIONS answered' },
  cparam01: { udp: ok(200), note: 'REGISTER; ;unknownparam is a contact parameter' },
  cparam02: { udp: ok(200), note: 'REGISTER; ;unknownparam is a URI parameter' },
  regescrt: { udp: ok(200), note: 'REGISTER of a Contact URI with an escaped Route header' },
  sdp01: { udp: ok(405), note: 'INVITE' },
  // §3.4
  inv2543: { udp: ok(405), note: 'INVITE without branch, From tag, Max-Forwards or Content-Length' },
  test: { udp: 'none', note: 'in the archive but no SIP message: no SIP-Version, dropped' },
};

/** Sent after the first round: they share branch and sent-by with an earlier message (see the top). */
const SECOND_ROUND = ['cparam02', 'regescrt', 'unkscm'];

/** What a connection does after a message that leaves the stream unreadable (each has its own). */
interface StreamEnd {
  /** Answers before that, as [Call-ID, status]. */
  readonly answers: readonly (readonly [string, number])[];
  readonly then: 'waits' | 'closes';
  /**
   * Write the first message (its Content-Length is 0) and wait for its answer before the rest. The TCP
   * transport ends a connection as soon as framing fails, so an answer still pending then (a REGISTER waits
   * for its commit) is not sent: a transport limit, not what this test is about.
   */
  readonly answerFirst?: boolean;
}

const DBLREQ_INVITE = 'dblreq.0ha0isnda977644900765@192.0.2.15';

/**
 * Messages after which a stream cannot be read on (RFC 3261 §18.3: Content-Length frames a stream). ncl ends
 * the shared stream; the others get a connection each.
 */
const STREAM_ENDS: Readonly<Record<string, StreamEnd>> = {
  // 9,999 body bytes announced: the framer waits for them ("wait for more data on the stream").
  clerr: { answers: [], then: 'waits' },
  // No empty line in the archive's bytes: the header section is not over.
  baddn: { answers: [], then: 'waits' },
  // No Content-Length, mandatory on a stream: cannot be framed.
  inv2543: { answers: [], then: 'closes' },
  // Content-Length: -999 ("the framing error is not recoverable, and the connection should be closed").
  ncl: { answers: [], then: 'closes' },
  // Framed by its first Content-Length and refused; the rest of its body then reads as a header section
  // without Content-Length.
  mcl01: { answers: [['mcl01.fhn2323orihawfdoa3o4r52o3irsdf', 400]], then: 'closes' },
  // On a stream the octets after the REGISTER are the next message, an INVITE; its body is 7 octets longer
  // than its Content-Length, and those 7 octets end the stream.
  dblreq: {
    answers: [
      ['dblreq.0ha0isndaksdj99sdfafnl3lk233412', 200],
      [DBLREQ_INVITE, 405],
    ],
    then: 'closes',
    answerFirst: true,
  },
};

const T1 = 25;
const SETTLE_MS = 400;
const DOMAINS = 'example.com,example.net,example.org,chair-dnrc.example.com,registrar.example.com';

const load = (name: string): Buffer => readFileSync(join(FIXTURES_DIR, 'rfc4475', `${name}.dat`));

/** How a message's answer is recognised: its Call-ID, or its top Via branch when it has none (insuf). */
function keyOf(name: string): string {
  const head = load(name).toString('latin1');
  const callId = /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(head)?.[1];
  if (callId !== undefined) return callId;
  const branch = /;branch=([^;,\s]+)/.exec(head)?.[1];
  if (branch === undefined) throw new Error(`${name}: neither Call-ID nor branch`);
  return branch;
}

const answersTo =
  (key: string) =>
  (m: SipTestMessage): boolean =>
    m.kind === 'response' && (m.callId === key || m.branch === key);

function expectAnswer(name: string, res: SipTestMessage, expected: { status: number; reason?: string }): void {
  expect({ name, status: res.status }).toEqual({ name, status: expected.status });
  if (expected.reason !== undefined)
    expect(res.reason).toMatch(new RegExp(`^${expected.reason.replace(/[()]/g, '\\$&')}`));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(databaseKinds())('RFC 4475 torture messages on %s', (kind) => {
  const names = Object.keys(TABLE);

  /** One app and database per transport: registrations of one pass must not meet the other's. */
  function fresh(): { app: () => RunningApp; open: (transport: 'udp' | 'tcp') => Promise<SipTestClient> } {
    let db: TestDatabase;
    let app: RunningApp;
    const clients: SipTestClient[] = [];
    beforeAll(async () => {
      db = await createTestDatabase(kind);
      app = await startTestApp(db, { SIP_DOMAINS: DOMAINS, SIP_T1: String(T1) });
    });
    afterAll(async () => {
      for (const c of clients) await c.close();
      await app.close();
      await db.drop();
    });
    return {
      app: () => app,
      open: async (transport) => {
        const c = await SipTestClient.open({ transport, host: '127.0.0.1', port: app.sipPorts[transport] });
        clients.push(c);
        return c;
      },
    };
  }

  /** Waits for the answer of every message in `batch` that expects one; returns them by name. */
  async function answers(
    client: SipTestClient,
    batch: readonly string[],
    expectedOf: (name: string) => Answer,
  ): Promise<Map<string, SipTestMessage>> {
    const out = new Map<string, SipTestMessage>();
    await Promise.all(
      batch
        .filter((n) => expectedOf(n) !== 'none')
        .map(async (n) => {
          try {
            out.set(n, await client.waitForResponse(answersTo(keyOf(n)), 5000));
          } catch (e) {
            throw new Error(`${n}: ${(e as Error).message}`);
          }
        }),
    );
    return out;
  }

  function checkBatch(
    client: SipTestClient,
    batch: readonly string[],
    got: Map<string, SipTestMessage>,
    expectedOf: (name: string) => Answer,
  ): void {
    for (const n of batch) {
      const expected = expectedOf(n);
      if (expected === 'none')
        expect({ n, answers: client.received.filter(answersTo(keyOf(n))) }).toEqual({ n, answers: [] });
      else expectAnswer(n, got.get(n)!, expected);
    }
  }

  async function expectOptionsOk(client: SipTestClient): Promise<void> {
    const res = await client.request({ method: 'OPTIONS', uri: 'sip:example.com' });
    expect(res.status).toBe(200);
  }

  async function contactsOf(app: RunningApp, aor: string): Promise<string[]> {
    const res = await api(app.httpPort, 'GET', registrationPath(aor));
    expect(res.status).toBe(200);
    return (res.json as { contacts: { uri: string }[] }).contacts.map((c) => c.uri).sort();
  }

  /** What the registrations left behind: the RFC's "subsequent retrieval" checks. */
  async function expectBindings(app: RunningApp, dblreq: boolean): Promise<void> {
    expect(await contactsOf(app, 'sip:null-%00-null@example.com')).toEqual([
      'sip:%00%00@host5.example.com',
      'sip:%00@host5.example.com',
    ]);
    expect(await contactsOf(app, 'sip:user@example.com')).toEqual([
      'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    ]);
    // cparam02 (another Call-ID, the same contact by RFC 3261 §19.1.4) replaced cparam01's binding.
    expect(await contactsOf(app, 'sip:watson@example.com')).toEqual(['sip:+19725552222@gw1.example.net;unknownparam']);
    // regaut01 registers no contact; on a stream dblreq is sent later, on its own connection.
    if (dblreq) expect(await contactsOf(app, 'sip:j.user@example.com')).toEqual(['sip:j.user@host.example.com']);
    expect((await api(app.httpPort, 'GET', registrationPath('isbn:2983792873'))).status).not.toBe(200);
  }

  describe('each message in one UDP datagram', () => {
    const ctx = fresh();
    const expectedOf = (n: string): Answer => TABLE[n].udp;

    it('answers every request as the table says and drops responses', async () => {
      const udp = await ctx.open('udp');
      const first = names.filter((n) => !SECOND_ROUND.includes(n));
      for (const n of first) udp.sendRaw(load(n));
      const got = await answers(udp, first, expectedOf);
      await sleep(64 * T1 + SETTLE_MS); // Timer J: the first round's transactions are gone
      for (const n of SECOND_ROUND) udp.sendRaw(load(n));
      for (const [n, m] of await answers(udp, SECOND_ROUND, expectedOf)) got.set(n, m);
      await sleep(SETTLE_MS);
      checkBatch(udp, names, got, expectedOf);
      // dblreq: the INVITE after the REGISTER's Content-Length is ignored (RFC 3261 §18.3).
      expect(udp.received.filter(answersTo(DBLREQ_INVITE))).toEqual([]);
      // bext01: "an Unsupported header field listing these features".
      expect(
        got
          .get('bext01')!
          .headerValues('unsupported')
          .map((v) => v.toLowerCase()),
      ).toEqual(['nothingsupportsthis', 'nothingsupportsthiseither']);
      // cparam01: "the response must not include unknownparam as a url-parameter".
      expect(got.get('cparam01')!.headerValues('contact').map(uriOf)).toEqual(['sip:+19725552222@gw1.example.net']);
      expect(got.get('regescrt')!.headerValues('contact').map(uriOf)).toEqual([
        'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
      ]);
      await expectBindings(ctx.app(), true);
      await expectOptionsOk(udp);
    });
  });

  describe('all messages on one TCP stream', () => {
    const ctx = fresh();
    const expectedOf = (n: string): Answer => (n === 'ncl' ? 'none' : TABLE[n].udp);
    const framed = names.filter((n) => STREAM_ENDS[n] === undefined);

    it('answers every framed request as the table says; the stream ends at ncl', async () => {
      const tcp = await ctx.open('tcp');
      const first = framed.filter((n) => !SECOND_ROUND.includes(n));
      tcp.sendRaw(Buffer.concat(first.map(load)));
      const got = await answers(tcp, first, expectedOf);
      tcp.sendRaw(Buffer.concat(SECOND_ROUND.map(load)));
      for (const [n, m] of await answers(tcp, SECOND_ROUND, expectedOf)) got.set(n, m);
      await expectOptionsOk(tcp);
      // ncl's Content-Length: -999 cannot frame a stream: the server closes it without an answer.
      tcp.sendRaw(load('ncl'));
      await tcp.waitForClose(5000);
      await sleep(SETTLE_MS);
      checkBatch(tcp, [...framed, 'ncl'], got, expectedOf);
      expect(got.get('escnull')!.headerValues('contact')).toHaveLength(2);
      await expectBindings(ctx.app(), false);
    });

    it.each(Object.entries(STREAM_ENDS).filter(([n]) => n !== 'ncl'))('%s on its own connection', async (name, end) => {
      const tcp = await ctx.open('tcp');
      const data = load(name);
      const split = end.answerFirst ? data.indexOf('\r\n\r\n') + 4 : data.length;
      const statuses: number[] = [];
      const next = async (callId: string): Promise<void> => {
        statuses.push((await tcp.waitForResponse(answersTo(callId), 5000)).status ?? 0);
      };
      tcp.sendRaw(data.subarray(0, split));
      if (split < data.length) {
        await next(end.answers[0][0]);
        tcp.sendRaw(data.subarray(split));
      }
      for (const [callId] of end.answers.slice(statuses.length)) await next(callId);
      expect(statuses).toEqual(end.answers.map(([, status]) => status));
      if (end.then === 'closes') await tcp.waitForClose(5000);
      await sleep(SETTLE_MS);
      expect(tcp.received.filter((m) => m.kind === 'response')).toHaveLength(end.answers.length);
      expect(tcp.closed).toBe(end.then === 'closes');
      // Whatever that connection does, the server serves others.
      await expectOptionsOk(await ctx.open('tcp'));
    });
  });
});
