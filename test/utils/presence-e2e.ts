/**
 * Helpers shared by the presence end-to-end suites (test/e2e/presence-*.e2e-spec.ts): SIP clients on the
 * app's ports, unique presentities, Subscription-State parsing, NOTIFY waiting and polling with deadlines.
 */
import * as path from 'node:path';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from './test-app';
import { createTestDatabase, type TestDatabaseKind } from './test-database';
import {
  SipTestClient,
  randomToken,
  type SipTestClientOptions,
  type SipTestMessage,
  type SipTestTransport,
} from './sip-test-client';
import { validateXml } from './xml-schema';

export const TRANSPORTS = ['udp', 'tcp', 'ws'] as const satisfies readonly SipTestTransport[];

export const PIDF_XSD = path.resolve(__dirname, '..', 'fixtures', 'xsd', 'pidf.xsd');

/** Ports of a server, whether it runs in-process or as a child process. */
export interface ServerPorts {
  readonly udp: number;
  readonly tcp: number;
  readonly http: number;
}

export function portsOf(app: RunningApp): ServerPorts {
  return { udp: app.sipPorts.udp, tcp: app.sipPorts.tcp, http: app.httpPort };
}

/** The app on a fresh database of `kind`, with `env`; `stop` closes the app and drops the database. */
export async function startPresenceApp(
  kind: TestDatabaseKind,
  env: Record<string, string> = {},
): Promise<{ app: RunningApp; ports: ServerPorts; stop(): Promise<void> }> {
  const db = await createTestDatabase(kind);
  const app = await startTestApp(db, env);
  return {
    app,
    ports: portsOf(app),
    stop: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/** Opens a raw SIP client to the server; NOTIFYs are answered 200 unless told otherwise. */
export async function openClient(
  ports: ServerPorts,
  transport: SipTestTransport,
  options: Partial<SipTestClientOptions> = {},
): Promise<SipTestClient> {
  const client = await SipTestClient.open({
    transport,
    host: '127.0.0.1',
    port: transport === 'ws' ? ports.http : transport === 'tcp' ? ports.tcp : ports.udp,
    ...options,
  });
  client.autoAnswer('NOTIFY', 200);
  return client;
}

/** A presentity nobody else uses: `sip:<prefix>-<random>@example.com`. */
export function uniqueAor(prefix = 'bob'): string {
  return `sip:${prefix}-${randomToken(4)}@example.com`;
}

export interface SubscriptionState {
  readonly state: string;
  readonly expires?: number;
  readonly reason?: string;
}

/** Parses `Subscription-State: active;expires=N` / `terminated;reason=R` (RFC 6665 §8.2.3). */
export function subscriptionState(notify: SipTestMessage): SubscriptionState {
  const value = notify.header('subscription-state') ?? '';
  const [state, ...params] = value.split(';').map((p) => p.trim());
  const param = (name: string): string | undefined =>
    params.find((p) => p.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
  const expires = param('expires');
  return {
    state: state.toLowerCase(),
    expires: expires === undefined ? undefined : Number(expires),
    reason: param('reason'),
  };
}

/** Waits for the next NOTIFY of a dialog (by Call-ID), optionally one that matches `pred`. */
export function nextNotify(
  client: SipTestClient,
  callId: string,
  timeoutMs = 5000,
  pred: (m: SipTestMessage) => boolean = () => true,
): Promise<SipTestMessage> {
  return client.waitForRequest((m) => m.method === 'NOTIFY' && m.callId === callId && pred(m), timeoutMs);
}

/** Resolves true when a NOTIFY of the dialog (not a retransmission) arrives within `ms`, false otherwise. */
export async function notifyArrives(client: SipTestClient, callId: string, ms: number): Promise<boolean> {
  try {
    await nextNotify(client, callId, ms);
    return true;
  } catch {
    return false;
  }
}

/** Calls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export { pollUntil as eventually } from './e2e-helpers';

/** Checks a NOTIFY body against the PIDF schema (RFC 3863); throws with libxml2's diagnostics. */
export function expectValidPidf(body: string): void {
  const result = validateXml(body, PIDF_XSD);
  if (!result.ok) throw new Error(`PIDF body does not validate against pidf.xsd: ${result.errors}\n${body}`);
}

/** The `<basic>` values of a PIDF document, in document order. */
export function basics(body: string): string[] {
  return [...body.matchAll(/<(?:\w+:)?basic>\s*(open|closed)\s*<\/(?:\w+:)?basic>/g)].map((m) => m[1]);
}

/** The tuple ids of a PIDF document, in document order. */
export function tupleIds(body: string): string[] {
  return [...body.matchAll(/<(?:\w+:)?tuple\b[^>]*\bid="([^"]*)"/g)].map((m) => m[1]);
}

/** Subscriptions listed by GET /api/subscriptions, or undefined while that endpoint does not exist. */
export async function listedSubscriptions(
  httpPort: number,
  presentity: string,
  event = 'presence',
): Promise<unknown[] | undefined> {
  const url = `http://127.0.0.1:${httpPort}/api/subscriptions?presentity=${encodeURIComponent(presentity)}&event=${event}`;
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /api/subscriptions answered ${res.status}`);
  const json = await res.json();
  if (Array.isArray(json)) return json as unknown[];
  const items =
    (json as { items?: unknown; subscriptions?: unknown }).items ?? (json as { subscriptions?: unknown }).subscriptions;
  if (Array.isArray(items)) return items as unknown[];
  throw new Error(`GET /api/subscriptions: unexpected body ${JSON.stringify(json).slice(0, 200)}`);
}
