/**
 * The outgoing SIP client (the `pua` role): one service every module uses to PUBLISH state to other servers
 * and to SUBSCRIBE to theirs. Records are persisted (table `pua`) and resumed after a restart.
 *
 * Usage (`owner` is the module's name; `key` its own name for the publication or subscription, unique per
 * owner and kind — an AoR, a presentity and watcher pair):
 *
 * ```ts
 * // Publish (RFC 3903): the first call sends the body, later calls with the same key modify it; refreshes
 * // before expiry, 412 (re-sent as a new publication), 423 and retries are the client's business.
 * await client.publish({ owner: 'pua-reginfo', key: aor, uri: aor, from: 'sip:hub@example.net', event: 'reg',
 *   contentType: 'application/reginfo+xml', body, expires: 3600, route: 'sip:proxy.example.net' });
 * await client.unpublish('pua-reginfo', aor);              // PUBLISH Expires 0 with SIP-If-Match
 *
 * // Subscribe (RFC 6665): the dialog comes from the 2xx or a first NOTIFY; refreshed in the dialog,
 * // re-created after 481 and after a terminated NOTIFY that allows it (deactivated, timeout, probation).
 * client.onNotify('b2b', async (n) => { ... n.body, n.contentType, n.subscriptionState, n.record.key ... });
 * client.onStatus('b2b', (rec) => { ... rec.state, rec.lastStatus, rec.lastReason ... });
 * await client.subscribe({ owner: 'b2b', key, uri: presentity, from: watcher, event: 'presence',
 *   expires: 600, options: { accept: ['application/pidf+xml'], refreshBefore: 30, retryAfter: 120 } });
 * await client.unsubscribe('b2b', key);                    // SUBSCRIBE Expires 0, then the last NOTIFY
 * ```
 *
 * - NOTIFYs: routed here by Call-ID and tags (the bridge's dialog router), answered 200 once the owner's
 *   handler resolved; a handler that throws an error with a SIP `status` and `reason` (SipError) answers
 *   that instead (e.g. 400 for a bad document), and the subscription goes on. A NOTIFY of no dialog of
 *   ours gets 481.
 * - Credentials: 401/407 challenges (MD5, SHA-256) are answered with `setCredentials(owner, realm => ...)`
 *   when the owner gives some, else with sipClient.credentials (`user:password@realm`).
 * - Route: `route` is the next hop of initial requests (an outbound proxy, sent as a loose Route);
 *   without it the Request-URI's host and port (A records or literal addresses). In-dialog requests follow
 *   the dialog's route set and remote target.
 * - Records: `get`/`list` return copies (state `sending`, `pending`, `active`, `retrying`, `terminated`,
 *   `removing`); `options.data` carries the owner's own strings with the record across restarts.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { PINO, sipLoggerOf } from '../common/app-logger';
import { checkLength } from '../common/field-limits';
import { CLOCK, RANDOM } from '../common/ports.module';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  OutgoingClient,
  type Clock,
  type ClientCredentials,
  type NotifyHandler,
  type OutgoingKind,
  type OutgoingRecord,
  type PublishInput,
  type Random,
  type StatusListener,
  type SubscribeInput,
} from '../sip';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import { SipClientRepository } from './sip-client.repository';

/** Gives the credentials for a challenge's realm, or undefined. */
export type CredentialsProvider = (realm: string, record: Readonly<OutgoingRecord>) => ClientCredentials | undefined;
/** Gives the current document of a publication to publish anew after a restart, or undefined (see setCurrentBody). */
export type CurrentBodyProvider = (record: Readonly<OutgoingRecord>) => Promise<string | undefined>;

/** `user:password@realm` entries by realm. */
function credentialTable(entries: readonly string[]): Map<string, ClientCredentials> {
  const out = new Map<string, ClientCredentials>();
  for (const e of entries) {
    const at = e.lastIndexOf('@');
    const colon = e.indexOf(':');
    out.set(e.slice(at + 1), { username: e.slice(0, colon), password: e.slice(colon + 1, at) });
  }
  return out;
}

