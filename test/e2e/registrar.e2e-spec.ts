/**
 * Registrar end to end (RFC 3261 §10.3): REGISTER over UDP, TCP and WebSocket against the whole app and a
 * real database, checked both in the SIP answers and through the REST API.
 */
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';
import {
  randomToken,
  SipTestClient,
  uriOf,
  type SipTestMessage,
  type SipTestTransport,
} from '../utils/sip-test-client';
import { api, pollUntil, registrationPath, type ApiResponse } from '../utils/e2e-helpers';

const TRANSPORTS: SipTestTransport[] = ['udp', 'tcp', 'ws'];

interface ContactJson {
  id: string;
  uri: string;
  expires: number;
  q?: number;
  instance?: string;
  regId?: number;
  path: string[];
  cseq: number;
  callId: string;
  source: { protocol: string; address: string; port: number };
}

/** Contacts of a 200 to REGISTER: URI → expires parameter (and the raw value). */
function contactsOf(res: SipTestMessage): Map<string, { expires: number | undefined; raw: string }> {
  const out = new Map<string, { expires: number | undefined; raw: string }>();
  for (const v of res.headerValues('contact')) {
    const e = contactParam(v, 'expires');
    out.set(uriOf(v), { expires: e === undefined ? undefined : Number(e), raw: v });
  }
  return out;
}

/**
 * A parameter of a Contact value (the client's `headerParam` looks after the last `>`, which a quoted
 * `+sip.instance="<urn:...>"` moves past the other parameters).
 */
function contactParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const close = value.startsWith('<') ? value.indexOf('>') : -1;
  const params = value.slice(close + 1);
  const re = /;\s*([^=;\s]+)\s*(?:=\s*("[^"]*"|[^;\s]*))?/g;
  for (let m = re.exec(params); m; m = re.exec(params)) {
    if (m[1].toLowerCase() !== name.toLowerCase()) continue;
    const v = m[2] ?? '';
    return v.startsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

async function openClient(app: RunningApp, transport: SipTestTransport): Promise<SipTestClient> {
  const port = transport === 'ws' ? app.httpPort : app.sipPorts[transport];
  return SipTestClient.open({ transport, host: '127.0.0.1', port, path: '/sip', timerF: 8000 });
}

async function restContacts(app: RunningApp, aor: string): Promise<ContactJson[]> {
  const res = await api(app.httpPort, 'GET', registrationPath(aor));
  if (res.status === 404) return [];
  expect(res.status).toBe(200);
  return (res.json as { contacts: ContactJson[] }).contacts;
}

describe.each(databaseKinds())('registrar on %s', (kind) => {
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

  describe.each(TRANSPORTS)('REGISTER over %s', (transport) => {
    let client: SipTestClient;

    beforeAll(async () => {
      client = await openClient(app, transport);
    });

    afterAll(async () => {
      await client.close();
    });

    const newAor = (name: string): string => `sip:${name}-${transport}-${randomToken(3)}@example.com`;

    it('adds a binding: the 200 lists it with its expires, REST shows it with its source', async () => {
      const aor = newAor('alice');
      const contact = client.contactUri('alice');
      const res = await client.register({ aor, contact: `<${contact}>`, expires: 600 });
      expect(res.status).toBe(200);
      const listed = contactsOf(res);
      expect([...listed.keys()]).toEqual([contact]);
      expect(listed.get(contact)?.expires).toBeGreaterThanOrEqual(599);
      expect(listed.get(contact)?.expires).toBeLessThanOrEqual(600);

      const rest = await restContacts(app, aor);
      expect(rest).toHaveLength(1);
      expect(rest[0].uri).toBe(contact);
      expect(rest[0].expires).toBeGreaterThan(590);
      expect(rest[0].source.protocol).toBe(transport);
      expect(rest[0].source.address).toBe('127.0.0.1');
      expect(rest[0].source.port).toBe(client.localPort);
    });

    it('refreshes: same contact, higher CSeq keeps one binding with the new expiry', async () => {
      const aor = newAor('refresh');
      const contact = client.contactUri('refresh');
      expect((await client.register({ aor, contact: `<${contact}>`, expires: 300 })).status).toBe(200);
      const before = await restContacts(app, aor);
      const res = await client.register({ aor, contact: `<${contact}>`, expires: 1800 });
      expect(res.status).toBe(200);
      const listed = contactsOf(res);
      expect(listed.size).toBe(1);
      expect(listed.get(contact)?.expires).toBeGreaterThan(1790);

      const after = await restContacts(app, aor);
      expect(after).toHaveLength(1);
      expect(after[0].id).toBe(before[0].id);
      expect(after[0].cseq).toBe(before[0].cseq + 1);
      expect(after[0].expires).toBeGreaterThan(1790);
    });

    it('adds a second contact, removes one with ;expires=0 and one with Expires: 0', async () => {
      const aor = newAor('multi');
      const c1 = client.contactUri('multi');
      const c2 = 'sip:multi@192.0.2.20:5070';
      const c3 = 'sip:multi@192.0.2.21:5071';
      expect((await client.register({ aor, contact: `<${c1}>`, expires: 600 })).status).toBe(200);
      const both = await client.register({ aor, contact: `<${c2}>`, expires: 900 });
      expect(both.status).toBe(200);
      expect(new Set(contactsOf(both).keys())).toEqual(new Set([c1, c2]));
      expect(contactsOf(both).get(c2)?.expires).toBeGreaterThan(890);
      expect(contactsOf(both).get(c1)?.expires).toBeLessThanOrEqual(600);

      const removed = await client.register({ aor, contact: `<${c2}>;expires=0` });
      expect(removed.status).toBe(200);
      expect([...contactsOf(removed).keys()]).toEqual([c1]);

      expect((await client.register({ aor, contact: `<${c3}>`, expires: 600 })).status).toBe(200);
      const removedByHeader = await client.register({ aor, contact: `<${c3}>`, expires: 0 });
      expect(removedByHeader.status).toBe(200);
      expect([...contactsOf(removedByHeader).keys()]).toEqual([c1]);
      expect((await restContacts(app, aor)).map((c) => c.uri)).toEqual([c1]);
    });

    it('queries the bindings with a REGISTER without Contact', async () => {
      const aor = newAor('query');
      const c1 = client.contactUri('query');
      const c2 = 'sip:query@192.0.2.30:5080';
      expect((await client.register({ aor, contact: `<${c1}>, <${c2}>`, expires: 700 })).status).toBe(200);
      const res = await client.register({ aor, headers: { Contact: [] } });
      expect(res.status).toBe(200);
      const listed = contactsOf(res);
      expect(new Set(listed.keys())).toEqual(new Set([c1, c2]));
      for (const c of listed.values()) expect(c.expires).toBeGreaterThan(690);
      expect(await restContacts(app, aor)).toHaveLength(2);
    });

    it('refuses Contact: * without Expires: 0 (400), and removes every binding with it', async () => {
      const aor = newAor('star');
      const c1 = client.contactUri('star');
      const c2 = 'sip:star@192.0.2.40:5090';
      expect((await client.register({ aor, contact: `<${c1}>, <${c2}>`, expires: 600 })).status).toBe(200);

      const bad = await client.register({ aor, contact: '*', expires: 600 });
      expect(bad.status).toBe(400);
      const noExpires = await client.register({ aor, contact: '*' });
      expect(noExpires.status).toBe(400);
      expect(await restContacts(app, aor)).toHaveLength(2);

      const res = await client.register({ aor, contact: '*', expires: 0 });
      expect(res.status).toBe(200);
      expect(res.headerValues('contact')).toEqual([]);
      const gone = await api(app.httpPort, 'GET', registrationPath(aor));
      expect(gone.status).toBe(404);
    });

    it('answers 423 with Min-Expires to a too brief expiry, and stores nothing', async () => {
      const aor = newAor('brief');
      const res = await client.register({ aor, contact: `<${client.contactUri('brief')}>`, expires: 30 });
      expect(res.status).toBe(423);
      expect(res.header('min-expires')).toBe('60');
      const param = await client.register({ aor, contact: `<${client.contactUri('brief')}>;expires=59` });
      expect(param.status).toBe(423);
      expect(param.header('min-expires')).toBe('60');
      expect((await api(app.httpPort, 'GET', registrationPath(aor))).status).toBe(404);
    });

    it('refuses a REGISTER with the same Call-ID and a lower or equal CSeq', async () => {
      const aor = newAor('order');
      const contact = client.contactUri('order');
      const callId = `${randomToken(8)}@order`;
      const fromTag = randomToken(4);
      const send = (cseq: number, expires: number): Promise<SipTestMessage> =>
        client.request({
          method: 'REGISTER',
          uri: 'sip:example.com',
          from: aor,
          to: aor,
          callId,
          fromTag,
          cseq,
          headers: { Contact: `<${contact}>`, Expires: expires },
        });
      expect((await send(10, 600)).status).toBe(200);
      const older = await send(9, 1200);
      // RFC 3261 §10.3 step 7: 500 (Server Internal Error) for a lower CSeq of the same Call-ID.
      expect(older.status).toBe(500);
      const replay = await send(10, 1200);
      expect(replay.status).toBe(500);
      const rest = await restContacts(app, aor);
      expect(rest).toHaveLength(1);
      expect(rest[0].cseq).toBe(10);
      expect(rest[0].expires).toBeLessThanOrEqual(600);
      expect((await send(11, 1200)).status).toBe(200);
      expect((await restContacts(app, aor))[0].cseq).toBe(11);
    });

    it('keeps q, +sip.instance and reg-id', async () => {
      const aor = newAor('outbound');
      const contact = client.contactUri('outbound');
      const instance = `<urn:uuid:${crypto.randomUUID()}>`;
      const res = await client.register({
        aor,
        contact: `<${contact}>;q=0.7;+sip.instance="${instance}";reg-id=1`,
        expires: 600,
        headers: { Supported: 'outbound, path' },
      });
      expect(res.status).toBe(200);
      const listed = contactsOf(res).get(contact);
      expect(listed).toBeDefined();
      expect(contactParam(listed?.raw, 'q')).toBe('0.7');
      expect(contactParam(listed?.raw, '+sip.instance')).toBe(instance);
      expect(contactParam(listed?.raw, 'reg-id')).toBe('1');

      const rest = await restContacts(app, aor);
      expect(rest).toHaveLength(1);
      expect(rest[0].q).toBe(0.7);
      expect(rest[0].instance).toBe(instance);
      expect(rest[0].regId).toBe(1);
    });

    it('stores Path when the UA supports path, and echoes it in the 200', async () => {
      const aor = newAor('path');
      const contact = client.contactUri('path');
      const path = ['<sip:edge1.example.net;lr>', '<sip:edge2.example.net;lr>'];
      const res = await client.register({
        aor,
        contact: `<${contact}>`,
        expires: 600,
        headers: { Supported: 'path', Path: path },
      });
      expect(res.status).toBe(200);
      expect(res.headerValues('path')).toEqual(path);
      const rest = await restContacts(app, aor);
      expect(rest[0].path).toEqual(path);
    });
  });

  describe('REST /api/registrations', () => {
    let client: SipTestClient;
    const aors = ['sip:page-a@example.com', 'sip:page-b@example.com', 'sip:page-c@example.com'];

    beforeAll(async () => {
      client = await openClient(app, 'udp');
      for (const aor of aors) {
        const res = await client.register({ aor, contact: `<sip:${aor.slice(4, 10)}@192.0.2.50:5060>`, expires: 600 });
        expect(res.status).toBe(200);
      }
    });

    afterAll(async () => {
      await client.close();
    });

    it('lists registrations page by page with page, limit and total', async () => {
      // Closing the WebSocket clients of earlier tests removes their bindings (RFC 7118 §5) just after:
      // page through the listing once it no longer changes.
      let last = -1;
      await pollUntil(
        async () => {
          const t = ((await api(app.httpPort, 'GET', '/api/registrations?limit=1')).json as { total: number }).total;
          const stable = t === last;
          last = t;
          return stable ? true : undefined;
        },
        5000,
        'the registrations listing settles',
        300,
      );
      const all = await api(app.httpPort, 'GET', '/api/registrations?limit=500');
      expect(all.status).toBe(200);
      const total = (all.json as { total: number }).total;
      expect(total).toBeGreaterThanOrEqual(aors.length);
      const listed = (all.json as { items: { aor: string }[] }).items.map((i) => i.aor);
      for (const aor of aors) expect(listed).toContain(aor);

      const seen: string[] = [];
      for (let page = 1; page <= Math.ceil(total / 2); page++) {
        const res = await api(app.httpPort, 'GET', `/api/registrations?page=${page}&limit=2`);
        expect(res.status).toBe(200);
        const body = res.json as {
          items: { aor: string; contacts: unknown[] }[];
          total: number;
          page: number;
          limit: number;
        };
        expect(body.page).toBe(page);
        expect(body.limit).toBe(2);
        expect(body.total).toBe(total);
        expect(body.items.length).toBeLessThanOrEqual(2);
        for (const item of body.items) expect(item.contacts.length).toBeGreaterThan(0);
        seen.push(...body.items.map((i) => i.aor));
      }
      expect(new Set(seen).size).toBe(total);
      const beyond = await api(app.httpPort, 'GET', `/api/registrations?page=${total + 1}&limit=1`);
      expect(beyond.status).toBe(200);
      expect((beyond.json as { items: unknown[] }).items).toEqual([]);
    });

    it('reads one AoR, url-encoded, and 404s an unknown one', async () => {
      const res = await api(app.httpPort, 'GET', registrationPath('sip:page-a@example.com'));
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ aor: 'sip:page-a@example.com', domain: 'location' });
      const missing = await api(app.httpPort, 'GET', registrationPath('sip:nobody@example.com'));
      expect(missing.status).toBe(404);
      expect(missing.json).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    it('deletes one contact: 204, then it is gone; an unknown id is 404', async () => {
      const aor = 'sip:deleteme@example.com';
      const c1 = 'sip:deleteme@192.0.2.60:5060';
      const c2 = 'sip:deleteme@192.0.2.61:5060';
      expect((await client.register({ aor, contact: `<${c1}>, <${c2}>`, expires: 600 })).status).toBe(200);
      const contacts = await restContacts(app, aor);
      const target = contacts.find((c) => c.uri === c2);
      expect(target).toBeDefined();
      const del = await api(app.httpPort, 'DELETE', `${registrationPath(aor)}/contacts/${target!.id}`);
      expect(del.status).toBe(204);
      expect((await restContacts(app, aor)).map((c) => c.uri)).toEqual([c1]);
      // The registrar agrees: a query lists only the remaining contact.
      const query = await client.register({ aor, headers: { Contact: [] } });
      expect([...contactsOf(query).keys()]).toEqual([c1]);
      const again = await api(app.httpPort, 'DELETE', `${registrationPath(aor)}/contacts/${target!.id}`);
      expect(again.status).toBe(404);
      expect(again.json).toMatchObject({ statusCode: 404, error: 'Not Found' });
    });

    it('sets and reads per-AoR attributes', async () => {
      const path = `${registrationPath('sip:page-a@example.com')}/attributes/identities`;
      const put = await api(app.httpPort, 'PUT', path, { value: 'x' });
      expect(put.status).toBe(200);
      expect(put.json).toEqual({ aor: 'sip:page-a@example.com', key: 'identities', value: 'x' });
      const get = await api(app.httpPort, 'GET', path);
      expect(get.status).toBe(200);
      expect(get.json).toEqual({ aor: 'sip:page-a@example.com', key: 'identities', value: 'x' });
      expect((await api(app.httpPort, 'PUT', path, { value: 'y' })).status).toBe(200);
      expect((await api(app.httpPort, 'GET', path)).json).toMatchObject({ value: 'y' });
      const missing = await api(app.httpPort, 'GET', `${registrationPath('sip:page-a@example.com')}/attributes/nope`);
      expect(missing.status).toBe(404);
    });

    it('answers bad input with JSON errors naming the field', async () => {
      const expectError = (res: ApiResponse, field: string): void => {
        expect(res.status).toBe(400);
        expect(res.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(typeof res.json.message).toBe('string');
        expect(String(res.json.message)).toContain(field);
      };
      expectError(await api(app.httpPort, 'GET', registrationPath('not an aor')), 'aor');
      expectError(await api(app.httpPort, 'GET', '/api/registrations?page=0'), 'page');
      expectError(await api(app.httpPort, 'GET', '/api/registrations?page=abc'), 'page');
      expectError(await api(app.httpPort, 'GET', '/api/registrations?limit=100000'), 'limit');
      const attr = `${registrationPath('sip:page-a@example.com')}/attributes/k1`;
      expectError(await api(app.httpPort, 'PUT', attr, {}), 'value');
      expectError(await api(app.httpPort, 'PUT', attr, { value: 5 }), 'value');
      expectError(
        await api(app.httpPort, 'PUT', `${registrationPath('bad aor')}/attributes/k1`, { value: 'x' }),
        'aor',
      );
      expectError(
        await api(app.httpPort, 'PUT', `${registrationPath('sip:page-a@example.com')}/attributes/${'k'.repeat(80)}`, {
          value: 'x',
        }),
        'key',
      );
      expectError(await api(app.httpPort, 'PUT', attr, '{"value":'), 'body');
    });

    it('serves /health, /docs and /docs-json', async () => {
      const health = await api(app.httpPort, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(health.json).toMatchObject({ status: 'ok', database: { ok: true } });
      expect(Object.keys(health.json.transports as Record<string, number>)).toEqual(
        expect.arrayContaining(['udp', 'tcp', 'ws']),
      );

      const docs = await api(app.httpPort, 'GET', '/docs');
      expect(docs.status).toBe(200);
      expect(docs.contentType).toContain('text/html');
      expect(docs.text.toLowerCase()).toContain('swagger');

      const json = await api(app.httpPort, 'GET', '/docs-json');
      expect(json.status).toBe(200);
      expect(typeof json.json.openapi).toBe('string');
      const paths = Object.keys(json.json.paths as Record<string, unknown>);
      expect(paths).toEqual(
        expect.arrayContaining([
          '/health',
          '/api/registrations',
          '/api/registrations/{aor}',
          '/api/registrations/{aor}/contacts/{id}',
          '/api/registrations/{aor}/attributes/{key}',
        ]),
      );
    });
  });
});

describe.each(databaseKinds())('registrar expiry on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await startTestApp(db, { REGISTRAR_MIN_EXPIRES: '1', REGISTRAR_TIMER_INTERVAL: '1' });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  it.each(TRANSPORTS)('removes a binding registered over %s when it expires', async (transport) => {
    const client = await openClient(app, transport);
    try {
      const aor = `sip:short-${transport}@example.com`;
      const keep = 'sip:short-keep@192.0.2.70:5060';
      const res = await client.register({
        aor,
        contact: `<${client.contactUri('short')}>;expires=2, <${keep}>;expires=600`,
      });
      expect(res.status).toBe(200);
      const registeredAt = Date.now();
      expect(await restContacts(app, aor)).toHaveLength(2);
      await pollUntil(
        async () => {
          const left = await restContacts(app, aor);
          return left.length === 1 ? left : undefined;
        },
        4500,
        `${aor}: short binding expired`,
      );
      expect(Date.now() - registeredAt).toBeGreaterThanOrEqual(1500);
      expect((await restContacts(app, aor)).map((c) => c.uri)).toEqual([keep]);
      // The registrar no longer lists it either.
      const query = await client.register({ aor, headers: { Contact: [] } });
      expect([...contactsOf(query).keys()]).toEqual([keep]);
    } finally {
      await client.close();
    }
  });

  it.each(TRANSPORTS)(
    'drops an AoR registered over %s from the listing once its only binding expired',
    async (transport) => {
      const client = await openClient(app, transport);
      try {
        const aor = `sip:gone-${transport}@example.com`;
        const res = await client.register({ aor, contact: `<${client.contactUri('gone')}>`, expires: 2 });
        expect(res.status).toBe(200);
        const listed = async (): Promise<string[]> => {
          const page = await api(app.httpPort, 'GET', '/api/registrations?limit=500');
          return (page.json as { items: { aor: string }[] }).items.map((i) => i.aor);
        };
        expect(await listed()).toContain(aor);
        // The expiry sweep removes it from the location table, so the listing forgets the AoR.
        await pollUntil(async () => ((await listed()).includes(aor) ? undefined : true), 4500, `${aor} swept`);
        expect((await api(app.httpPort, 'GET', registrationPath(aor))).status).toBe(404);
      } finally {
        await client.close();
      }
    },
  );
});
