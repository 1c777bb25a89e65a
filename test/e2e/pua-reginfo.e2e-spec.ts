/**
 * pua_reginfo between two Presence Hub instances on loopback (issue acceptance): A's registrations are
 * PUBLISHed to B and B subscribes to them at A, then both ways at once; contacts appear and disappear on
 * the other side; each side resumes its publications and subscriptions after a restart; repeated REGISTER
 * refreshes cause a bounded number of messages (no loop); bad reginfo in a NOTIFY gets 400 and changes
 * nothing.
 */
import { api, pollUntil } from '../utils/e2e-helpers';
import { Hub } from '../utils/pua-reginfo-e2e';
import { databaseKinds } from '../utils/test-database';
import { SipTestClient, sleep, uriOf } from '../utils/sip-test-client';
import { PUA_REGINFO_OWNER } from '../../src/pua-reginfo/reginfo-publisher.service';

const ALICE = 'sip:alice@example.com';
const BOB = 'sip:bob@example.com';

/** Waits until `probe` gives `expected` (compared as JSON). */
async function until<T>(probe: () => Promise<T>, expected: T, what: string, timeoutMs = 8000): Promise<void> {
  const want = JSON.stringify(expected);
  await pollUntil(
    async () => (JSON.stringify(await probe()) === want ? true : undefined),
    timeoutMs,
    `${what}: expected ${want}`,
  );
}

