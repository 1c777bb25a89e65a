import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipError } from '../errors/sip-error';
import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import { SipHeaders } from '../message/sip-headers';
import { SipRequest, SipResponse } from '../message/sip-message';
import { SipUri } from '../message/sip-uri';
import { FakeClock } from '../ports/fake-clock';
import { cryptoRandom, SequenceRandom, type Random } from '../ports/random';
import { MemoryTransport } from '../transport/memory.transport';
import type { Flow } from '../transport/transport';
import type { IncomingRequest } from './incoming-request';
import { SipStack } from './sip-stack';
import { TransactionState } from './transaction-state';
import { NonInviteServerTransaction } from './non-invite-server.transaction';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', name)).toString('latin1');
const SUBSCRIBE = fixture('subscribe-typical.sip');

function responses(t: MemoryTransport): SipResponse[] {
  return t.sent.map((s) => parseMessage(s.data)).filter((m): m is SipResponse => m instanceof SipResponse);
}

async function serverSetup(protocol: 'udp' | 'tcp' = 'udp', random: Random = new SequenceRandom()) {
  const clock = new FakeClock();
  const [srv, peer] = MemoryTransport.pair({ protocol });
  const stack = new SipStack({ transports: [srv], clock, random });
  const seen: IncomingRequest[] = [];
  await stack.start();
  return { clock, srv, peer, stack, seen };
}

