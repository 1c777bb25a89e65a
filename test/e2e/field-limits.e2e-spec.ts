/**
 * Input that does not fit the schema (issue 12, point 2): every stored text has a length limit, checked
 * before anything is written, the same on SQLite and MySQL — 400 with a reason over SIP (413 for a body),
 * 400 naming the field over REST, and no row written.
 */
import { DataSource } from 'typeorm';
import type { RunningApp } from '../../src/app.factory';
import { api, registrationPath } from '../utils/e2e-helpers';
import { loadFixture, pidf, randomToken, SipTestClient, type SipTestMessage } from '../utils/sip-test-client';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../utils/test-database';

describe.each(databaseKinds())('field limits on %s', (kind) => {
  let db: TestDatabase;
  let app: RunningApp;
  let udp: SipTestClient;
  let tcp: SipTestClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // Large enough for a SIP body above what a TEXT column holds.
    app = await startTestApp(db, { SIP_MAX_MESSAGE_SIZE: '200000' });
    udp = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: app.sipPorts.udp });
    tcp = await SipTestClient.open({ transport: 'tcp', host: '127.0.0.1', port: app.sipPorts.tcp });
  });

  afterAll(async () => {
    await udp.close();
    await tcp.close();
    await app.close();
    await db.drop();
  });

  async function rows(table: string): Promise<number> {
    const [row] = await app.app.get(DataSource).query<{ n: number | string }[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    return Number(row.n);
  }

  /** REGISTER from the fixture with some fields replaced; resolves with the answer. */
  async function register(fields: Partial<Record<'user' | 'callId' | 'contact' | 'userAgent', string>>) {
    const vars = udp.fixtureVars({ user: `lim-${randomToken(3)}`, userAgent: 'limits-test', ...fields });
    udp.send(loadFixture('limits-register', vars));
    return { res: await udp.waitForResponse((m) => m.callId === vars.callId), user: vars.user };
  }

  function expectRefused(res: SipTestMessage, status: number, field: string): void {
    expect(res.status).toBe(status);
    expect(res.reason).toContain(`${field} is too long`);
  }

  it('REGISTER with a 300-character AoR, a 2 KB Contact, a 300-character Call-ID or User-Agent: 400 naming the header, nothing stored', async () => {
    const before = await rows('location');
    const longAor = await register({ user: `u${'a'.repeat(300)}` });
    expectRefused(longAor.res, 400, 'To');
    const contact = await register({ contact: `<sip:bob@127.0.0.1:5099;x=${'c'.repeat(2048)}>` });
    expectRefused(contact.res, 400, 'Contact');
    const callId = await register({ callId: `${'i'.repeat(300)}@test` });
    expectRefused(callId.res, 400, 'Call-ID');
    const agent = await register({ userAgent: 'ua'.repeat(150) });
    expectRefused(agent.res, 400, 'User-Agent');
    for (const { user } of [contact, callId, agent]) {
      expect((await api(app.httpPort, 'GET', registrationPath(`sip:${user}@example.com`))).status).toBe(404);
    }
    expect(await rows('location')).toBe(before);
    // The limits are inclusive: a Contact of exactly 1024 characters is stored.
    const uri = 'sip:bob@127.0.0.1:5099;x=';
    const fits = await register({ contact: `<${uri}${'c'.repeat(1024 - uri.length)}>` });
    expect(fits.res.status).toBe(200);
    expect(await rows('location')).toBe(before + 1);
  });

  it('SUBSCRIBE with a 300-character Call-ID or presentity: 400, no subscription stored', async () => {
    const before = await rows('active_watchers');
    const send = async (vars: Record<string, string>): Promise<SipTestMessage> => {
      udp.send(loadFixture('subscribe-template', vars));
      return udp.waitForResponse((m) => m.callId === vars.callId);
    };
    const base = { uri: 'sip:carol@example.com', from: 'sip:dave@example.com', expires: '600' };
    expectRefused(await send(udp.fixtureVars({ ...base, callId: `${'i'.repeat(300)}@test` })), 400, 'Call-ID');
    const longUri = `sip:${'p'.repeat(300)}@example.com`;
    expectRefused(await send(udp.fixtureVars({ ...base, uri: longUri })), 400, 'Request-URI');
    expect(await rows('active_watchers')).toBe(before);
  });

  it('PUBLISH with a 300-character presentity (400) or a body larger than a TEXT column (413): nothing stored', async () => {
    const before = await rows('presentity');
    const longUri = `sip:${'p'.repeat(300)}@example.com`;
    const vars = udp.fixtureVars({ uri: longUri, expires: '600', note: 'hi' });
    udp.send(loadFixture('publish-pidf-template', vars));
    expectRefused(await udp.waitForResponse((m) => m.callId === vars.callId), 400, 'Request-URI');
    const uri = `sip:big-${randomToken(3)}@example.com`;
    const res = await tcp.publish({ uri, event: 'presence', body: pidf(uri, 'open', 'n'.repeat(70_000)) });
    // The package's own limit (pa.publishMaxBodySize, at most what the column holds) speaks first.
    expect(res.status).toBe(413);
    expect(res.reason).toContain('over 65535 bytes');
    expect(await rows('presentity')).toBe(before);
  });

  it('REST: an AoR, attribute value, note or document too long is 400 (413 for a document) naming the field', async () => {
    const attrs = await rows('location_attrs');
    const pubs = await rows('presentity');
    const longAor = await api(
      app.httpPort,
      'PUT',
      `${registrationPath(`sip:${'a'.repeat(300)}@example.com`)}/attributes/k`,
      {
        value: 'v',
      },
    );
    expect(longAor.status).toBe(400);
    expect(longAor.json).toMatchObject({ field: 'aor', message: 'aor is too long: at most 255 characters' });
    // 33,000 two-byte characters: 66,000 bytes, more than a TEXT column holds though fewer characters.
    const value = await api(app.httpPort, 'PUT', `${registrationPath('sip:erin@example.com')}/attributes/k`, {
      value: 'é'.repeat(33_000),
    });
    expect(value.status).toBe(400);
    expect(value.json).toMatchObject({ field: 'value', message: 'value is too long: at most 65535 bytes' });
    const note = await api(app.httpPort, 'PUT', '/api/presentities/sip:erin@example.com/presence', {
      status: 'open',
      note: 'n'.repeat(5000),
    });
    expect(note.status).toBe(400);
    expect(note.json).toMatchObject({ field: 'note' });
    const doc = await api(
      app.httpPort,
      'PUT',
      '/api/presentities/sip:erin@example.com/presence',
      pidf('sip:erin@example.com', 'open', 'n'.repeat(70_000)),
      { 'content-type': 'application/pidf+xml' },
    );
    expect(doc.status).toBe(413);
    expect(doc.json).toMatchObject({ field: 'body' });
    expect(await rows('location_attrs')).toBe(attrs);
    expect(await rows('presentity')).toBe(pubs);
  });
});
