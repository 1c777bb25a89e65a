/**
 * PresenceReginfoModule watched by Kamailio: its pua_reginfo SUBSCRIBEs to our `reg` package
 * (reginfo_subscribe, triggered by the test) and applies our NOTIFYs to its usrloc (reginfo_handle_notify),
 * so a phone registered at our registrar is found by Kamailio's lookup("location") and gone once it
 * unregisters. Kamailio listens on 127.0.0.2, the test's clients on 127.0.0.1: our server trusts Kamailio by
 * address as a reg watcher, also with digest on, where the phone itself must authenticate; not trusted,
 * Kamailio's SUBSCRIBE is challenged and it learns nothing.
 */
import { pollUntil } from '../utils/e2e-helpers';
import { createUser, withDigest, type TestUser } from '../utils/digest-e2e';
import type { SipTestClient, SipTestMessage } from '../utils/sip-test-client';
import { useInterop, type Interop } from './interop-fixture';

const KAMAILIO_HOST = '127.0.0.2';
const HUB_DOMAIN = 'hub.test';
const PASSWORD = 'phone-secret';

type Register = (expires: number) => Promise<SipTestMessage>;

/** Kamailio relaying its pua_reginfo's SUBSCRIBEs for hub.test to our server, started with `env`. */
function kamailioBesideHub(env: Record<string, string>): Interop {
  return useInterop({
    kamailio: (hubSipPort) => ({
      host: KAMAILIO_HOST,
      reginfoPeer: { domain: HUB_DOMAIN, host: '127.0.0.1', port: hubSipPort },
    }),
    hub: () => ({ PRESENCE_REGINFO_TRUSTED_WATCHERS: KAMAILIO_HOST, ...env }),
  });
}

/** A phone at our registrar for a new AoR (a digest user of ours when `auth`). */
async function phoneAtHub(
  it_: Interop,
  prefix: string,
  auth: boolean,
): Promise<{ phone: SipTestClient; aor: string; register: Register }> {
  const { aor, user } = it_.uniqueAor(prefix, HUB_DOMAIN);
  const phone = await it_.client(it_.hub.sipPort, user, HUB_DOMAIN);
  const account: TestUser | undefined = auth ? await createUser(it_.hub.app, user, HUB_DOMAIN, PASSWORD) : undefined;
  const register: Register = (expires) => {
    const send = (headers = {}): Promise<SipTestMessage> => phone.register({ aor, expires, headers });
    return account === undefined ? send() : withDigest(send, account, 'REGISTER', `sip:${HUB_DOMAIN}`);
  };
  return { phone, aor, register };
}

/** Asks Kamailio (the config's trigger) to reginfo_subscribe to `aor`. */
async function kamailioSubscribes(it_: Interop, aor: string): Promise<void> {
  const trigger = await it_.kamailioClient('operator');
  const res = await trigger.request({
    method: 'OPTIONS',
    uri: `sip:reginfo-subscribe@${it_.kam.host}:${it_.kam.port}`,
    headers: { 'X-Reginfo-Uri': aor },
  });
  expect(res.status).toBe(200);
}

/** What Kamailio's lookup("location") finds for the AoR: the contact, or undefined (404). */
async function kamailioLookup(it_: Interop, aor: string): Promise<string | undefined> {
  const probe = await it_.kamailioClient('operator');
  // Kamailio's pua_reginfo keys what it learns by `user@domain` although usrloc's use_domain is off (lookup
  // keys by user alone); the registrar unescapes the Request-URI's user, so the probe asks for `user%40domain`.
  const key = aor.slice(aor.indexOf(':') + 1).replace('@', '%40');
  const uri = `sip:${key}@${it_.kam.domain}`;
  const res = await probe.request({ method: 'OPTIONS', uri, headers: { 'X-Interop': 'lookup' } });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return res.header('x-contact');
}

async function kamailioFinds(it_: Interop, aor: string, contact: string): Promise<void> {
  await pollUntil(
    async () => ((await kamailioLookup(it_, aor))?.includes(contact) === true ? true : undefined),
    10_000,
    `${contact} in Kamailio's usrloc for ${aor}`,
  );
}

async function kamailioForgets(it_: Interop, aor: string): Promise<void> {
  await pollUntil(
    async () => ((await kamailioLookup(it_, aor)) === undefined ? true : undefined),
    10_000,
    `${aor} gone from Kamailio's usrloc`,
  );
}

const CASES: readonly { name: string; env: Record<string, string> }[] = [
  { name: 'auth off', env: {} },
  { name: 'auth on, Kamailio trusted by address', env: { AUTH_ENABLED: 'true', AUTH_TRUSTED_PEERS: KAMAILIO_HOST } },
];

describe.each(CASES)('Kamailio subscribing to our reg package ($name)', ({ env }) => {
  const it_ = kamailioBesideHub(env);
  const auth = env.AUTH_ENABLED === 'true';

  it(
    'a contact registered here before Kamailio subscribes reaches its usrloc (full state); unregistering drops it',
    it_.traced(async () => {
      const { phone, aor, register } = await phoneAtHub(it_, 'kim', auth);
      if (auth) expect((await phone.register({ aor, expires: 300 })).status).toBe(401);
      expect((await register(300)).status).toBe(200);
      expect(await kamailioLookup(it_, aor)).toBeUndefined();

      await kamailioSubscribes(it_, aor);
      await kamailioFinds(it_, aor, phone.contactUri());

      expect((await register(0)).status).toBe(200);
      await kamailioForgets(it_, aor);
    }),
  );

  it(
    'an AoR Kamailio watches before it registers: the REGISTER and the unregister here reach its usrloc',
    it_.traced(async () => {
      const { phone, aor, register } = await phoneAtHub(it_, 'lou', auth);
      const from = it_.kam.log().length;
      await kamailioSubscribes(it_, aor);
      // Our first NOTIFY lists the AoR as `init` (RFC 3680 §5.1, no binding yet), a state Kamailio's pua_reginfo
      // does not know: it answers 400, and our subscription goes on.
      await it_.kam.waitForLog(/interop: reginfo_handle_notify result -1/, 10_000, from);
      expect(await kamailioLookup(it_, aor)).toBeUndefined();

      expect((await register(300)).status).toBe(200);
      await kamailioFinds(it_, aor, phone.contactUri());
      expect((await register(0)).status).toBe(200);
      await kamailioForgets(it_, aor);
    }),
  );
});

describe('Kamailio subscribing to our reg package (auth on, Kamailio not trusted)', () => {
  const it_ = kamailioBesideHub({ AUTH_ENABLED: 'true' });

  it(
    'its SUBSCRIBE is challenged, which its pua_reginfo cannot answer: it learns nothing',
    it_.traced(async () => {
      const { aor, register } = await phoneAtHub(it_, 'max', true);
      expect((await register(300)).status).toBe(200);
      const from = it_.kam.log().length;
      await kamailioSubscribes(it_, aor);
      await it_.kam.waitForLog(/interop: reply 407 .* to SUBSCRIBE from 127\.0\.0\.1:/, 10_000, from);
      expect(await kamailioLookup(it_, aor)).toBeUndefined();
      expect(it_.kam.log().slice(from)).not.toMatch(/interop: in NOTIFY /);
    }),
  );
});