describe('SipStack server side (RFC 3261 §17.2.2, §17.2.3)', () => {
  it('calls the handler once, absorbs retransmissions in Trying, resends the final response', async () => {
    const { clock, srv, stack, seen } = await serverSetup();
    stack.onRequest((r) => {
      seen.push(r);
    });
    srv.inject(SUBSCRIBE);
    srv.inject(SUBSCRIBE);
    expect(seen).toHaveLength(1);
    expect(srv.sent).toHaveLength(0);
    seen[0].respond(200, 'OK', { Expires: '3600' });
    expect(seen[0].responded).toBe(true);
    srv.inject(SUBSCRIBE);
    expect(seen).toHaveLength(1);
    const rs = responses(srv);
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    expect(srv.sent[1].data.equals(srv.sent[0].data)).toBe(true);
    expect(rs[0].to.tag).toBe(seen[0].toTag);
    expect(rs[0].headers.get('expires')).toBe('3600');
    // Timer J = 64*T1 on UDP, then the transaction is gone and the request is new again.
    expect(stack.transactionCount.server).toBe(1);
    clock.advance(64 * 500);
    expect(stack.transactionCount.server).toBe(0);
    srv.inject(SUBSCRIBE);
    expect(seen).toHaveLength(2);
  });

  it('resends the final response byte for byte when our tag is one the stack makes (12 hex digits)', async () => {
    const { clock, srv, stack, seen } = await serverSetup('udp', cryptoRandom);
    stack.onRequest((r) => {
      seen.push(r);
      r.respond(200, 'OK', { Expires: '600' });
    });
    srv.inject(SUBSCRIBE);
    clock.advance(10_000);
    srv.inject(SUBSCRIBE);
    expect(seen).toHaveLength(1);
    expect(seen[0].toTag).toMatch(/^[0-9a-f]{12}$/);
    expect(srv.sent).toHaveLength(2);
    expect(srv.sent[1].data.equals(srv.sent[0].data)).toBe(true);
    expect(responses(srv)[1].to.tag).toBe(seen[0].toTag);
  });

  it('empties the Map entry of a transaction that ended (a table the Map left behind may still point at it)', async () => {
    const { srv, stack, seen } = await serverSetup();
    stack.onRequest((r) => {
      seen.push(r);
    });
    srv.inject(SUBSCRIBE);
    const servers = (stack as unknown as { servers: Map<string, { tx?: unknown; incoming?: unknown }> }).servers;
    const [entry] = [...servers.values()];
    expect(entry.tx).toBeInstanceOf(NonInviteServerTransaction);
    seen[0].respond(200, 'OK');
    // Completed on UDP is a record of its own (the response only): the transaction ended with this response.
    expect(servers.size).toBe(0);
    expect(entry).toEqual({ tx: undefined, incoming: undefined });
  });

  it('resends the provisional response in Proceeding and ignores a second final response', async () => {
    const { srv, stack, seen } = await serverSetup();
    stack.onRequest((r) => {
      seen.push(r);
    });
    srv.inject(SUBSCRIBE);
    seen[0].respond(100);
    srv.inject(SUBSCRIBE);
    seen[0].respond(202);
    seen[0].respond(500);
    expect(responses(srv).map((r) => r.status)).toEqual([100, 100, 202]);
    expect(responses(srv)[0].to.tag).toBeUndefined();
  });

  it('terminates at once on reliable transports (Timer J = 0)', async () => {
    const { clock, srv, stack } = await serverSetup('tcp');
    stack.onRequest((r) => {
      r.respond(200);
    });
    srv.inject(SUBSCRIBE);
    clock.advance(0);
    expect(stack.transactionCount.server).toBe(0);
  });

  it('answers 500 when a handler throws, the SipError status when it throws one, also for promises', async () => {
    const { srv, stack } = await serverSetup();
    let n = 0;
    stack.onRequest(() => {
      n++;
      if (n === 1) throw new Error('boom');
      if (n === 2) throw new SipError(423, 'Interval Too Brief', { 'Min-Expires': '60' });
      return Promise.reject(new Error('async boom'));
    });
    srv.inject(SUBSCRIBE.replace('z9hG4bK74bf9a1c2e', 'z9hG4bKa'));
    srv.inject(SUBSCRIBE.replace('z9hG4bK74bf9a1c2e', 'z9hG4bKb'));
    srv.inject(SUBSCRIBE.replace('z9hG4bK74bf9a1c2e', 'z9hG4bKc'));
    await new Promise((r) => setImmediate(r));
    const rs = responses(srv);
    expect(rs.map((r) => r.status)).toEqual([500, 423, 500]);
    expect(rs[1].headers.get('min-expires')).toBe('60');
  });

  it('answers 400 naming the fault, 505 for another version, drops garbage and ACK', async () => {
    const { srv, stack, seen } = await serverSetup();
    stack.onRequest((r) => {
      seen.push(r);
    });
    srv.inject(fixture('parser-bad-cseq.sip'));
    srv.inject(fixture('parser-missing-call-id.sip'));
    srv.inject(fixture('rfc4475/badvers.dat'));
    srv.inject(fixture('rfc4475/badaspec.dat'));
    srv.inject('garbage\r\n\r\n');
    srv.inject(SUBSCRIBE.replace('SUBSCRIBE sip', 'ACK sip').replace('1 SUBSCRIBE', '1 ACK'));
    const rs = srv.sent.map((x) => x.data.toString());
    expect(rs.map((r) => /^SIP\/2\.0 (\d+) (.*)\r\n/.exec(r)?.slice(1).join(' '))).toEqual([
      '400 Bad CSeq header',
      '400 Missing Call-ID',
      '505 Version Not Supported',
      '400 Bad To header',
    ]);
    expect(rs[0]).toMatch(/\r\nTo: <sip:bob@example.com>;tag=\w+\r\n/);
    expect(seen).toHaveLength(0);
  });

  it('answers 513 to a request larger than maxMessageSize', async () => {
    const clock = new FakeClock();
    const [srv] = MemoryTransport.pair();
    const stack = new SipStack({ transports: [srv], clock, maxMessageSize: 300 });
    await stack.start();
    stack.onRequest(() => undefined);
    srv.inject(SUBSCRIBE);
    expect(responses(srv).map((r) => r.status)).toEqual([513]);
  });

  it('CANCEL without a matching transaction gets 481', async () => {
    const { srv, stack } = await serverSetup();
    stack.onRequest(() => undefined);
    srv.inject(SUBSCRIBE.replace('SUBSCRIBE sip', 'CANCEL sip').replace('1 SUBSCRIBE', '1 CANCEL'));
    expect(responses(srv).map((r) => r.status)).toEqual([481]);
  });

  it('CANCEL of a pending INVITE: 200 to the CANCEL, 487 to the INVITE', async () => {
    const { srv, stack, seen } = await serverSetup();
    stack.onRequest((r) => {
      seen.push(r);
    });
    const invite = SUBSCRIBE.replace('SUBSCRIBE sip', 'INVITE sip').replace('1 SUBSCRIBE', '1 INVITE');
    srv.inject(invite);
    srv.inject(invite.replace('INVITE sip', 'CANCEL sip').replace('1 INVITE', '1 CANCEL'));
    expect(responses(srv).map((r) => [r.status, r.cseq.method])).toEqual([
      [200, 'CANCEL'],
      [487, 'INVITE'],
    ]);
    expect(seen).toHaveLength(1);
  });

  it('stamps received and rport (RFC 3581) and answers to the source', async () => {
    const { srv, stack } = await serverSetup();
    stack.onRequest((r) => {
      r.respond(200);
    });
    srv.inject(SUBSCRIBE, { remoteAddress: '198.51.100.7', remotePort: 40000 });
    const r = responses(srv)[0];
    expect(r.via[0].received).toBe('198.51.100.7');
    expect(r.via[0].rport).toBe(40000);
    expect(srv.sent[0].flow.remoteAddress).toBe('198.51.100.7');
    expect(srv.sent[0].flow.remotePort).toBe(40000);
  });

  it('a response whose handler replaces To is stamped all the same, with the To given', async () => {
    const { srv, stack } = await serverSetup();
    stack.onRequest((r) => {
      r.respond(200, 'OK', { To: '<sip:other@example.com>;tag=given', Expires: '60' });
    });
    srv.inject(SUBSCRIBE, { remoteAddress: '198.51.100.7', remotePort: 40000 });
    const r = responses(srv)[0];
    expect(r.headers.get('to')).toBe('<sip:other@example.com>;tag=given');
    expect(r.headers.get('expires')).toBe('60');
    expect(r.via[0].received).toBe('198.51.100.7');
    expect(r.via[0].rport).toBe(40000);
  });

  it('adds a body with Content-Type', async () => {
    const { srv, stack } = await serverSetup();
    stack.onRequest((r) => {
      r.respond(200, undefined, undefined, { contentType: 'application/pidf+xml', body: '<presence/>' });
    });
    srv.inject(SUBSCRIBE);
    const r = responses(srv)[0];
    expect(r.contentType).toBe('application/pidf+xml');
    expect(r.body.toString()).toBe('<presence/>');
  });

  it('sends responses over the request connection when it is open, else to received:sent-by port', async () => {
    const { srv, stack, seen } = await serverSetup('tcp');
    stack.onRequest((r) => {
      seen.push(r);
    });
    srv.openConnection('c1');
    srv.inject(SUBSCRIBE, { connectionId: 'c1', remotePort: 40001 });
    seen[0].respond(200);
    expect(srv.sent[0].flow.connectionId).toBe('c1');
    srv.inject(SUBSCRIBE.replace('z9hG4bK74bf9a1c2e', 'z9hG4bKgone'), { connectionId: 'gone', remotePort: 40002 });
    seen[1].respond(200);
    expect(srv.sent[1].flow).toMatchObject({ connectionId: undefined, remotePort: 5060 });
  });

  it('a server transaction left alone terminates on transport error', () => {
    const clock = new FakeClock();
    const errors: Error[] = [];
    let terminated = false;
    const tx = new NonInviteServerTransaction('k', false, {
      clock,
      timers: { t1: 500, t2: 4000, t4: 5000 },
      send: (_data, onError) => {
        process.nextTick(onError, new Error('gone'));
      },
      terminated: () => {
        terminated = true;
      },
      transportError: (e) => errors.push(e),
    });
    tx.respond(200, Buffer.from('x'));
    expect(tx.state).toBe(TransactionState.Completed);
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        expect(terminated).toBe(true);
        expect(tx.state).toBe(TransactionState.Terminated);
        expect(errors).toHaveLength(1);
        resolve();
      });
    });
  });
});

