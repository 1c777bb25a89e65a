/**
 * Digest helpers for end-to-end tests: a subscriber made over REST, and requests that answer the server's
 * 401/407 challenge the way a phone does, with the shared digest functions of `src/sip`.
 */
import {
  answerChallenge,
  formatCredentials,
  parseChallenge,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestCredentials,
} from '../../src/sip';
import { ApiKeyService } from '../../src/access/api-key.service';
import type { RunningApp } from '../../src/app.factory';
import { api, type ApiResponse } from './e2e-helpers';
import type { HeaderInput, SipTestMessage } from './sip-test-client';

export interface TestUser {
  readonly id: string;
  readonly username: string;
  readonly domain: string;
  readonly password: string;
  readonly aor: string;
}

const adminKeys = new WeakMap<RunningApp, Promise<string>>();

/** An admin API key of `app`, made once: with auth.enabled the REST API needs one. */
export function adminKey(app: RunningApp): Promise<string> {
  let key = adminKeys.get(app);
  if (key === undefined) {
    key = app.app
      .get(ApiKeyService)
      .create({ role: 'admin', label: 'digest tests' })
      .then((k) => k.key);
    adminKeys.set(app, key);
  }
  return key;
}

/** A REST call with an admin key. */
export async function adminApi(app: RunningApp, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  return api(app.httpPort, method, path, body, { authorization: `Bearer ${await adminKey(app)}` });
}

/** Creates a digest user over `/api/subscribers`. */
export async function createUser(
  app: RunningApp,
  username: string,
  domain: string,
  password: string,
): Promise<TestUser> {
  const res = await adminApi(app, 'POST', '/api/subscribers', { username, domain, password });
  if (res.status !== 201) throw new Error(`subscriber ${username}@${domain}: ${res.status} ${res.text}`);
  return { id: res.json.id as string, username, domain, password, aor: `sip:${username}@${domain}` };
}

/** The challenges of a 401/407, in the order sent. */
export function challengesOf(res: SipTestMessage): DigestChallenge[] {
  const name = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
  return (res.headers.get(name) ?? []).map((v) => {
    const ch = parseChallenge(v);
    if (!ch) throw new Error(`unreadable challenge: ${v}`);
    return ch;
  });
}

/** The header carrying credentials that answer `res`'s challenge (SHA-256 unless `algorithm` says otherwise). */
export function answer(
  res: SipTestMessage,
  user: { username: string; password: string },
  method: string,
  uri: string,
  opts: { algorithm?: DigestAlgorithm; nc?: number } = {},
): { header: string; value: string; credentials: DigestCredentials } {
  const ch = challengesOf(res).find((c) => c.algorithm === (opts.algorithm ?? 'SHA-256'));
  if (!ch) throw new Error(`no ${opts.algorithm ?? 'SHA-256'} challenge in ${res.startLine}`);
  const credentials = answerChallenge(ch, {
    username: user.username,
    password: user.password,
    method,
    uri,
    nc: opts.nc,
  });
  const header = res.status === 401 ? 'Authorization' : 'Proxy-Authorization';
  return { header, value: formatCredentials(credentials), credentials };
}

/**
 * Sends a request; when it is challenged, answers once with `user`'s credentials and resolves with the final
 * answer. `send` is called with the extra headers to put in.
 */
export async function withDigest(
  send: (headers: HeaderInput) => Promise<SipTestMessage>,
  user: { username: string; password: string },
  method: string,
  uri: string,
  algorithm: DigestAlgorithm = 'SHA-256',
): Promise<SipTestMessage> {
  const first = await send({});
  if (first.status !== 401 && first.status !== 407) return first;
  const a = answer(first, user, method, uri, { algorithm });
  return send({ [a.header]: a.value });
}
