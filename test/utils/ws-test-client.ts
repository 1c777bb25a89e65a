/** A browser-like client of the server's JSON WebSocket at /ws, for end-to-end tests. */
import WebSocket from 'ws';

export type Msg = Record<string, unknown>;

/** A browser-like client of /ws: every message it received, and waiting for the next one that matches. */
export class WsClient {
  readonly received: Msg[] = [];
  private waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as Msg;
      this.received.push(msg);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(msg)) return true;
        w.resolve(msg);
        return false;
      });
    });
  }

  /** Opens /ws; `query` (e.g. `?token=...`) and subprotocols as a browser would send them. */
  static open(port: number, query = '', protocols: string[] = []): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, protocols);
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        resolve(new WsClient(ws));
      });
      ws.once('error', reject);
    });
  }

  /** The next message (from now on, or already received after `since`) that matches, within `ms`. */
  next(match: (m: Msg) => boolean, ms = 1000, since = this.received.length): Promise<Msg> {
    const seen = this.received.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching message within ${ms} ms; got ${JSON.stringify(this.received.slice(since))}`));
      }, ms);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends a message and waits for the answer with its id. */
  ask(msg: Msg, ms = 1000): Promise<Msg> {
    const since = this.received.length;
    this.ws.send(JSON.stringify(msg));
    return this.next((m) => m.id === msg.id, ms, since);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

/** Opens a WebSocket; resolves with `open` or the refusing HTTP status and body. */
export function upgrade(url: string, protocols: string[] = []): Promise<'open' | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}
