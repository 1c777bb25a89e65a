/**
 * Our server beside the interop suite's Kamailio: the whole app in this process on a free SIP port (chosen
 * before start, so settings such as puaReginfo.serverAddress can name it), HTTP on port 0, its own SQLite
 * file. The interop tier runs on SQLite only; the database matrix is the end-to-end tier's.
 */
import type { RunningApp } from '../../src/app.factory';
import type { ApiResponse } from '../utils/e2e-helpers';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';
import { freePort, startTestApp } from '../utils/test-app';

export interface Hub {
  readonly app: RunningApp;
  readonly db: TestDatabase;
  readonly sipPort: number;
  readonly httpPort: number;
  close(): Promise<void>;
}

/**
 * Starts the app with the settings `env(sipPort)` returns (environment variable names), on `sipPort` when
 * given (a port chosen earlier, so Kamailio's configuration can name it), else on a free one.
 */
export async function startHub(env: (sipPort: number) => Record<string, string> = () => ({}), port = 0): Promise<Hub> {
  const db = await createTestDatabase('sqlite');
  const sipPort = port === 0 ? await freePort() : port;
  const app = await startTestApp(db, { SIP_PORT: String(sipPort), ...env(sipPort) });
  return {
    app,
    db,
    sipPort,
    httpPort: app.httpPort,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Fails with the response's body in the message when its status is not `status`. */
export function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) {
    throw new Error(`expected HTTP ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
  }
}
