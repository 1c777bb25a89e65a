/**
 * Helpers of the `ua-profile` (RFC 6080) end-to-end suites: REST uploads of raw documents, byte-exact reads,
 * and SUBSCRIBE with the RFC's Event parameters.
 */
import type { RunningApp } from '../../src/app.factory';
import { nextNotify, openClient, startPresenceApp } from './presence-e2e';
import type {
  SipTestClient,
  SipTestClientOptions,
  SipTestDialog,
  SipTestMessage,
  SipTestTransport,
} from './sip-test-client';
import type { TestDatabaseKind } from './test-database';
import { WsClient } from './ws-test-client';

/** The app on a fresh database, with the SIP clients and browser sockets a suite opens closed with it. */
export interface ProfileTestApp {
  readonly app: RunningApp;
  readonly httpPort: number;
  client(transport?: SipTestTransport, options?: Partial<SipTestClientOptions>): Promise<SipTestClient>;
  socket(): Promise<WsClient>;
  close(): Promise<void>;
}

export async function startProfileApp(
  kind: TestDatabaseKind,
  env: Record<string, string> = {},
): Promise<ProfileTestApp> {
  const { app, ports, stop } = await startPresenceApp(kind, env);
  const clients: SipTestClient[] = [];
  const sockets: WsClient[] = [];
  return {
    app,
    httpPort: app.httpPort,
    async client(transport = 'udp', options = {}) {
      const c = await openClient(ports, transport, options);
      clients.push(c);
      return c;
    },
    async socket() {
      const s = await WsClient.open(app.httpPort);
      sockets.push(s);
      return s;
    },
    async close() {
      for (const s of sockets) await s.close();
      for (const c of clients) await c.close();
      await stop();
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
  /** The body as JSON when it is JSON, else `{}`. */
  readonly json: Record<string, unknown>;
}

/** Any HTTP request with raw bytes in and out. */
export async function http(
  httpPort: number,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const res = await fetch(path.startsWith('http') ? path : `http://127.0.0.1:${httpPort}${path}`, {
    method,
    headers,
    ...(body !== undefined && { body }),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: Record<string, unknown> = {};
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      // a JSON document that is not an object: the caller reads the bytes
    }
  }
  return { status: res.status, headers: res.headers, bytes, json };
}

/** Query parameters that target devices (RFC 6080 §6.2) and `effectiveBy`. */
export type ProfileQuery = Partial<
  Record<'profileType' | 'vendor' | 'model' | 'version' | 'appids' | 'effectiveBy', string>
>;

/** `/api/profiles/<aor>?<query>` with the AoR url-encoded. */
export function profilePath(aor: string, query: ProfileQuery = {}): string {
  const q = new URLSearchParams(query as Record<string, string>).toString();
  return `/api/profiles/${encodeURIComponent(aor)}${q ? `?${q}` : ''}`;
}

/** PUT of a raw document. */
export function upload(
  httpPort: number,
  aor: string,
  body: Buffer | string,
  contentType: string,
  query: ProfileQuery = {},
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return http(httpPort, 'PUT', profilePath(aor, query), body, { 'content-type': contentType, ...headers });
}

/** The entity tag of an ETag header, without quotes. */
export function etagOf(res: RawResponse): string {
  return (res.headers.get('etag') ?? '').replace(/^"|"$/g, '');
}

/** An Event header value: `ua-profile;profile-type=...;vendor="..."`. */
export function profileEvent(params: Record<string, string>): string {
  return ['ua-profile', ...Object.entries(params).map(([k, v]) => `${k}=${k === 'profile-type' ? v : `"${v}"`}`)].join(
    ';',
  );
}

/** SUBSCRIBE Event: ua-profile from the AoR itself; resolves with the response, the dialog and the first NOTIFY. */
export async function subscribeProfile(
  client: SipTestClient,
  aor: string,
  params: Record<string, string>,
  opts: { accept?: string | string[]; from?: string; expires?: number } = {},
): Promise<{ response: SipTestMessage; dialog: SipTestDialog; notify?: SipTestMessage }> {
  const { response, dialog } = await client.subscribe({
    uri: aor,
    event: profileEvent(params),
    from: opts.from ?? aor,
    expires: opts.expires ?? 600,
    ...(opts.accept !== undefined && { accept: opts.accept }),
  });
  if (response.status !== 200) return { response, dialog };
  const notify = await nextNotify(client, dialog.callId, 10_000);
  return { response, dialog, notify };
}

/** A deterministic binary document of `size` bytes: every byte value, NUL and invalid UTF-8 included. */
export function binaryDocument(size: number, seed = 7): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = i < 256 ? i : x & 0xff;
  }
  return b;
}
