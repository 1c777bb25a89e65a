import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import { SipHeaders } from '../message/sip-headers';
import { SipRequest, SipResponse } from '../message/sip-message';
import { SipUri } from '../message/sip-uri';
import { FakeClock } from '../ports/fake-clock';
import type { SipLogger } from '../ports/logger';
import { SequenceRandom } from '../ports/random';
import { MemoryTransport } from '../transport/memory.transport';
import { MAX_UDP_DATAGRAM } from './large-request';
import { SipStack } from './sip-stack';

/** A NOTIFY to a UDP watcher at 127.0.0.2:5062 whose whole message is about `size` bytes. */
function notify(size: number): SipRequest {
  const head = 400;
  const body = Buffer.from(`<presence>${'x'.repeat(Math.max(0, size - head - 21))}</presence>`);
  return new SipRequest(
    'NOTIFY',
    SipUri.parse('sip:alice@127.0.0.2:5062'),
    SipHeaders.from({
      From: '<sip:bob@example.com>;tag=b',
      To: '<sip:alice@example.com>;tag=a',
      'Call-ID': 'big1',
      CSeq: '2 NOTIFY',
      Event: 'presence',
      'Subscription-State': 'active;expires=60',
      'Content-Type': 'application/pidf+xml',
    }),
    body,
  );
}

interface Sent {
  readonly over: 'udp' | 'tcp';
  readonly req: SipRequest;
  readonly remote: string;
}

/** A stack with UDP and TCP memory transports; the watcher's side answers each request it gets with `status`. */
async function setup(options: { tcp?: boolean; udpMaxRequestSize?: number; answer?: number | null } = {}) {
  const clock = new FakeClock();
  const [udp, udpPeer] = MemoryTransport.pair({ protocol: 'udp', port: 5060 }, { port: 5062 });
  const [tcp, tcpPeer] = MemoryTransport.pair({ protocol: 'tcp', port: 5060 }, { port: 5062 });
  const warnings: string[] = [];
  const log: SipLogger = {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (_o, m) => warnings.push(m),
    error: () => undefined,
  };
  const stack = new SipStack({
    transports: options.tcp === false ? [udp] : [udp, tcp],
    clock,
    random: new SequenceRandom('L'),
    logger: log,
    ...(options.udpMaxRequestSize !== undefined && { udpMaxRequestSize: options.udpMaxRequestSize }),
  });
  await stack.start();
  const sent: Sent[] = [];
  for (const [peer, over] of [
    [udpPeer, 'udp'],
    [tcpPeer, 'tcp'],
  ] as const) {
    peer.onMessage((data, flow) => {
      const req = parseMessage(data) as SipRequest;
      sent.push({ over, req, remote: `${flow.localAddress}:${flow.localPort}` });
      if (options.answer === null) return;
      const res = new SipResponse(options.answer ?? 200, 'OK', req.headers.clone());
      void peer.send(flow, serializeMessage(res));
    });
  }
  return { clock, udp, tcp, stack, sent, warnings };
}

describe('SipStack: transport by request size (RFC 3261 §18.1.1)', () => {
  it('sends a request up to 1300 bytes over UDP', async () => {
    const { stack, sent } = await setup();
    const res = await stack.sendRequest(notify(1200));
    expect(res.status).toBe(200);
    expect(sent.map((s) => s.over)).toEqual(['udp']);
    expect(sent[0].req.via[0].protocol).toBe('UDP');
  });

  it('sends a larger request over TCP to the same address and port, the top Via saying TCP', async () => {
    const { stack, sent, tcp } = await setup();
    const res = await stack.sendRequest(notify(80_000));
    expect(res.status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0].over).toBe('tcp');
    expect(sent[0].req.body.length).toBeGreaterThan(70_000);
    expect(tcp.sent[0].flow).toMatchObject({ protocol: 'tcp', remoteAddress: '127.0.0.2', remotePort: 5062 });
    expect(sent[0].req.via).toHaveLength(1);
    expect(sent[0].req.via[0].toString()).toMatch(
      /^SIP\/2\.0\/TCP 127\.0\.0\.1:5060;branch=z9hG4bK\w+\.[0-9a-z]+;rport$/,
    );
  });

  it('gives back the slot claimed for the UDP attempt that TCP made unnecessary', async () => {
    const { stack, sent, tcp } = await setup();
    const slotOf = (i: number): string => sent[i].req.via[0].branch!.split('.').pop()!;
    await stack.sendRequest(notify(80_000));
    tcp.failSends = true;
    await stack.sendRequest(notify(MAX_UDP_DATAGRAM + 100));
    await stack.sendRequest(notify(1000));
    await stack.sendRequest(notify(1000));
    // One transaction in flight at a time: every one of them in the two lowest slots, none left claimed.
    expect(sent.map((s) => [s.over, slotOf(sent.indexOf(s))])).toEqual([
      ['tcp', '1'],
      ['udp', '0'],
      ['udp', '0'],
    ]);
  });

  it('honours udpMaxRequestSize', async () => {
    const { stack, sent } = await setup({ udpMaxRequestSize: 4000 });
    await stack.sendRequest(notify(3000));
    await stack.sendRequest(notify(5000));
    expect(sent.map((s) => s.over)).toEqual(['udp', 'tcp']);
  });

  it('retries over UDP, with a UDP Via, when the TCP connection fails and the message fits a datagram', async () => {
    const { stack, sent, tcp } = await setup();
    tcp.failSends = true;
    const res = await stack.sendRequest(notify(40_000));
    expect(res.status).toBe(200);
    expect(sent.map((s) => s.over)).toEqual(['udp']);
    expect(sent[0].req.via).toHaveLength(1);
    expect(sent[0].req.via[0].protocol).toBe('UDP');
    expect(sent[0].req.body.length).toBeGreaterThan(39_000);
  });

  it('without a TCP transport, sends a large request that fits as one datagram', async () => {
    const { stack, sent } = await setup({ tcp: false });
    expect((await stack.sendRequest(notify(20_000))).status).toBe(200);
    expect(sent.map((s) => s.over)).toEqual(['udp']);
  });

  it('synthesizes 503 and warns when the request fits no datagram and TCP fails; nothing goes over UDP', async () => {
    const { stack, sent, tcp, udp, warnings } = await setup();
    tcp.failSends = true;
    const res = await stack.sendRequest(notify(MAX_UDP_DATAGRAM + 100));
    expect(res.status).toBe(503);
    expect(res.reason).toMatch(/too large for UDP/);
    expect(sent).toHaveLength(0);
    expect(udp.sent).toHaveLength(0);
    expect(warnings).toEqual(['request too large for UDP and not deliverable over TCP']);
    expect(stack.transactionCount.client).toBe(0);
  });

  it('over TCP: no retransmissions, and Timer F gives 408 (no retry over UDP)', async () => {
    const { clock, stack, sent } = await setup({ answer: null });
    const p = stack.sendRequest(notify(10_000));
    clock.advance(64 * 500 - 1);
    expect(sent.map((s) => s.over)).toEqual(['tcp']);
    clock.advance(1);
    expect((await p).status).toBe(408);
    expect(sent).toHaveLength(1);
  });
});