function notify(): SipRequest {
  return new SipRequest(
    'NOTIFY',
    SipUri.parse('sip:alice@127.0.0.2:5060'),
    SipHeaders.from({
      From: '<sip:bob@example.com>;tag=b',
      To: '<sip:alice@example.com>;tag=a',
      'Call-ID': 'n1',
      CSeq: '2 NOTIFY',
      Event: 'presence',
      'Subscription-State': 'active;expires=60',
    }),
  );
}

async function clientSetup(protocol: 'udp' | 'tcp' = 'udp') {
  const clock = new FakeClock();
  const [local, remote] = MemoryTransport.pair({ protocol });
  const stack = new SipStack({
    transports: [local],
    clock,
    random: new SequenceRandom('c'),
    resolver: (host) =>
      host === 'proxy.example.net' ? Promise.resolve('192.0.2.77') : Promise.reject(new Error('NXDOMAIN')),
  });
  await stack.start();
  const received: SipRequest[] = [];
  remote.onMessage((data) => {
    received.push(parseMessage(data) as SipRequest);
  });
  const target: Flow = {
    protocol,
    localAddress: '127.0.0.1',
    localPort: 5060,
    remoteAddress: '127.0.0.2',
    remotePort: 5060,
  };
  return { clock, local, remote, stack, received, target };
}

