/**
 * Issue 4, point 5: publications and subscriptions survive a kill -9. After the restart a UDP watcher gets
 * its next NOTIFY in the same dialog with a higher CSeq without re-subscribing, a pre-restart SIP-ETag still
 * works, and what expired while the server was down is terminated (subscriptions) or removed (publications).
 */
import { pidf, type SipTestClient } from '../utils/sip-test-client';
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  basics,
  expectValidPidf,
  nextNotify,
  openClient,
  subscriptionState,
  tupleIds,
  uniqueAor,
  type ServerPorts,
} from '../utils/presence-e2e';

/** Short expiries allowed so that a subscription and a publication can expire while the server is down. */
const ENV = { PA_MIN_EXPIRES: '1', PA_PUBLISH_MIN_EXPIRES: '1', PA_TIMER_INTERVAL: '1' };

describe.each(databaseKinds())('presence across kill -9 on %s', (kind) => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let watcher: SipTestClient | undefined;
  let publisher: SipTestClient | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await watcher?.close();
    await publisher?.close();
    await server?.kill();
    await db.drop();
  });

  it('keeps dialogs, CSeq, ETags and expiries across a kill -9 restart', async () => {
    const sipPort = await freePort();
    const httpPort = await freePort();
    const ports: ServerPorts = { udp: sipPort, tcp: sipPort, http: httpPort };
    server = await spawnServer(db, { sipPort, httpPort }, ENV);
    watcher = await openClient(ports, 'udp');
    publisher = await openClient(ports, 'udp');

    // A long subscription, and a publication it is told about.
    const alice = uniqueAor('alice');
    const long = await watcher.subscribe({ uri: alice, event: 'presence', expires: 3600 });
    expect(long.response.status).toBe(200);
    const serverTag = long.response.toTag;
    expect(serverTag).toBeTruthy();
    await nextNotify(watcher, long.dialog.callId);
    const initial = await publisher.publish({
      uri: alice,
      event: 'presence',
      expires: 3600,
      body: pidf(alice, 'open', 'before the crash', 'desk'),
    });
    expect(initial.status).toBe(200);
    const etag = initial.header('sip-etag')!;
    const before = await nextNotify(watcher, long.dialog.callId, 5000, (m) => m.body.includes('before the crash'));
    const c1 = before.cseq!.seq;

    // A publication and a subscription that both expire while the server is down.
    const erin = uniqueAor('erin');
    const erinSub = await watcher.subscribe({ uri: erin, event: 'presence', expires: 3600 });
    await nextNotify(watcher, erinSub.dialog.callId);
    const shortPub = await publisher.publish({
      uri: erin,
      event: 'presence',
      expires: 2,
      body: pidf(erin, 'open', 'short lived'),
    });
    expect(shortPub.status).toBe(200);
    await nextNotify(watcher, erinSub.dialog.callId, 5000, (m) => m.body.includes('short lived'));
    const short = await watcher.subscribe({ uri: uniqueAor('frank'), event: 'presence', expires: 2 });
    expect(short.response.status).toBe(200);
    expect(Number(short.response.header('expires'))).toBe(2);
    await nextNotify(watcher, short.dialog.callId);

    await server.kill('SIGKILL');
    const killedAt = Date.now();
    server = await spawnServer(db, { sipPort, httpPort }, ENV);

    // What expired meanwhile: NOTIFY terminated;reason=timeout, and the publication gone from the state.
    const ended = await nextNotify(watcher, short.dialog.callId, 10_000);
    expect(subscriptionState(ended)).toMatchObject({ state: 'terminated', reason: 'timeout' });
    expect(ended.fromTag).toBe(short.response.toTag);
    expect(ended.receivedAt).toBeGreaterThanOrEqual(killedAt);
    const erinClosed = await nextNotify(watcher, erinSub.dialog.callId, 10_000);
    expect(erinClosed.body).not.toContain('short lived');
    expect(basics(erinClosed.body)).toEqual(['closed']);

    // The pre-restart ETag still works: modify, and the watcher hears it in the same dialog.
    const modify = await publisher.publish({
      uri: alice,
      event: 'presence',
      expires: 3600,
      ifMatch: etag,
      body: pidf(alice, 'closed', 'after the crash', 'desk'),
    });
    expect(modify.status).toBe(200);
    expect(modify.header('sip-etag')).not.toBe(etag);
    const after = await nextNotify(watcher, long.dialog.callId, 5000, (m) => m.body.includes('after the crash'));
    expect(after.callId).toBe(long.dialog.callId);
    expect(after.fromTag).toBe(serverTag);
    expect(after.toTag).toBe(long.dialog.fromTag);
    expect(after.cseq!.seq).toBeGreaterThan(c1);
    expect(subscriptionState(after).state).toBe('active');
    expect(subscriptionState(after).expires).toBeLessThanOrEqual(3600);
    expectValidPidf(after.body);

    // A new initial publication after the restart is composed with the surviving one.
    const phone = await publisher.publish({
      uri: alice,
      event: 'presence',
      expires: 3600,
      body: pidf(alice, 'open', 'new phone', 'phone'),
    });
    expect(phone.status).toBe(200);
    const both = await nextNotify(watcher, long.dialog.callId, 5000, (m) => m.body.includes('new phone'));
    expect([...tupleIds(both.body)].sort()).toEqual(['desk', 'phone']);
    expect(both.cseq!.seq).toBeGreaterThan(after.cseq!.seq);

    // The dialog itself is known to the restarted server: an in-dialog refresh gets 200 and a NOTIFY.
    const refresh = await watcher.inDialog(long.dialog, 'SUBSCRIBE', { Event: 'presence', Expires: 3600 });
    expect(refresh.status).toBe(200);
    const refreshed = await nextNotify(watcher, long.dialog.callId);
    expect(refreshed.cseq!.seq).toBeGreaterThan(both.cseq!.seq);
  }, 150_000);
});
