/**
 * The browser client our users run, sip.js 0.21, registering over our SIP-over-WebSocket transport
 * (RFC 7118, ws://host:HTTP_PORT/sip): its UserAgent and Registerer against the whole app.
 */
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import { api, pollUntil, registrationPath } from '../utils/e2e-helpers';

interface ContactJson {
  id: string;
  uri: string;
  expires: number;
  cseq: number;
  source: { protocol: string; address: string };
}

// sip.js opens its transport with the global WebSocket, which Node 20 lacks.
(globalThis as unknown as { WebSocket: unknown }).WebSocket = WebSocket;

/** Resolves when the registerer reaches `state`, rejects after `timeoutMs`. */
function reachState(registerer: Registerer, state: RegistererState, timeoutMs = 5000): Promise<void> {
  if (registerer.state === state) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const listener = (s: RegistererState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      registerer.stateChange.removeListener(listener);
      resolve();
    };
    const timer = setTimeout(() => {
      registerer.stateChange.removeListener(listener);
      reject(new Error(`registerer still ${registerer.state}, not ${state}, after ${timeoutMs} ms`));
    }, timeoutMs);
    registerer.stateChange.addListener(listener);
  });
}

describe.each(databaseKinds())('sip.js UserAgent + Registerer over WS on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db);
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  async function contactsOf(aor: string): Promise<ContactJson[] | undefined> {
    const res = await api(app.httpPort, 'GET', registrationPath(aor));
    if (res.status === 404) return undefined;
    expect(res.status).toBe(200);
    return (res.json as { contacts: ContactJson[] }).contacts;
  }

  it('registers, refreshes and unregisters; REST shows the .invalid contact on a ws source', async () => {
    const aor = 'sip:dave@example.com';
    const uri = UserAgent.makeURI(aor);
    if (uri === undefined) throw new Error('makeURI failed');
    const ua = new UserAgent({
      uri,
      transportOptions: { server: `ws://127.0.0.1:${app.httpPort}/sip` },
      logLevel: 'error',
    });
    await ua.start();
    try {
      const accepted: number[] = [];
      const rejected: string[] = [];
      const registerer = new Registerer(ua, { expires: 300 });
      const register = async (): Promise<void> => {
        await registerer.register({
          requestDelegate: {
            onAccept: (res) => accepted.push(res.message.statusCode ?? 0),
            onReject: (res) => rejected.push(`${res.message.statusCode ?? '?'} ${res.message.reasonPhrase ?? ''}`),
          },
        });
      };

      await register();
      await reachState(registerer, RegistererState.Registered);
      expect(rejected).toEqual([]);
      expect(accepted).toEqual([200]);

      const contacts = await contactsOf(aor);
      expect(contacts).toHaveLength(1);
      const contact = contacts![0];
      const host = /^sips?:[^@]+@([^:;>]+)/.exec(contact.uri)?.[1] ?? '';
      expect(host).toMatch(/\.invalid$/);
      expect(contact.uri).toMatch(/;transport=ws\b/i);
      expect(contact.source.protocol).toBe('ws');
      expect(contact.source.address).toBe('127.0.0.1');
      expect(contact.expires).toBeGreaterThan(290);
      expect(contact.expires).toBeLessThanOrEqual(300);

      // A second REGISTER from the same UA refreshes the same binding (same Call-ID, next CSeq).
      await register();
      await pollUntil(
        () => Promise.resolve(accepted.length + rejected.length === 2 ? true : undefined),
        5000,
        'refresh answered',
      );
      expect(rejected).toEqual([]);
      expect(accepted).toEqual([200, 200]);
      const refreshed = await contactsOf(aor);
      expect(refreshed).toHaveLength(1);
      expect(refreshed![0].id).toBe(contact.id);
      expect(refreshed![0].cseq).toBeGreaterThan(contact.cseq);

      await registerer.unregister();
      await reachState(registerer, RegistererState.Unregistered);
      expect(await contactsOf(aor)).toBeUndefined();
      await registerer.dispose();
    } finally {
      await ua.stop();
    }
  });

  it('two sip.js UAs of one AoR hold two bindings; each unregisters only its own', async () => {
    const aor = 'sip:erin@example.com';
    const start = async (): Promise<{ ua: UserAgent; registerer: Registerer }> => {
      const ua = new UserAgent({
        uri: UserAgent.makeURI(aor)!,
        transportOptions: { server: `ws://127.0.0.1:${app.httpPort}/sip` },
        logLevel: 'error',
      });
      await ua.start();
      const registerer = new Registerer(ua, { expires: 300 });
      await registerer.register();
      await reachState(registerer, RegistererState.Registered);
      return { ua, registerer };
    };
    const first = await start();
    const second = await start();
    try {
      const both = await contactsOf(aor);
      expect(both).toHaveLength(2);
      expect(new Set(both!.map((c) => c.uri)).size).toBe(2);

      await first.registerer.unregister();
      await reachState(first.registerer, RegistererState.Unregistered);
      const left = await contactsOf(aor);
      expect(left).toHaveLength(1);
      const host = (ua: UserAgent): string => ua.contact.uri.host;
      expect(left![0].uri).toContain(host(second.ua));
      expect(left![0].uri).not.toContain(host(first.ua));
      await second.registerer.unregister();
      await reachState(second.registerer, RegistererState.Unregistered);
      expect(await contactsOf(aor)).toBeUndefined();
    } finally {
      await first.ua.stop();
      await second.ua.stop();
    }
  });
});
