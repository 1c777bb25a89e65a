/**
 * What SIP digest costs per request on one core, in the server's own code path (SipDigestService.authenticate
 * with the user's HA1s cached, as they are after the first request): a request with valid credentials
 * (parse of Authorization, nonce HMAC check, response hash, nonce-count), a request without credentials
 * (a new nonce and two challenges), for SHA-256 and MD5. The parse of the rest of the message is the parser's
 * figure and is done before timing. `npm run bench:digest`.
 */
import pino from 'pino';
import { RateLimits } from '../src/access/rate-limits';
import { SipDigestService } from '../src/auth/sip-digest.service';
import type { SubscriberRepository } from '../src/auth/subscriber.repository';
import type { SubscriberService } from '../src/auth/subscriber.service';
import { loadConfig } from '../src/config/load-config';
import {
  answerChallenge,
  computeHa1,
  formatCredentials,
  parseChallenge,
  parseMessage,
  systemClock,
  type DigestAlgorithm,
  type IncomingRequest,
  type SipRequest,
} from '../src/sip';
import type { SipBridge } from '../src/sip-bridge/sip-bridge.service';

const N = Number(process.env.BENCH_REQUESTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const flow = {
  protocol: 'udp' as const,
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '127.0.0.1',
  remotePort: 5062,
};

function register(i: number, authorization?: string): SipRequest {
  const text =
    `REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK${i};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=${i}\r\nTo: <sip:alice@example.com>\r\n` +
    `Call-ID: bench-${i}@127.0.0.1\r\nCSeq: ${i + 1} REGISTER\r\nContact: <sip:alice@127.0.0.1:5062>\r\n` +
    (authorization === undefined ? '' : `Authorization: ${authorization}\r\n`) +
    `Expires: 600\r\nContent-Length: 0\r\n\r\n`;
  return parseMessage(Buffer.from(text)) as SipRequest;
}

function incoming(request: SipRequest, sink: { last?: string[] }): IncomingRequest {
  return {
    request,
    flow,
    responded: false,
    toTag: 'x',
    respond: (_status, _reason, headers) => {
      sink.last = headers?.['WWW-Authenticate'] as string[] | undefined;
    },
  };
}

async function service(): Promise<SipDigestService> {
  // One user verified over and over: no rate per identity here (its bucket costs about 0.4 µs when on).
  const config = loadConfig({ AUTH_ENABLED: 'true', RATE_LIMIT_IDENTITY_PER_SECOND: '0' });
  const secrets = {
    realm: 'example.com',
    ha1: {
      MD5: computeHa1('MD5', 'alice', 'example.com', 'secret'),
      'SHA-256': computeHa1('SHA-256', 'alice', 'example.com', 'secret'),
    },
  };
  const subscribers = { secrets: () => secrets } as unknown as SubscriberService;
  const repo = { secret: () => Promise.resolve('11'.repeat(32)) } as unknown as SubscriberRepository;
  const bridge = { useAuthenticator: () => undefined } as unknown as SipBridge;
  const limits = new RateLimits(config, systemClock);
  const s = new SipDigestService(config, systemClock, pino({ level: 'silent' }), bridge, subscribers, repo, limits);
  await s.onModuleInit();
  return s;
}

function perSecond(n: number, ns: bigint): number {
  return Math.round(n / (Number(ns) / 1e9));
}

async function main(): Promise<void> {
  const auth = await service();
  const sink: { last?: string[] } = {};
  // Without credentials: a nonce and the two challenges.
  const bare = Array.from({ length: N }, (_, i) => register(i));
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (const req of bare) void auth.authenticate(incoming(req, sink));
    best = Math.max(best, perSecond(N, process.hrtime.bigint() - t0));
  }
  console.log(
    `digest challenge (401 with SHA-256 and MD5): ${best.toLocaleString('en-US')} requests/s, ${(1e6 / best).toFixed(2)} µs each`,
  );
  for (const algorithm of ['SHA-256', 'MD5'] as DigestAlgorithm[]) {
    best = 0;
    for (let r = 0; r < ROUNDS; r++) {
      // One challenge per round, answered N times with growing nonce-counts (a long-lived client), not timed.
      void auth.authenticate(incoming(register(0), sink));
      const ch = sink.last!.map((v) => parseChallenge(v)!).find((c) => c.algorithm === algorithm)!;
      const reqs = Array.from({ length: N }, (_, i) =>
        register(
          i,
          formatCredentials(
            answerChallenge(ch, {
              username: 'alice',
              password: 'secret',
              method: 'REGISTER',
              uri: 'sip:example.com',
              nc: i + 1,
            }),
          ),
        ),
      );
      let accepted = 0;
      const t0 = process.hrtime.bigint();
      for (const req of reqs) if (auth.authenticate(incoming(req, sink)) === true) accepted++;
      const elapsed = process.hrtime.bigint() - t0;
      if (accepted !== N) throw new Error(`only ${accepted} of ${N} accepted`);
      best = Math.max(best, perSecond(N, elapsed));
    }
    console.log(
      `digest ${algorithm} verification (credentials accepted): ${best.toLocaleString('en-US')} requests/s, ${(1e6 / best).toFixed(2)} µs each`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