describe.each(databaseKinds())('pua_reginfo between two instances on %s', (kind) => {
  let a: Hub;
  let b: Hub;
  const phones: SipTestClient[] = [];

  const phone = async (hub: Hub): Promise<SipTestClient> => {
    const p = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: hub.sipPort });
    p.autoAnswer('NOTIFY', 200);
    phones.push(p);
    return p;
  };

  beforeAll(async () => {
    a = await Hub.create('A', kind);
    b = await Hub.create('B', kind);
    await a.start(b);
    await b.start(a);
  });

  afterAll(async () => {
    for (const p of phones) await p.close();
    await a.stop();
    await b.stop();
    await a.db.drop();
    await b.db.drop();
  });

  it('one publishes, the other subscribes: contacts appear and disappear on the other side, across restarts', async () => {
    const pa = await phone(a);
    const contactA = pa.contactUri('alice');
    expect((await pa.register({ aor: ALICE, contact: `<${contactA}>`, expires: 60 })).status).toBe(200);
    // A PUBLISHes alice's reginfo to B: B's reg state shows the contact, B's location does not.
    await until(() => b.regContacts(ALICE), [contactA], 'published to B');
    expect(await b.contacts(ALICE)).toEqual([]);
    expect(a.client.get('publish', PUA_REGINFO_OWNER, ALICE)).toMatchObject({ state: 'active', lastStatus: 200 });

    // B subscribes to alice at A (REST): the NOTIFY puts A's contact into B's location, marked with its origin.
    const created = await api(b.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: ALICE, expires: 120 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ uri: ALICE, expires: 120, state: 'active', lastStatus: 200 });
    await until(() => b.contacts(ALICE), [`${contactA} ${ALICE}`], 'learned by B');
    expect((await api(b.httpPort, 'GET', '/api/reginfo/subscriptions')).text).toContain(created.json.id as string);
    // Learned contacts are not published back: A's location still has only its own contact.
    expect(await a.contacts(ALICE)).toEqual([`${contactA} local`]);
    expect(b.client.list('publish', PUA_REGINFO_OWNER)).toEqual([]);

    // Restart A: it refreshes its publication and keeps notifying B's subscription.
    await a.stop();
    await a.start(b);
    await until(() => Promise.resolve(a.client.get('publish', PUA_REGINFO_OWNER, ALICE)?.state), 'active', 'A resumed');
    const second = await phone(a);
    const contactA2 = second.contactUri('alice2');
    expect((await second.register({ aor: ALICE, contact: `<${contactA2}>`, expires: 60 })).status).toBe(200);
    await until(() => b.contacts(ALICE), [`${contactA} ${ALICE}`, `${contactA2} ${ALICE}`].sort(), 'B after A restart');
    await until(() => b.regContacts(ALICE), [contactA, contactA2].sort(), 'published after A restart');

    // Restart B: its subscription is refreshed in the same dialog and goes on.
    const before = b.client.get('subscribe', PUA_REGINFO_OWNER, ALICE)!;
    await b.stop();
    await b.start(a);
    await until(
      () => Promise.resolve(b.client.get('subscribe', PUA_REGINFO_OWNER, ALICE)?.state),
      'active',
      'B resumed',
    );
    expect(b.client.get('subscribe', PUA_REGINFO_OWNER, ALICE)!.callId).toBe(before.callId);
    // Contacts disappear on the other side when they unregister at A.
    expect((await second.register({ aor: ALICE, contact: `<${contactA2}>`, expires: 0 })).status).toBe(200);
    await until(() => b.contacts(ALICE), [`${contactA} ${ALICE}`], 'unregistered at A');
    expect((await pa.register({ aor: ALICE, contact: `<${contactA}>`, expires: 0 })).status).toBe(200);
    await until(() => b.contacts(ALICE), [], 'all gone at B');
    // The last binding gone, A removed its publication (PUBLISH Expires 0).
    await until(() => b.regContacts(ALICE), [], 'publication removed at B');
    await until(
      () => Promise.resolve(a.client.get('publish', PUA_REGINFO_OWNER, ALICE)),
      undefined,
      'publication forgotten at A',
    );

    const removed = await api(b.httpPort, 'DELETE', `/api/reginfo/subscriptions/${created.json.id as string}`);
    expect(removed.status).toBe(204);
    // Gone once A's terminating NOTIFY came.
    await until(
      async () => (await api(b.httpPort, 'GET', `/api/reginfo/subscriptions/${created.json.id as string}`)).status,
      404,
      'subscription removed',
    );
  });

  it('both ways at once: each learns the other contacts, and REGISTER refreshes cause a bounded number of messages', async () => {
    const pa = await phone(a);
    const pb = await phone(b);
    const ca = pa.contactUri('bob-a');
    const cb = pb.contactUri('bob-b');
    expect((await pa.register({ aor: BOB, contact: `<${ca}>`, expires: 30 })).status).toBe(200);
    expect((await pb.register({ aor: BOB, contact: `<${cb}>`, expires: 30 })).status).toBe(200);
    expect((await api(a.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: BOB })).status).toBe(201);
    expect((await api(b.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: BOB })).status).toBe(201);
    await until(() => a.contacts(BOB), [`${ca} local`, `${cb} ${BOB}`].sort(), 'A learned B');
    await until(() => b.contacts(BOB), [`${ca} ${BOB}`, `${cb} local`].sort(), 'B learned A');

    // Quiet first: nothing moves while nobody registers (a loop would keep the counters running).
    await sleep(1500);
    const quiet = { a: { ...a.counts }, b: { ...b.counts } };
    await sleep(1500);
    expect({ a: a.counts, b: b.counts }).toEqual(quiet);

    // Ten refreshes on each side: each causes a few messages and location changes, not more.
    const start = { a: { ...a.counts }, b: { ...b.counts } };
    const refreshes = 10;
    for (let i = 0; i < refreshes; i++) {
      expect((await pa.register({ aor: BOB, contact: `<${ca}>`, expires: 30 })).status).toBe(200);
      expect((await pb.register({ aor: BOB, contact: `<${cb}>`, expires: 30 })).status).toBe(200);
    }
    await sleep(1500);
    const settled = { a: { ...a.counts }, b: { ...b.counts } };
    await sleep(1500);
    expect({ a: a.counts, b: b.counts }).toEqual(settled);
    for (const side of ['a', 'b'] as const) {
      const d = (k: 'client' | 'applied' | 'location') => settled[side][k] - start[side][k];
      // Per pair of refreshes, on each side: one PUBLISH answered and the NOTIFYs of the other side's reg
      // state (after its REGISTER, its learned refresh and the publication it received): a few, not more.
      expect(d('client')).toBeLessThanOrEqual(5 * refreshes);
      expect(d('applied')).toBeLessThanOrEqual(4 * refreshes);
      expect(d('location')).toBeLessThanOrEqual(3 * refreshes);
      expect(d('location')).toBeGreaterThanOrEqual(refreshes);
    }
    // Still exactly one binding per contact on each side: nothing doubled.
    expect(await a.contacts(BOB)).toEqual([`${ca} local`, `${cb} ${BOB}`].sort());
    expect(await b.contacts(BOB)).toEqual([`${ca} ${BOB}`, `${cb} local`].sort());
  });

  it('publishes again on reginfo_update and when the identities attribute changes', async () => {
    const dave = 'sip:dave@example.com';
    const pa = await phone(a);
    const c = pa.contactUri('dave');
    expect((await pa.register({ aor: dave, contact: `<${c}>`, expires: 60 })).status).toBe(200);
    await until(() => b.regContacts(dave), [c], 'published to B');
    const sent = a.counts.client;
    const update = await api(a.httpPort, 'POST', '/api/reginfo/update', { aor: dave });
    expect(update.status).toBe(200);
    expect(update.json).toEqual({ aor: dave, published: true });
    expect(a.counts.client).toBeGreaterThan(sent);
    expect((await api(a.httpPort, 'POST', '/api/reginfo/update', { aor: 'sip:nobody@example.com' })).json).toEqual({
      aor: 'sip:nobody@example.com',
      published: false,
    });

    const put = await api(a.httpPort, 'PUT', `/api/registrations/${encodeURIComponent(dave)}/attributes/identities`, {
      value: '<sip:dave.alt@example.com>',
    });
    expect(put.status).toBe(200);
    await until(() => b.regAors(dave), ['sip:dave.alt@example.com', dave], 'identities published');
  });

  it('answers bad reginfo in a NOTIFY with 400 and changes nothing', async () => {
    const carol = 'sip:carol@example.com';
    const pa = await phone(a);
    const c = pa.contactUri('carol');
    expect((await pa.register({ aor: carol, contact: `<${c}>`, expires: 60 })).status).toBe(200);
    expect((await api(b.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: carol })).status).toBe(201);
    await until(() => b.contacts(carol), [`${c} ${carol}`], 'learned');
    const rec = b.client.get('subscribe', PUA_REGINFO_OWNER, carol)!;
    const dialog = rec.dialog!;
    const forger = await phone(b);
    const ns = 'urn:ietf:params:xml:ns:reginfo';
    const bodies: [string, string][] = [
      ['<reginfo', 'malformed XML'],
      [`<reginfo xmlns="urn:other" version="9" state="full"/>`, 'namespace'],
      [
        `<reginfo xmlns="${ns}" version="9" state="full"><registration aor="${carol}" id="r" state="active"><contact id="x" state="gone" event="registered"><uri>sip:x@y</uri></contact></registration></reginfo>`,
        'state "gone"',
      ],
      [
        `<reginfo xmlns="${ns}" version="9" state="full"><registration aor="${carol}" id="r" state="active"><contact id="x" state="active" event="teleported"><uri>sip:x@y</uri></contact></registration></reginfo>`,
        'teleported',
      ],
    ];
    let cseq = dialog.remoteSeq + 100;
    for (const [body, fault] of bodies) {
      const res = await forger.request({
        method: 'NOTIFY',
        uri: uriOf(rec.options.contact ?? b.serverAddress),
        callId: dialog.callId,
        fromTag: dialog.remoteTag,
        cseq: cseq++,
        from: ALICE,
        headers: {
          To: `<${rec.from}>;tag=${dialog.localTag}`,
          Event: 'reg',
          'Subscription-State': 'active;expires=60',
          'Content-Type': 'application/reginfo+xml',
        },
        body,
      });
      expect(res.status).toBe(400);
      expect(res.reason).toContain(fault);
    }
    expect(await b.contacts(carol)).toEqual([`${c} ${carol}`]);
    expect(b.client.get('subscribe', PUA_REGINFO_OWNER, carol)?.state).toBe('active');
  });

  it('refuses bad input on the REST API with the field named', async () => {
    const bad = await api(b.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: 'mailto:x@y' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('uri');
    const badExpires = await api(b.httpPort, 'POST', '/api/reginfo/subscriptions', { uri: ALICE, expires: 'soon' });
    expect(badExpires.status).toBe(400);
    expect(badExpires.json.message).toContain('expires');
    const update = await api(a.httpPort, 'POST', '/api/reginfo/update', { aor: 'not an aor' });
    expect(update.status).toBe(400);
    expect((await api(b.httpPort, 'DELETE', '/api/reginfo/subscriptions/nope')).status).toBe(404);
  });
});
