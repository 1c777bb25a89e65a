/**
 * Issue 15 acceptance with SIPp: a phone (test/fixtures/sipp/ua-profile.xml) subscribes to its device profile
 * with vendor, model and version, gets the document for its model in the first NOTIFY, answers it, and gets
 * the next version when the operator uploads one — over UDP and TCP.
 */
import { eventually } from '../utils/presence-e2e';
import { http, upload, startProfileApp, type ProfileTestApp } from '../utils/profile-e2e';
import { randomToken } from '../utils/sip-test-client';
import { runSipp, type SippTransport } from '../utils/sipp';
import { databaseKinds } from '../utils/test-database';

describe.each(databaseKinds())('SIPp ua-profile.xml on %s', (kind) => {
  let t: ProfileTestApp;

  beforeAll(async () => {
    t = await startProfileApp(kind);
  });

  afterAll(() => t.close());

  it.each<[SippTransport, string]>([
    ['u1', 'udp'],
    ['t1', 'tcp'],
  ])('sipp -t %s: the phone gets its model document and the next version (%s)', async (transport, protocol) => {
    const user = `mac-${randomToken(6)}`;
    const aor = `sip:${user}@example.com`;
    const target = { profileType: 'device', vendor: 'acme' };
    expect((await upload(t.httpPort, aor, '<cfg>acme-any</cfg>', 'application/xml', target)).status).toBe(201);
    const model = { ...target, model: 'p3' };
    expect((await upload(t.httpPort, aor, '<cfg>acme-p3-v1</cfg>', 'application/xml', model)).status).toBe(201);

    const port = protocol === 'udp' ? t.app.sipPorts.udp : t.app.sipPorts.tcp;
    const run = runSipp({
      scenario: 'ua-profile',
      remote: `127.0.0.1:${port}`,
      transport,
      vars: {
        presentity: user,
        domain: 'example.com',
        vendor: 'acme',
        model: 'p3',
        version: '4.2',
        expires: '300',
        first: 'acme-p3-v1',
        second: 'acme-p3-v2',
      },
      timeoutMs: 20_000,
    });
    // Once the phone holds the first version, the operator uploads the next one.
    const statusPath = `/api/profiles/${encodeURIComponent(aor)}/status`;
    let finished = false;
    void run.then(() => (finished = true));
    const holding = await eventually(
      async () => {
        if (finished) return false;
        const status = await http(t.httpPort, 'GET', statusPath);
        const holders = status.json.subscribers as { etag?: string | null }[] | undefined;
        return holders?.some((h) => typeof h.etag === 'string') ? true : undefined;
      },
      10_000,
      'the phone holding a version',
    );
    if (holding) {
      expect((await upload(t.httpPort, aor, '<cfg>acme-p3-v2</cfg>', 'application/xml', model)).status).toBe(200);
    }
    const result = await run;
    const diagnostics = `${result.command.join(' ')}\n${result.stderr}\n${result.errors}`;
    expect({ exitCode: result.exitCode, diagnostics }).toEqual({ exitCode: 0, diagnostics });
    expect(result.stats?.successfulCalls).toBe(1);
    expect(holding).toBe(true);
  });
});
