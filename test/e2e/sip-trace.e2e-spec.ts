/**
 * `SIP_TRACE=true` logs every SIP message received and sent, whatever LOG_LEVEL says; without it, no
 * message text reaches the log.
 */
import { freePort, spawnServer, type ServerProcess } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';
import { SipTestClient, randomToken } from '../utils/sip-test-client';
import { pollUntil } from '../utils/e2e-helpers';

describe('SIP trace', () => {
  let db: TestDatabase;
  let server: ServerProcess | undefined;
  let client: SipTestClient | undefined;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterEach(async () => {
    await client?.close();
    await server?.kill('SIGKILL');
    client = undefined;
    server = undefined;
    await db.drop();
  });

  async function optionsWithCallId(env: Record<string, string>): Promise<string> {
    const ports = { sipPort: await freePort(), httpPort: await freePort() };
    server = await spawnServer(db, ports, env);
    client = await SipTestClient.open({ transport: 'udp', host: '127.0.0.1', port: ports.sipPort });
    const callId = `trace-${randomToken()}`;
    const res = await client.request({ method: 'OPTIONS', uri: 'sip:127.0.0.1', callId });
    expect(res.status).toBe(200);
    return callId;
  }

  it('shows the request and the response at LOG_LEVEL=warn when SIP_TRACE is on', async () => {
    const callId = await optionsWithCallId({ SIP_TRACE: 'true', LOG_LEVEL: 'warn' });
    const out = server as ServerProcess;
    const lines = await pollUntil(
      () => {
        const found = out
          .output()
          .split('\n')
          .filter((l) => l.includes(callId));
        return found.length >= 2 ? found : undefined;
      },
      5000,
      'the traced OPTIONS and its 200',
    );
    expect(lines.some((l) => l.includes('OPTIONS sip:127.0.0.1 SIP/2.0'))).toBe(true);
    expect(lines.some((l) => l.includes('SIP/2.0 200'))).toBe(true);
  });

  it('logs no message text when SIP_TRACE is off', async () => {
    const callId = await optionsWithCallId({ LOG_LEVEL: 'trace' });
    // The 200 has arrived, so anything traced for it has been written by now or soon after.
    await new Promise((r) => setTimeout(r, 300));
    expect((server as ServerProcess).output()).not.toContain(callId);
  });
});
