/**
 * Parser and serializer throughput on one core (DESIGN.md target: ≥ 200,000 typical SUBSCRIBE/s).
 * `npm run bench:parser`. Each parsed message also has the accessors the server reads touched, so lazy
 * parsing is not measured as free.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, serializeMessage } from '../src/sip';
import type { SipRequest } from '../src/sip';

const data = readFileSync(join(__dirname, '..', 'test', 'fixtures', 'subscribe-typical.sip'));
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
let sink = 0;

function parseOnce(buf: Buffer): void {
  const req = parseMessage(buf) as SipRequest;
  sink += req.callId.length + req.cseq.seq + (req.from.tag?.length ?? 0) + req.to.uri.host.length;
  sink += (req.event?.package.length ?? 0) + (req.expires ?? 0) + (req.via[0].branch?.length ?? 0);
}

function measure(label: string, fn: () => void): number {
  const warmupEnd = Date.now() + 1000;
  while (Date.now() < warmupEnd) for (let i = 0; i < 1000; i++) fn();
  let n = 0;
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const rate = Math.round(n / elapsed);
  console.log(`${label}: ${rate.toLocaleString('en-US')} msgs/s (typical SUBSCRIBE, one core)`);
  return rate;
}

// Every datagram arrives in a fresh buffer; copying it each time keeps the measurement honest.
measure('parser', () => {
  parseOnce(Buffer.from(data));
});

const parsed = parseMessage(data);
measure('serializer', () => {
  sink += serializeMessage(parsed).length;
});

if (sink === 42) console.log('');
