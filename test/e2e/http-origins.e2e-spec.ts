/**
 * Issue 12, point 10: browser origins. By default only the server's own origin may use the REST API from a
 * browser (no CORS headers for others) and open /ws and /sip; `http.corsOrigins` (HTTP_CORS_ORIGINS) adds
 * origins, or `*` allows any. Clients that send no Origin (curl, SIP phones) are not concerned.
 */
import WebSocket from 'ws';
import type { RunningApp } from '../../src/app.factory';
import { startTestApp } from '../utils/test-app';
import { createTestDatabase, type TestDatabase } from '../utils/test-database';

const FOREIGN = 'https://evil.example';
const BOARD = 'https://board.example.com';

/** Opens a WebSocket as a browser of `origin` would; resolves with `open` or the HTTP status that refused it. */
function upgrade(port: number, path: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, path === '/sip' ? ['sip'] : [], {
      ...(origin !== undefined && { origin }),
    });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

async function get(port: number, headers: Record<string, string>, method = 'GET'): Promise<Response> {
  const res = await fetch(`http://127.0.0.1:${port}/api/presentities/sip:cors@example.com/presence`, {
    method,
    headers,
  });
  await res.arrayBuffer();
  return res;
}

describe('browser origins', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await db.drop();
  });

  describe('by default: same origin only', () => {
    let app: RunningApp;

    beforeAll(async () => {
      app = await startTestApp(db);
    });

    afterAll(async () => {
      await app.close();
    });

    it('REST sends no CORS headers to a foreign origin, nor for its preflight', async () => {
      const res = await get(app.httpPort, { Origin: FOREIGN });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await get(
        app.httpPort,
        { Origin: FOREIGN, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
        'OPTIONS',
      );
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    });

    it('/ws and /sip refuse a foreign Origin with 403, accept their own origin and clients without Origin', async () => {
      const self = `http://127.0.0.1:${app.httpPort}`;
      for (const path of ['/ws', '/sip']) {
        await expect(upgrade(app.httpPort, path, FOREIGN)).resolves.toBe(403);
        await expect(upgrade(app.httpPort, path, BOARD)).resolves.toBe(403);
        await expect(upgrade(app.httpPort, path, self)).resolves.toBe('open');
        await expect(upgrade(app.httpPort, path)).resolves.toBe('open');
      }
    });
  });

  describe(`with HTTP_CORS_ORIGINS=${BOARD}`, () => {
    let app: RunningApp;

    beforeAll(async () => {
      app = await startTestApp(db, { HTTP_CORS_ORIGINS: BOARD });
    });

    afterAll(async () => {
      await app.close();
    });

    it('REST allows the configured origin, with ETag readable and If-Match allowed; others still get nothing', async () => {
      const res = await get(app.httpPort, { Origin: BOARD });
      expect(res.headers.get('access-control-allow-origin')).toBe(BOARD);
      expect(res.headers.get('access-control-expose-headers')).toBe('ETag');
      const preflight = await get(
        app.httpPort,
        { Origin: BOARD, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'if-match' },
        'OPTIONS',
      );
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(BOARD);
      expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
      expect(preflight.headers.get('access-control-allow-headers')).toBe('if-match');
      expect((await get(app.httpPort, { Origin: FOREIGN })).headers.get('access-control-allow-origin')).toBeNull();
    });

    it('/ws and /sip accept the configured origin and still refuse others', async () => {
      for (const path of ['/ws', '/sip']) {
        await expect(upgrade(app.httpPort, path, BOARD)).resolves.toBe('open');
        await expect(upgrade(app.httpPort, path, FOREIGN)).resolves.toBe(403);
      }
    });
  });

  describe('with HTTP_CORS_ORIGINS=*', () => {
    let app: RunningApp;

    beforeAll(async () => {
      app = await startTestApp(db, { HTTP_CORS_ORIGINS: '*' });
    });

    afterAll(async () => {
      await app.close();
    });

    it('allows any origin on REST and WebSockets', async () => {
      expect((await get(app.httpPort, { Origin: FOREIGN })).headers.get('access-control-allow-origin')).toBe(FOREIGN);
      await expect(upgrade(app.httpPort, '/ws', FOREIGN)).resolves.toBe('open');
      await expect(upgrade(app.httpPort, '/sip', FOREIGN)).resolves.toBe('open');
    });
  });
});