describe('SipStack client side (RFC 3261 §17.1.2)', () => {
  it('adds Via and Max-Forwards, resolves with the final response, drops retransmitted responses', async () => {
    const { clock, remote, stack, received, target } = await clientSetup();
    const p = stack.sendRequest(notify(), target);
    expect(received).toHaveLength(1);
    const sent = received[0];
    expect(sent.via[0].toString()).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bKc\d+\.[0-9a-z]+;rport$/);
    expect(sent.maxForwards).toBe(70);
    const ok = serializeMessage(
      Object.assign(new SipResponse(200, 'OK', sent.headers.clone()), { body: Buffer.alloc(0) }),
    );
    void remote.send(target, Buffer.from(ok.toString().replace(/^SIP\/2.0 200 OK/, 'SIP/2.0 100 Trying')));
    void remote.send(target, ok);
    void remote.send(target, ok);
    const res = await p;
    expect(res.status).toBe(200);
    // Nothing is held for Timer K: the retransmitted 200 matches no transaction and is dropped.
    expect(stack.transactionCount.client).toBe(0);
    void remote.send(target, ok);
    clock.advance(5000);
    expect(received).toHaveLength(1);
  });

  it('matches a response by its whole branch: one naming the same slot with another branch is dropped', async () => {
    const { remote, stack, received, target } = await clientSetup();
    const answer = (req: SipRequest, branch?: string): Buffer => {
      const h = req.headers.clone();
      if (branch !== undefined) h.set('Via', req.headers.get('via')!.replace(/branch=[^;]+/, `branch=${branch}`));
      return serializeMessage(Object.assign(new SipResponse(200, 'OK', h), { body: Buffer.alloc(0) }));
    };
    let settled = 0;
    const p = stack.sendRequest(notify(), target).then((r) => {
      settled++;
      return r;
    });
    const branch = received[0].via[0].branch!;
    const slot = branch.slice(branch.lastIndexOf('.'));
    void remote.send(target, answer(received[0], `z9hG4bKforged${slot}`));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(0);
    expect(stack.transactionCount.client).toBe(1);
    void remote.send(target, answer(received[0]));
    expect((await p).status).toBe(200);
    // The next request reuses the slot with a new branch; a late answer to the first one does not match it.
    const q = stack.sendRequest(notify(), target);
    expect(received[1].via[0].branch!.endsWith(slot)).toBe(true);
    expect(received[1].via[0].branch).not.toBe(branch);
    void remote.send(target, answer(received[0]));
    await new Promise((r) => setImmediate(r));
    expect(stack.transactionCount.client).toBe(1);
    void remote.send(target, answer(received[1]));
    expect((await q).status).toBe(200);
  });

  it('retransmits on Timer E (T1, 2T1, ... T2) and synthesizes 408 on Timer F', async () => {
    const { clock, stack, received, target } = await clientSetup();
    const p = stack.sendRequest(notify(), target);
    const times: number[] = [];
    const start = clock.now();
    let count = received.length;
    for (let t = 0; t < 64 * 500; t += 100) {
      clock.advance(100);
      if (received.length !== count) {
        times.push(clock.now() - start);
        count = received.length;
      }
    }
    expect(times.slice(0, 5)).toEqual([500, 1500, 3500, 7500, 11500]);
    const res = await p;
    expect(res.status).toBe(408);
    expect(res.callId).toBe('n1');
    expect(stack.transactionCount.client).toBe(0);
  });

  it('does not retransmit on reliable transports; Timer F still applies', async () => {
    const { clock, stack, received, target } = await clientSetup('tcp');
    const p = stack.sendRequest(notify(), { ...target, protocol: 'tcp' });
    clock.advance(64 * 500 - 1);
    expect(received).toHaveLength(1);
    clock.advance(1);
    expect((await p).status).toBe(408);
  });

  it('synthesizes 503 on a transport error', async () => {
    const { local, stack, target } = await clientSetup();
    local.failSends = true;
    const res = await stack.sendRequest(notify(), target);
    expect(res.status).toBe(503);
  });

  it('finds the next hop from a loose Route, else the Request-URI', async () => {
    const { local, stack } = await clientSetup();
    const a = notify();
    a.headers.append('Route', '<sip:192.0.2.50:5070;lr>');
    void stack.sendRequest(a);
    const b = notify();
    b.uri = SipUri.parse('sip:alice@proxy.example.net:5080;transport=udp');
    void stack.sendRequest(b);
    const c = notify();
    c.uri = SipUri.parse('sip:alice@192.0.2.9;transport=tcp');
    const res = await stack.sendRequest(c);
    expect(res.status).toBe(503); // no TCP transport in this stack
    await new Promise((r) => setImmediate(r));
    expect(local.sent[0].flow).toMatchObject({ remoteAddress: '192.0.2.50', remotePort: 5070 });
    expect(local.sent).toHaveLength(2);
    expect(local.sent[1].flow).toMatchObject({ remoteAddress: '192.0.2.77', remotePort: 5080 });
  });

  it('stop() ends pending client transactions with 503', async () => {
    const { stack, target } = await clientSetup();
    const p = stack.sendRequest(notify(), target);
    await stack.stop();
    expect((await p).status).toBe(503);
  });
});