@Injectable()
export class SipClientService implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SipClient');
  private readonly client: OutgoingClient;
  private readonly providers = new Map<string, CredentialsProvider>();
  private readonly currentBodies = new Map<string, CurrentBodyProvider>();
  private loaded: OutgoingRecord[] = [];

  constructor(
    private readonly bridge: SipBridge,
    private readonly repo: SipClientRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(RANDOM) random: Random,
    @Inject(PINO) pino: Pino,
  ) {
    const table = credentialTable(config.sipClient.credentials);
    const sipLog = pino.child({ module: 'sip-client' });
    this.client = new OutgoingClient({
      send: (req) => this.bridge.sendRequest(req),
      contact: () => this.contact(),
      store: repo,
      clock,
      random,
      logger: sipLoggerOf(sipLog, sipLog),
      credentials: (realm, rec) => this.providers.get(rec.owner)?.(realm, rec) ?? table.get(realm),
      retryAfter: config.sipClient.retryAfter,
      waitForTermNotify: config.sipClient.waitForTermNotify,
      currentBody: (rec) => this.currentBodies.get(rec.owner)?.(rec) ?? Promise.resolve(rec.body),
    });
  }

  async onModuleInit(): Promise<void> {
    this.bridge.addDialogRouter((req) => {
      const entry = this.client.match(req);
      if (!entry) return undefined;
      return async (incoming) => {
        const answer = await this.client.notify(entry, incoming.request);
        incoming.respond(answer.status, answer.reason);
      };
    });
    // A PUBLISH of ours that came back (an outbound proxy that is this server): it changes nothing here, and
    // the publisher is told it worked (OpenSIPS stores such a PUBLISH and doubles the presentity).
    this.bridge.addRequestRouter((req) => {
      if (req.method !== 'PUBLISH') return undefined;
      const own = this.client.ownPublication(req);
      if (!own) return undefined;
      return (incoming) => {
        const expires = incoming.request.expires ?? own.expires;
        incoming.respond(200, 'OK', {
          'SIP-ETag': req.headers.get('SIP-If-Match') ?? `own${own.id}`,
          Expires: String(expires),
        });
      };
    });
    // RFC 6665 §4.1.3: a NOTIFY that matches no subscription of ours.
    this.bridge.register('NOTIFY', (incoming) => {
      incoming.respond(481, 'Unable to handle notification');
    });
    this.loaded = await this.repo.loadAll();
  }

  /** The transports listen by now: saved publications and subscriptions are refreshed or re-created. */
  onApplicationBootstrap(): void {
    if (this.loaded.length > 0) this.log.log(`resuming ${this.loaded.length} outgoing publications and subscriptions`);
    this.client.restore(this.loaded);
    this.loaded = [];
  }

  /** Before the database closes: nothing is sent or saved afterwards (what was in flight is resumed at start). */
  beforeApplicationShutdown(): void {
    this.client.stop();
  }

  /** Publishes (or modifies) a publication; resolves once the server answered, with the record. */
  publish(input: PublishInput): Promise<Readonly<OutgoingRecord>> {
    checkInput(input);
    checkLength('contentType', input.contentType);
    checkLength('body', input.body);
    return this.client.publish(input);
  }

  /** Removes a publication (PUBLISH Expires 0); false when the owner has none under `key`. */
  unpublish(owner: string, key: string): Promise<boolean> {
    return this.client.unpublish(owner, key);
  }

  /** Starts (or refreshes) a subscription; resolves once the SUBSCRIBE was answered, with the record. */
  subscribe(input: SubscribeInput): Promise<Readonly<OutgoingRecord>> {
    checkInput(input);
    return this.client.subscribe(input);
  }

  /** Ends a subscription (SUBSCRIBE Expires 0); false when the owner has none under `key`. */
  unsubscribe(owner: string, key: string): Promise<boolean> {
    return this.client.unsubscribe(owner, key);
  }

  get(kind: OutgoingKind, owner: string, key: string): Readonly<OutgoingRecord> | undefined {
    return this.client.get(kind, owner, key);
  }

  list(kind: OutgoingKind, owner: string): Readonly<OutgoingRecord>[] {
    return this.client.list(kind, owner);
  }

  /** The owner's handler of NOTIFYs in its subscriptions (one per owner). */
  onNotify(owner: string, handler: NotifyHandler): void {
    this.client.onNotify(owner, handler);
  }

  /** Tells `listener` of every state change of the owner's records. */
  onStatus(owner: string, listener: StatusListener): void {
    this.client.onStatus(owner, listener);
  }

  /** Credentials of the owner's requests, asked before sipClient.credentials. */
  setCredentials(owner: string, provider: CredentialsProvider): void {
    this.providers.set(owner, provider);
  }

  /**
   * The owner's document of a publication to publish anew after a restart (the server lost it while we were
   * down); undefined from the provider: the owner publishes or removes it itself. Without one, the stored
   * document is sent.
   */
  setCurrentBody(owner: string, provider: CurrentBodyProvider): void {
    this.currentBodies.set(owner, provider);
  }

  /** Our Contact in SUBSCRIBEs: the advertised host and the UDP port (TCP when UDP is off). */
  private contact(): string {
    const ports = this.bridge.ports();
    const host = this.bridge.advertisedHost();
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    if (ports.udp !== undefined) return `<sip:${h}:${ports.udp}>`;
    return `<sip:${h}:${ports.tcp ?? 5060};transport=tcp>`;
  }
}

/** What every record stores must fit its column: a FieldTooLongError (400) names the field otherwise. */
function checkInput(input: PublishInput | SubscribeInput): void {
  checkLength('puaOwner', input.owner, 'owner');
  checkLength('puaUri', input.key, 'key');
  checkLength('puaUri', input.uri, 'uri');
  checkLength('puaUri', input.from, 'from');
  checkLength('puaUri', input.route, 'route');
  checkLength('eventPackage', input.event, 'event');
  checkLength('puaOptions', JSON.stringify(input.options ?? {}), 'options');
}
