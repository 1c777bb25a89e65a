import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../message/parser';
import { SipResponse } from '../message/sip-message';
import { FakeClock } from '../ports/fake-clock';
import { SequenceRandom } from '../ports/random';
import { MemoryTransport } from '../transport/memory.transport';
import type { AdmissionControl } from './admission';
import type { IncomingRequest } from './incoming-request';
import { SipStack } from './sip-stack';

const SUBSCRIBE = readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'subscribe-typical.sip'))
  .toString('latin1')
  .replace(/\r?\n/g, '\r\n');

function statuses(t: MemoryTransport): number[] {
  return t.sent.map((s) => parseMessage(s.data)).map((m) => (m instanceof SipResponse ? m.status : 0));
}

async function setup(admit: (pending: number) => boolean) {
  const seen: IncomingRequest[] = [];
  const shed: string[] = [];
  const admission: AdmissionControl = {
    methods: new Set(['SUBSCRIBE', 'PUBLISH', 'REGISTER']),
    retryAfter: 3,
    admit: (_m, pending) => admit(pending),
    shed: (m) => shed.push(m),
  };
  const [srv] = MemoryTransport.pair();
  const stack = new SipStack({ transports: [srv], clock: new FakeClock(), random: new SequenceRandom(), admission });
  stack.onRequest((r) => {
    seen.push(r);
  });
  await stack.start();
  return { srv, stack, seen, shed };
}

describe('SipStack admission control', () => {
  it('answers a refused new request 503 with Retry-After, without a transaction or the handler', async () => {
    const { srv, stack, seen, shed } = await setup(() => false);
    srv.inject(SUBSCRIBE);
    expect(seen).toHaveLength(0);
    expect(shed).toEqual(['SUBSCRIBE']);
    expect(stack.transactionCount.server).toBe(0);
    const res = parseMessage(srv.sent[0].data) as SipResponse;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.to.tag).toBeDefined();
    expect(res.callId).toBe('3848276298220188511@192.0.2.10');
  });

  it('takes in requests of other methods and requests in a dialog even when refusing', async () => {
    const { srv, seen } = await setup(() => false);
    srv.inject(SUBSCRIBE.replace('SUBSCRIBE sip:', 'OPTIONS sip:').replace('CSeq: 1 SUBSCRIBE', 'CSeq: 1 OPTIONS'));
    srv.inject(
      SUBSCRIBE.replace('To: "Bob" <sip:bob@presence.example.com>', 'To: <sip:bob@presence.example.com>;tag=abc'),
    );
    expect(seen.map((r) => r.request.method)).toEqual(['OPTIONS', 'SUBSCRIBE']);
    expect(srv.sent).toHaveLength(0);
  });

  it('counts requests in flight and gives a retransmission of one in progress to its transaction', async () => {
    let open = true;
    const { srv, stack, seen } = await setup((pending) => open && pending < 1);
    srv.inject(SUBSCRIBE);
    expect(stack.pendingRequests).toBe(1);
    const second = SUBSCRIBE.replace('z9hG4bK74bf9a1c2e', 'z9hG4bKsecond').replace('3848276298220188511', '42');
    srv.inject(second);
    expect(statuses(srv)).toEqual([503]);
    open = false;
    srv.inject(SUBSCRIBE); // a retransmission: absorbed by its transaction, not answered 503
    expect(statuses(srv)).toEqual([503]);
    seen[0].respond(200, 'OK');
    expect(stack.pendingRequests).toBe(0);
    expect(statuses(srv)).toEqual([503, 200]);
    expect(seen).toHaveLength(1);
  });
});
