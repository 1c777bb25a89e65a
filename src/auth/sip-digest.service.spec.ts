import pino from 'pino';
import { RateLimits } from '../access/rate-limits';
import { loadConfig } from '../config/load-config';
import {
  answerChallenge,
  computeHa1,
  FakeClock,
  formatCredentials,
  parseChallenge,
  parseMessage,
  type DigestAlgorithm,
  type IncomingRequest,
  type ResponseHeaders,
  type SipRequest,
  type TlsPeer,
} from '../sip';
import type { SipBridge } from '../sip-bridge/sip-bridge.service';
import { SipDigestService } from './sip-digest.service';
import type { SubscriberRepository } from './subscriber.repository';
import type { DigestSecrets, SubscriberService } from './subscriber.service';

interface Answer {
  status: number;
  reason?: string;
  headers?: ResponseHeaders;
}

const ALICE: DigestSecrets = {
  realm: 'example.com',
  ha1: {
    MD5: computeHa1('MD5', 'alice', 'example.com', 'pw'),
    'SHA-256': computeHa1('SHA-256', 'alice', 'example.com', 'pw'),
  },
};

function request(method: string, opts: { auth?: string; toTag?: boolean; from?: string } = {}): SipRequest {
  const aor = opts.from ?? 'sip:alice@example.com';
  const header = method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization';
  const text =
    `${method} ${method === 'REGISTER' ? 'sip:example.com' : 'sip:bob@example.com'} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 192.0.2.9:5062;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nFrom: <${aor}>;tag=f\r\n` +
    `To: <${method === 'REGISTER' ? aor : 'sip:bob@example.com'}>${opts.toTag ? ';tag=t' : ''}\r\n` +
    `Call-ID: c1\r\nCSeq: 1 ${method}\r\nEvent: presence\r\n` +
    (opts.auth === undefined ? '' : `${header}: ${opts.auth}\r\n`) +
    `Content-Length: 0\r\n\r\n`;
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe('SipDigestService', () => {
  let clock: FakeClock;
  let lookups: number;

  async function service(
    env: Record<string, string> = {},
    secrets: (user: string) => DigestSecrets | null | Promise<DigestSecrets | null> = (u) =>
      u === 'alice' ? ALICE : null,
  ): Promise<{ auth: SipDigestService; lines: string[] }> {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l).msg as string) });
    const subscribers = {
      secrets: (u: string) => {
        lookups++;
        return secrets(u);
      },
    } as unknown as SubscriberService;
    const repo = { secret: () => Promise.resolve('ab'.repeat(32)) } as unknown as SubscriberRepository;
    const bridge = { useAuthenticator: () => undefined } as unknown as SipBridge;
    const config = loadConfig({ AUTH_ENABLED: 'true', ...env });
    const auth = new SipDigestService(config, clock, log, bridge, subscribers, repo, new RateLimits(config, clock));
    await auth.onModuleInit();
    return { auth, lines };
  }

  function send(
    auth: SipDigestService,
    req: SipRequest,
    tlsPeer?: TlsPeer,
  ): { verdict: boolean | Promise<boolean>; answer: Answer | undefined; incoming: IncomingRequest } {
    let answer: Answer | undefined;
    const incoming: IncomingRequest = {
      request: req,
      flow: {
        protocol: 'udp',
        localAddress: '127.0.0.1',
        localPort: 5060,
        remoteAddress: '192.0.2.9',
        remotePort: 5062,
        ...(tlsPeer && { tlsPeer }),
      },
      responded: false,
      toTag: 'x',
      respond: (status, reason, headers) => {
        answer = { status, reason, headers };
      },
    };
    return { verdict: auth.authenticate(incoming), answer, incoming };
  }

  function credentials(
    answer: Answer,
    method: string,
    algorithm: DigestAlgorithm = 'SHA-256',
    nc = 1,
    password = 'pw',
  ): string {
    const name = answer.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const ch = (answer.headers?.[name] as string[])
      .map((v) => parseChallenge(v)!)
      .find((c) => c.algorithm === algorithm)!;
    const uri = method === 'REGISTER' ? 'sip:example.com' : 'sip:bob@example.com';
    return formatCredentials(answerChallenge(ch, { username: 'alice', password, method, uri, nc }));
  }

  beforeEach(() => {
    clock = new FakeClock(1_764_000_000_000);
    lookups = 0;
  });

  it('challenges, then takes the answer and sets the identity', async () => {
    const { auth } = await service();
    const first = send(auth, request('PUBLISH'));
    expect(first.verdict).toBe(false);
    expect(first.answer?.status).toBe(407);
    const ok = send(auth, request('PUBLISH', { auth: credentials(first.answer!, 'PUBLISH') }));
    expect(ok.verdict).toBe(true);
    expect(ok.incoming.identity).toBe('sip:alice@example.com');
  });

  it('answers an expired nonce with stale=true and no failure; the fresh one is taken', async () => {
    const { auth, lines } = await service({ AUTH_NONCE_EXPIRES: '30' });
    const first = send(auth, request('REGISTER')).answer!;
    clock.advance(30_001);
    const stale = send(auth, request('REGISTER', { auth: credentials(first, 'REGISTER') })).answer!;
    expect(stale.status).toBe(401);
    expect(stale.reason).toBe('Unauthorized');
    expect((stale.headers?.['WWW-Authenticate'] as string[]).every((v) => v.includes('stale=true'))).toBe(true);
    expect(lines).toEqual([]);
    expect(send(auth, request('REGISTER', { auth: credentials(stale, 'REGISTER') })).verdict).toBe(true);
  });

  it('lets through methods not listed, in-dialog SUBSCRIBE and trusted peers', async () => {
    const { auth } = await service({ AUTH_SIP_METHODS: 'REGISTER', AUTH_TRUSTED_PEERS: '198.51.100.0/24' });
    expect(send(auth, request('PUBLISH')).verdict).toBe(true);
    expect(send(auth, request('REGISTER')).verdict).toBe(false);
    const all = await service({ AUTH_TRUSTED_PEERS: '192.0.2.0/24' });
    const trusted = send(all.auth, request('REGISTER'));
    expect(trusted.verdict).toBe(true);
    expect(trusted.incoming.identity).toBeUndefined();
    const plain = await service();
    expect(send(plain.auth, request('SUBSCRIBE', { toTag: true })).verdict).toBe(true);
    expect(send(plain.auth, request('SUBSCRIBE')).verdict).toBe(false);
  });

  it('limits each authenticated user to rateLimit.identity*, but not users of auth.registerOthers', async () => {
    const env = { RATE_LIMIT_IDENTITY_PER_SECOND: '1', RATE_LIMIT_IDENTITY_BURST: '1' };
    const { auth } = await service(env);
    const challenge = send(auth, request('REGISTER')).answer!;
    expect(send(auth, request('REGISTER', { auth: credentials(challenge, 'REGISTER', 'SHA-256', 1) })).verdict).toBe(
      true,
    );
    const limited = send(auth, request('REGISTER', { auth: credentials(challenge, 'REGISTER', 'SHA-256', 2) }));
    expect(limited.verdict).toBe(false);
    expect(limited.answer).toMatchObject({ status: 503, headers: { 'Retry-After': '1' } });
    expect(limited.incoming.identity).toBeUndefined();
    clock.advance(1000);
    expect(send(auth, request('REGISTER', { auth: credentials(challenge, 'REGISTER', 'SHA-256', 3) })).verdict).toBe(
      true,
    );
    const others = await service({ ...env, AUTH_REGISTER_OTHERS: 'sip:alice@example.com' });
    const ch = send(others.auth, request('REGISTER')).answer!;
    for (const nc of [1, 2, 3]) {
      expect(send(others.auth, request('REGISTER', { auth: credentials(ch, 'REGISTER', 'SHA-256', nc) })).verdict).toBe(
        true,
      );
    }
  });

  it('lets through TLS peers whose verified certificate names a trusted domain', async () => {
    const { auth } = await service({ AUTH_TRUSTED_TLS_PEERS: 'proxy.example.com' });
    const peer = (sipDomains: string[], authorized: boolean): TlsPeer => ({
      subject: sipDomains[0] ?? '',
      altNames: sipDomains.map((d) => `DNS:${d}`),
      sipDomains,
      authorized,
    });
    expect(send(auth, request('PUBLISH'), peer(['proxy.example.com'], true)).verdict).toBe(true);
    expect(send(auth, request('PUBLISH'), peer(['PROXY.example.com'], true)).verdict).toBe(true);
    // Not chained to the configured CA, another name, or no certificate: challenged.
    expect(send(auth, request('PUBLISH'), peer(['proxy.example.com'], false)).verdict).toBe(false);
    expect(send(auth, request('PUBLISH'), peer(['evil.example.com'], true)).verdict).toBe(false);
    expect(send(auth, request('PUBLISH')).verdict).toBe(false);
  });

  it('offers the algorithms of auth.algorithms in order and refuses others, logging the failure', async () => {
    const { auth, lines } = await service({ AUTH_ALGORITHMS: 'sha-256' });
    const first = send(auth, request('REGISTER')).answer!;
    expect((first.headers?.['WWW-Authenticate'] as string[]).map((v) => parseChallenge(v)!.algorithm)).toEqual([
      'SHA-256',
    ]);
    const md5 = formatCredentials(
      answerChallenge(
        { ...parseChallenge((first.headers?.['WWW-Authenticate'] as string[])[0])!, algorithm: 'MD5' },
        {
          username: 'alice',
          password: 'pw',
          method: 'REGISTER',
          uri: 'sip:example.com',
        },
      ),
    );
    const refused = send(auth, request('REGISTER', { auth: md5 })).answer!;
    expect(refused.reason).toBe('Unauthorized (MD5 not offered)');
    expect(lines).toEqual([
      'auth failure: src=192.0.2.9 port=5062 user=alice@example.com method=REGISTER reason=algorithm count=1',
    ]);
  });

  it('uses auth.realm for every domain and refuses HA1s made for another realm', async () => {
    const { auth, lines } = await service({ AUTH_REALM: 'hub' });
    const first = send(auth, request('REGISTER')).answer!;
    expect(parseChallenge((first.headers?.['WWW-Authenticate'] as string[])[0])!.realm).toBe('hub');
    const res = send(auth, request('REGISTER', { auth: credentials(first, 'REGISTER') })).answer!;
    expect(res.status).toBe(401);
    expect(lines[0]).toContain('reason=realm-mismatch');
  });

  it('waits for a user not yet cached, and looks it up once per request', async () => {
    const { auth } = await service({}, (u) => Promise.resolve(u === 'alice' ? ALICE : null));
    const first = send(auth, request('REGISTER')).answer!;
    const pending = send(auth, request('REGISTER', { auth: credentials(first, 'REGISTER') }));
    expect(pending.verdict).toBeInstanceOf(Promise);
    await expect(pending.verdict).resolves.toBe(true);
    expect(pending.incoming.identity).toBe('sip:alice@example.com');
    expect(lookups).toBe(1);
  });
});
