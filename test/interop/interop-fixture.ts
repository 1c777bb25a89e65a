/**
 * The set-up every interop spec shares: a Kamailio started before the file's tests (and, when asked, our
 * server beside it), raw SIP clients closed after each test, both stopped at the end. A spec states only what
 * differs: Kamailio's options, our server's settings, the digest cases it runs under.
 */
import { pidf, randomToken, SipTestClient, type HeaderInput, type SipTestMessage } from '../utils/sip-test-client';
import { freePort } from '../utils/test-app';
import type { KamailioAuth } from './kamailio-config';
import { startHub, type Hub } from './hub';
import { startKamailio, traced, type RunningKamailio, type StartKamailioOptions } from './kamailio';

/** The account our outgoing client (and the tests' raw clients) answer Kamailio's challenges with. */
export const KAMAILIO_ACCOUNT = { username: 'hub', password: 'interop-secret' } as const;
export const KAMAILIO_REALM = 'secure.test';

/** One way Kamailio is set up for a `describe.each`: its options and the settings our server needs for it. */
export interface KamailioCase {
  readonly name: string;
  readonly kamailio: StartKamailioOptions;
  /** Our server's settings that go with it (the digest credentials of its outgoing client). */
  readonly env: Readonly<Record<string, string>>;
}

/** Kamailio challenging every PUBLISH and SUBSCRIBE not its own, and our client's credentials for it. */
export function challengingKamailio(
  algorithm: NonNullable<KamailioAuth['algorithm']>,
  challenge: NonNullable<KamailioAuth['challenge']>,
): KamailioCase {
  const status = challenge === 'www' ? 401 : 407;
  return {
    name: `Kamailio challenging with ${status} (${algorithm})`,
    kamailio: { auth: { realm: KAMAILIO_REALM, algorithm, challenge, accounts: [KAMAILIO_ACCOUNT] } },
    env: { SIP_CLIENT_CREDENTIALS: `${KAMAILIO_ACCOUNT.username}:${KAMAILIO_ACCOUNT.password}@${KAMAILIO_REALM}` },
  };
}

/** A PUBLISH of PIDF (`open`, with `note`) for `presentity`, 600 s, from `client`. */
export function publishPidf(
  client: SipTestClient,
  presentity: string,
  note: string,
  headers: HeaderInput = {},
): Promise<SipTestMessage> {
  return client.publish({
    uri: presentity,
    event: 'presence',
    expires: 600,
    body: pidf(presentity, 'open', note),
    headers,
  });
}

export const OPEN_KAMAILIO: KamailioCase = { name: 'Kamailio without auth', kamailio: {}, env: {} };

export interface InteropOptions {
  /** Kamailio's options; given our server's SIP port (chosen before either starts) when a hub is started. */
  readonly kamailio?: StartKamailioOptions | ((hubSipPort: number) => StartKamailioOptions);
  /** Our server's settings, given the running Kamailio and our SIP port; without it no server is started. */
  readonly hub?: (kam: RunningKamailio, sipPort: number) => Record<string, string>;
}

export interface Interop {
  /** The running Kamailio (a new one after {@link restartKamailio}). */
  readonly kam: RunningKamailio;
  /** Our server; throws when the spec asked for none. */
  readonly hub: Hub;
  /** A raw UDP client toward `host:port` (default 127.0.0.1) that answers NOTIFYs 200; closed after the test. */
  client(port: number, user: string, domain: string, host?: string): Promise<SipTestClient>;
  /** A raw client at Kamailio. */
  kamailioClient(user: string): Promise<SipTestClient>;
  /** `sip:<prefix>-<random>@<domain>`, with its user part. */
  uniqueAor(prefix: string, domain: string): { aor: string; user: string };
  /** Stops Kamailio and starts a fresh one (nothing remembered) on the same port with the same options. */
  restartKamailio(): Promise<void>;
  /** {@link traced} against this fixture's Kamailio. */
  traced(body: () => Promise<void>): () => Promise<void>;
}

/** Registers the file's (or describe block's) beforeAll/afterEach/afterAll and returns the fixture. */
export function useInterop(options: InteropOptions = {}): Interop {
  let kam: RunningKamailio | undefined;
  let hub: Hub | undefined;
  let kamOptions: StartKamailioOptions = {};
  const clients: SipTestClient[] = [];

  const running = (): RunningKamailio => {
    if (kam === undefined) throw new Error('Kamailio is not running');
    return kam;
  };

  beforeAll(async () => {
    const hubSipPort = options.hub === undefined ? 0 : await freePort();
    kamOptions = typeof options.kamailio === 'function' ? options.kamailio(hubSipPort) : (options.kamailio ?? {});
    kam = await startKamailio(kamOptions);
    const env = options.hub;
    if (env !== undefined) {
      const started = running();
      hub = await startHub((sipPort) => env(started, sipPort), hubSipPort);
    }
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await hub?.close();
    await kam?.stop();
  });

  const fixture: Interop = {
    get kam() {
      return running();
    },
    get hub() {
      if (hub === undefined) throw new Error('this spec started no server of ours');
      return hub;
    },
    async client(port, user, domain, host = '127.0.0.1') {
      const c = await SipTestClient.open({ transport: 'udp', host, port, user, domain });
      c.autoAnswer('NOTIFY', 200);
      clients.push(c);
      return c;
    },
    kamailioClient(user) {
      const k = running();
      return fixture.client(k.port, user, k.domain, k.host);
    },
    uniqueAor(prefix, domain) {
      const user = `${prefix}-${randomToken(3)}`;
      return { aor: `sip:${user}@${domain}`, user };
    },
    async restartKamailio() {
      const port = running().port;
      await running().stop();
      kam = undefined;
      kam = await startKamailio({ ...kamOptions, port });
    },
    traced(body) {
      return traced(running, body);
    },
  };
  return fixture;
}
