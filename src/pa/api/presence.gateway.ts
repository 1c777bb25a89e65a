import { Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import { AccessService } from '../../access/access.service';
import { principalOf } from '../../access/principal';
import { parseAor } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import { timeOrderedId } from '../../common/ids';
import { CLOCK, every, RANDOM } from '../../common/ports.module';
import type { Clock, Random } from '../../sip';
import { EventPackageRegistry } from '../core/event-package.registry';
import { Notifier } from '../core/notifier.service';
import type { Delivery, WsSubscription } from '../core/subscription';
import { SubscriptionRegistry } from '../core/subscription.registry';
import { SubscriptionService } from '../core/subscription.service';
import { WatcherGate } from '../core/watcher-gate';
import { fromPackageError } from './package-error.mapping';
import { PresenceApiService } from './presence-api.service';
import { isJsonObject, onlyFields, type JsonObject } from './presence-input';
import { pubKey, type Client, type MessageId, type ServerMessage } from './ws-client';
import { assertMayPublish, wsWatcher } from './ws-identity';

/** Interval of WebSocket ping frames; a socket that has not answered the previous one is terminated. */
export const HEARTBEAT_MS = 30_000;
/** WS subscriptions end with `unsubscribe` or the socket, not by time: ten years. */
const WS_SUBSCRIPTION_MS = 10 * 365 * 24 * 3600 * 1000;
/** Largest message a browser may send. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** Messages of one socket waiting to be handled; more are refused with an `error`. */
const MAX_QUEUED = 64;
/** Bytes queued to a socket that does not read; beyond it the socket is closed. */
const MAX_BUFFERED = 4 * 1024 * 1024;
const MAX_ID_LENGTH = 128;
/** Subscriptions one socket may hold; more are refused with an `error` until it unsubscribes some. */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 1000;

/**
 * The browser WebSocket at `/ws`: JSON messages `subscribe`, `unsubscribe`, `publish` and `ping`, each with
 * a client-chosen `id` echoed in the answer; `state` pushed on every change of a watched presentity.
 * Watchers are `ws` subscriptions of the one notifier, publications go through the one PUBLISH path; both
 * end with the socket. Errors become `error` messages and the socket stays open.
 */
@WebSocketGateway({ path: '/ws', maxPayload: MAX_MESSAGE_BYTES })
export class PresenceGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('PresenceGateway');
  private readonly clients = new Map<string, Client>();
  /** `state` message text after the id, per state object (one per change, shared by its watchers). */
  private readonly stateTexts = new WeakMap<object, string>();
  private readonly bySocket = new WeakMap<WebSocket, Client>();
  private stopHeartbeat?: () => void;

  constructor(
    private readonly api: PresenceApiService,
    private readonly packages: EventPackageRegistry,
    private readonly notifier: Notifier,
    private readonly registry: SubscriptionRegistry,
    private readonly subscriptions: SubscriptionService,
    private readonly gate: WatcherGate,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
    private readonly access: AccessService,
  ) {}

  onModuleInit(): void {
    this.notifier.addChannel({
      kind: 'ws',
      deliver: (d) => {
        this.deliver(d);
      },
    });
    this.stopHeartbeat = every(this.clock, HEARTBEAT_MS, () => {
      this.sweep();
    });
  }

  onModuleDestroy(): void {
    this.stopHeartbeat?.();
  }

  handleConnection(ws: WebSocket, req?: IncomingMessage): void {
    const principal = req && principalOf(req);
    const client: Client = {
      id: timeOrderedId(this.clock.now(), this.random),
      ws,
      ...(principal && { principal }),
      alive: true,
      closed: false,
      queued: 0,
      queue: Promise.resolve(),
      subscriptions: new Map(),
      publications: new Map(),
    };
    this.clients.set(client.id, client);
    this.bySocket.set(ws, client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (client.closed) return;
      if (client.queued >= MAX_QUEUED) {
        this.send(client, { type: 'error', message: 'too many messages in flight; wait for the answers' });
        return;
      }
      client.queued++;
      this.enqueue(client, async () => {
        client.queued--;
        await this.onMessage(client, data, isBinary);
      });
    });
  }

  handleDisconnect(ws: WebSocket): void {
    const client = this.bySocket.get(ws);
    if (!client || client.closed) return;
    client.closed = true;
    this.enqueue(client, () => this.cleanUp(client));
  }

  /**
   * One heartbeat round: terminates sockets that did not answer the previous ping, pings the others.
   * Runs every {@link HEARTBEAT_MS}.
   */
  sweep(): void {
    for (const client of this.clients.values()) {
      if (!client.alive) {
        this.log.debug(`socket ${client.id} missed a pong; terminating`);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      if (client.ws.readyState === WebSocket.OPEN) client.ws.ping();
    }
  }

  /** Number of open browser sockets. */
  get size(): number {
    return this.clients.size;
  }

  private enqueue(client: Client, work: () => Promise<void>): void {
    client.queue = client.queue.then(work).catch((e: unknown) => {
      this.log.error(`socket ${client.id}: ${(e as Error).stack ?? String(e)}`);
    });
  }

  private async onMessage(client: Client, data: RawData, isBinary: boolean): Promise<void> {
    if (client.closed) return;
    let id: MessageId | undefined;
    try {
      if (isBinary) throw new DomainError(400, 'messages must be JSON text frames, not binary');
      const text = rawText(data);
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch (e) {
        throw new DomainError(400, `message is not valid JSON: ${(e as Error).message}`);
      }
      if (!isJsonObject(msg)) throw new DomainError(400, 'message must be a JSON object with "type" and "id"');
      id = readId(msg.id);
      const retry = client.principal ? this.access.identityLimit(client.principal) : 0;
      if (retry > 0) {
        throw new DomainError(429, `too many messages with this API key; retry after ${retry} s`, undefined, retry);
      }
      switch (msg.type) {
        case 'subscribe':
          await this.subscribe(client, id, msg);
          break;
        case 'unsubscribe':
          await this.unsubscribe(client, id, msg);
          break;
        case 'publish':
          await this.publish(client, id, msg);
          break;
        case 'ping':
          onlyFields(msg, ['type', 'id'], 'ping');
          this.send(client, { type: 'pong', id });
          break;
        default:
          throw new DomainError(
            400,
            `type must be one of subscribe, unsubscribe, publish, ping; got ${JSON.stringify(msg.type) ?? 'nothing'}`,
            'type',
          );
      }
    } catch (e) {
      const err = fromPackageError(e);
      if (err instanceof DomainError) {
        this.send(client, {
          type: 'error',
          ...(id !== undefined && { id }),
          message: err.message,
          ...(err.field !== undefined && { field: err.field }),
        });
        return;
      }
      this.log.error(`socket ${client.id}: ${(err as Error).stack ?? String(err)}`);
      this.send(client, { type: 'error', ...(id !== undefined && { id }), message: 'internal error' });
    }
  }

  private async subscribe(client: Client, id: MessageId, msg: JsonObject): Promise<void> {
    onlyFields(msg, ['type', 'id', 'aor', 'event', 'user'], 'subscribe');
    const presentity = parseAor(msg.aor, 'aor');
    const pkg = this.api.resolveEvent(msg.event);
    const key = String(id);
    if (client.subscriptions.has(key)) {
      throw new DomainError(409, `id ${JSON.stringify(id)} already names a subscription on this socket`, 'id');
    }
    if (client.subscriptions.size >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
      throw new DomainError(
        403,
        `this socket already holds ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions, the most allowed`,
      );
    }
    const user = msg.user;
    if (
      user !== undefined &&
      (typeof user !== 'string' || user.trim() === '' || user.length > 256 || /\p{Cc}/u.test(user))
    ) {
      throw new DomainError(
        400,
        'user must be a non-empty string of at most 256 characters, without control characters',
        'user',
      );
    }
    const watcher = wsWatcher(client.principal, user, client.id);
    const own = pkg.authorize?.({ kind: 'ws', uri: watcher, accept: [] }, presentity) ?? 'active';
    if (own !== 'active') {
      throw new DomainError(403, `${watcher} may not watch ${presentity} (${pkg.name})`, 'aor');
    }
    // The presentity's watcher rules, as for SIP watchers: pending waits for approval, polite-block is active.
    const verdict = await this.gate.authorize(watcher, presentity, pkg.name);
    if (verdict === 'rejected') {
      throw new DomainError(403, `${watcher} is not authorized to watch ${presentity} (${pkg.name})`, 'aor');
    }
    const now = this.clock.now();
    const sub: WsSubscription = {
      kind: 'ws',
      id: timeOrderedId(now, this.random),
      presentity,
      event: pkg.name,
      watcher,
      accept: [],
      status: verdict === 'pending' ? 'pending' : 'active',
      expiresAt: now + WS_SUBSCRIPTION_MS,
      createdAt: now,
      client: client.id,
      clientId: key,
    };
    client.subscriptions.set(key, { messageId: id, sub });
    try {
      await this.subscriptions.add(sub);
    } catch (e) {
      client.subscriptions.delete(key);
      throw e;
    }
    await this.notifier.notifyOne(sub);
  }

  private async unsubscribe(client: Client, id: MessageId, msg: JsonObject): Promise<void> {
    onlyFields(msg, ['type', 'id'], 'unsubscribe');
    const entry = client.subscriptions.get(String(id));
    if (!entry) throw new DomainError(404, `no subscription with id ${JSON.stringify(id)} on this socket`, 'id');
    if (this.registry.get(entry.sub.id) !== entry.sub) {
      // Already ended elsewhere without a final delivery: answer as if it ended now.
      client.subscriptions.delete(String(id));
      this.send(client, { type: 'terminated', id: entry.messageId, reason: 'unsubscribed' });
      return;
    }
    await this.subscriptions.end(entry.sub, 'unsubscribed');
  }

  private async publish(client: Client, id: MessageId, msg: JsonObject): Promise<void> {
    const pkg = this.api.resolveEvent(msg.event);
    const { json, expires } = this.api.readJsonPublish(pkg, msg, ['type', 'id', 'aor', 'event'], 'publish');
    const presentity = parseAor(msg.aor, 'aor');
    assertMayPublish(client.principal, presentity);
    const source = `ws:${client.id}`;
    const key = pubKey(presentity, pkg.name);
    const mine = client.publications.get(key);
    if (expires === 0) {
      if (!mine) {
        throw new DomainError(
          400,
          `expires 0 removes this socket's publication of ${presentity}, and it has none`,
          'expires',
        );
      }
      client.publications.delete(key);
      await this.api.remove(presentity, pkg.name, mine.etag, source).catch((e: unknown) => {
        if (!(e instanceof DomainError && e.status === 412)) throw e;
      });
      this.send(client, { type: 'published', id, etag: mine.etag, expires: 0 });
      return;
    }
    // Without document fields: a refresh of this socket's publication, or for a new one the package says what
    // it needs.
    const request = { presentity, event: pkg.name, source, json, ...(expires !== undefined && { expires }) };
    let result;
    try {
      result = await this.api.publish({ ...request, ...(mine && { ifMatch: mine.etag }) });
    } catch (e) {
      // Our publication expired or was removed (REST DELETE): start a new one (from the fields given).
      if (!(mine && e instanceof DomainError && e.status === 412)) throw e;
      client.publications.delete(key);
      result = await this.api.publish(request);
    }
    // Recorded even if the socket closed meanwhile: the clean-up queued behind this message removes it.
    client.publications.set(key, { presentity, event: pkg.name, etag: result.etag });
    this.send(client, { type: 'published', id, etag: result.etag, expires: result.expires });
  }

  /** The notifier's channel for `ws` watchers: a `state` (or the final `terminated`) to the watcher's socket. */
  private deliver(d: Delivery): void {
    const sub = d.subscription;
    if (sub.kind !== 'ws') return;
    const client = this.clients.get(sub.client);
    if (!client || client.closed) return;
    const entry = client.subscriptions.get(sub.clientId);
    const messageId = entry?.sub === sub ? entry.messageId : sub.clientId;
    if (d.terminated !== undefined) {
      if (entry?.sub === sub) client.subscriptions.delete(sub.clientId);
      this.send(client, { type: 'terminated', id: messageId, reason: d.terminated });
      return;
    }
    if (sub.status === 'pending') {
      this.send(client, { type: 'pending', id: messageId, aor: sub.presentity, event: sub.event });
      return;
    }
    const pkg = this.packages.get(sub.event);
    if (!pkg) return;
    // Every watcher of one change gets the same state: serialise it once, then only the id differs.
    let tail = this.stateTexts.get(d.state);
    if (tail === undefined) {
      try {
        const rest = JSON.stringify({ aor: sub.presentity, event: sub.event, state: pkg.toJson(d.state) });
        tail = `,${rest.slice(1)}`;
      } catch (e) {
        this.log.error(`rendering ${sub.event} state of ${sub.presentity} as JSON failed: ${(e as Error).message}`);
        return;
      }
      this.stateTexts.set(d.state, tail);
    }
    this.sendText(client, `{"type":"state","id":${JSON.stringify(messageId)}${tail}`);
  }

  private async cleanUp(client: Client): Promise<void> {
    this.clients.delete(client.id);
    for (const { sub } of client.subscriptions.values()) await this.subscriptions.drop(sub, 'socket closed');
    client.subscriptions.clear();
    for (const p of client.publications.values()) {
      try {
        await this.api.remove(p.presentity, p.event, p.etag, `ws:${client.id}`);
      } catch (e) {
        if (!(e instanceof DomainError && e.status === 412)) {
          this.log.warn(`removing publication of ${p.presentity} after socket close failed: ${(e as Error).message}`);
        }
      }
    }
    client.publications.clear();
  }

  private send(client: Client, msg: ServerMessage): void {
    this.sendText(client, JSON.stringify(msg));
  }

  private sendText(client: Client, text: string): void {
    const ws = client.ws;
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      this.log.warn(`socket ${client.id} does not read its messages; closing it`);
      ws.terminate();
      return;
    }
    ws.send(text);
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function readId(value: unknown): MessageId {
  if (typeof value === 'string' && value !== '' && value.length <= MAX_ID_LENGTH) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new DomainError(400, `id must be a non-empty string (at most ${MAX_ID_LENGTH} characters) or a number`, 'id');
}
