/**
 * What the presence core offers every event package, over real SIP: Event header parameters reach the
 * package (validated, stored with the dialog, used to choose the document), bodies rendered per watcher with
 * a per-subscription package state that survives a restart, and the contact events that caused a NOTIFY.
 * The package is a test package registered into the running app (test/utils/versioned-package.ts).
 */
import type { RunningApp } from '../../src/app.factory';
import { EventPackageRegistry } from '../../src/pa/core/event-package.registry';
import type { SipTestClient } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { versionedPackage } from '../utils/versioned-package';
import { nextNotify, openClient, portsOf, uniqueAor } from '../utils/presence-e2e';

describe.each(databaseKinds())('event package core over SIP on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp | undefined;
  const clients: SipTestClient[] = [];

  async function start(): Promise<RunningApp> {
    const running = await startTestApp(db);
    running.app.get(EventPackageRegistry).add(versionedPackage());
    return running;
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    await app?.close();
    await db.drop();
  });

  it('hands Event parameters, change details and package state to the package, across a restart', async () => {
    app = await start();
    const watcher = await openClient(portsOf(app), 'udp');
    const phone = await openClient(portsOf(app), 'udp');
    clients.push(watcher, phone);
    const aor = uniqueAor('versioned');

    const bad = await watcher.request({ method: 'SUBSCRIBE', uri: aor, headers: { Event: 'versioned;view=every' } });
    expect(bad.status).toBe(400);
    expect(bad.reason).toContain('view');

    const { response, dialog } = await watcher.subscribe({ uri: aor, event: 'versioned;id=7;view=mine', expires: 600 });
    expect(response.status).toBe(200);
    const first = await nextNotify(watcher, dialog.callId);
    expect(first.header('event')).toBe('versioned;id=7');
    expect(first.body).toBe('v0 mine full:');

    const contact = `<${phone.contactUri('versioned')}>`;
    expect((await phone.register({ aor, contact, expires: 300 })).status).toBe(200);
    const created = await nextNotify(watcher, dialog.callId);
    expect(created.body).toMatch(/^v1 mine partial:[^/,]+\/created$/);
    const contactId = created.body.split(':')[1].split('/')[0];

    await app.close();
    app = await start();
    const phoneAgain = await openClient(portsOf(app), 'udp');
    clients.push(phoneAgain);
    // The same contact registered again from a new client port is a refresh of the stored binding's AoR.
    expect(
      (await phoneAgain.register({ aor, contact: `<${phone.contactUri('versioned')}>`, expires: 300 })).status,
    ).toBe(200);
    const after = await nextNotify(watcher, dialog.callId);
    expect(after.body).toBe(`v2 mine partial:${contactId}/refreshed`);
  });
});
