import { SipError } from '../errors/sip-error';
import { SipParseError } from '../errors/sip-parse-error';
import { createResponse } from '../message/create-response';
import { parseMessage } from '../message/parser';
import { requestMethod } from '../message/request-head';
import type { SipRequest } from '../message/sip-message';
import { SipResponse } from '../message/sip-message';
import type { Via } from '../message/via';
import { ownString } from '../message/text';
import { systemClock, type Clock, type TimerHandle } from '../ports/clock';
import { noopLogger, type SipLogger } from '../ports/logger';
import { cryptoRandom, type Random } from '../ports/random';
import type { Flow, Transport } from '../transport/transport';
import { shedRequest, type AdmissionControl } from './admission';
import { ServerRequest, type IncomingRequest } from './incoming-request';
import { ClientTransactions } from './client-transactions';
import { DEFAULT_UDP_MAX_REQUEST_SIZE } from './large-request';
import { dnsResolver, routeFor, type Resolver, type Route } from './next-hop';
import { NonInviteServerTransaction } from './non-invite-server.transaction';
import { responseFlow, stampedVia } from './response-routing';
import { invokeHandler, replyStateless, sendOver, serverKey, traceMessage } from './stack-support';
import { TimerQueues, type TimerQueue } from './timer-queue';
import { DEFAULT_TIMERS, timerJ, type TimerValues } from './transaction-state';
import { CompletedTransactions } from './completed-transactions';
import { copiedFields, packedParts, unpackResponse } from './packed-response';

/** How often Completed records whose timer ran out are dropped while no traffic does it. */
const PRUNE_EVERY_MS = 1000;

/** Options of {@link SipStack}. */
export interface SipStackOptions {
  readonly transports: readonly Transport[];
  readonly clock?: Clock;
  readonly random?: Random;
  /** T1, T2, T4 in ms (defaults 500, 4000, 5000; RFC 3261 Table 4). */
  readonly timers?: Partial<TimerValues>;
  /** Larger messages get 513 (requests) or are dropped (default 65535; RFC 3261 §18.1.1). */
  readonly maxMessageSize?: number;
  /**
   * Requests over UDP larger than this go over TCP to the same address and port (default 1300; RFC 3261
   * §18.1.1), see {@link DEFAULT_UDP_MAX_REQUEST_SIZE}.
   */
  readonly udpMaxRequestSize?: number;
  readonly logger?: SipLogger;
  /** Host name resolution for the next hop (default `dns.lookup`). */
  readonly resolver?: Resolver;
  /** Decides which new requests are taken in and which get 503 at once (default: all taken in). */
  readonly admission?: AdmissionControl;
}

/** Handles requests delivered by the stack; may return a promise (its rejection is handled like a throw). */
export type RequestHandler = (req: IncomingRequest) => void | Promise<void>;

/**
 * A server transaction in the stack's Map. Both fields are cleared when it ends: a Map whose entries come and
 * go thousands of times a second re-hashes into new backing tables, and a table left behind in the old
 * generation still points at the entries it held until the next full collection. Through an entry that kept
 * its transaction, each such table held whole parsed requests (the transaction's closures keep the request)
 * across young-generation collections: 4.4 KB promoted per SUBSCRIBE instead of the 1 KB a subscription keeps.
 */
interface ServerEntry {
  /** Undefined once terminated (out of the Map). */
  tx: NonInviteServerTransaction | undefined;
  /** The request as the TU sees it; released once a final response is sent (only the response is kept). */
  incoming: ServerRequest | undefined;
}

/**
 * The transaction layer (RFC 3261 §17) over a set of transports: matches requests to non-INVITE server
 * transactions (§17.2.3) and responses to client transactions (§17.1.3), answers malformed requests, and
 * stamps `received`/`rport` on responses (§18.2.1, RFC 3581). INVITE is handled like a non-INVITE request
 * (the presence server only rejects it); ACK has no transaction and is dropped.
 */
export class SipStack {
  readonly clock: Clock;
  readonly random: Random;
  readonly timers: TimerValues;
  private readonly transports: readonly Transport[];
  private readonly maxMessageSize: number;
  private readonly log: SipLogger;
  private readonly resolver: Resolver;
  private readonly admission: AdmissionControl | undefined;
  /** Server transactions whose request has no final response yet (work in flight). */
  private pending = 0;
  private handler: RequestHandler | undefined;
  private readonly servers = new Map<string, ServerEntry>();
  private readonly clients: ClientTransactions;
  /** Completed server transactions on unreliable transports (Timer J), as small records. */
  private readonly completedServers: CompletedTransactions;
  private pruneTimer: TimerHandle | undefined;
  /** Shared timer queues (one per delay) for every transaction's timers. */
  private readonly queue: (delay: number) => TimerQueue;

  constructor(options: SipStackOptions) {
    this.transports = options.transports;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom;
    this.timers = { ...DEFAULT_TIMERS, ...options.timers };
    this.maxMessageSize = options.maxMessageSize ?? 65535;
    this.log = options.logger ?? noopLogger;
    this.resolver = options.resolver ?? dnsResolver;
    this.admission = options.admission;
    this.completedServers = new CompletedTransactions(this.clock, timerJ(this.timers, false));
    const queues = new TimerQueues(this.clock);
    this.queue = (delay) => queues.for(delay);
    const udpMaxRequestSize = options.udpMaxRequestSize ?? DEFAULT_UDP_MAX_REQUEST_SIZE;
    this.clients = new ClientTransactions(this.random, this.transports, udpMaxRequestSize, this.log, {
      clock: this.clock,
      timers: this.timers,
      queue: this.queue,
      trace: (dir, data, flow) => {
        this.trace(dir, data, flow);
      },
    });
  }

  /** Registers the transaction user: called once per new request (not for retransmissions or ACK). */
  onRequest(handler: RequestHandler): void {
    this.handler = handler;
  }

  /** Requests taken in whose final response is not sent yet. */
  get pendingRequests(): number {
    return this.pending;
  }

  /** Number of live server transactions (Completed ones included) and client transactions awaiting a response. */
  get transactionCount(): { server: number; client: number } {
    return {
      server: this.servers.size + this.completedServers.size,
      client: this.clients.size,
    };
  }

  /** Hooks the transports and starts listening. */
  async start(): Promise<void> {
    for (const t of this.transports) {
      t.onMessage((data, flow, wireLength) => {
        this.receive(data, flow, t, wireLength);
      });
      t.onError((error, flow) => {
        this.log.warn({ err: error.message, flow }, 'transport error');
      });
    }
    await Promise.all(this.transports.map((t) => t.listen()));
    const prune = (): void => {
      this.completedServers.prune();
      this.pruneTimer = this.clock.setTimeout(prune, PRUNE_EVERY_MS);
    };
    this.pruneTimer = this.clock.setTimeout(prune, PRUNE_EVERY_MS);
  }

  /** Ends every transaction (pending client ones resolve with 503) and closes the transports. */
  async stop(): Promise<void> {
    for (const { tx } of [...this.servers.values()]) tx?.terminate();
    this.clients.terminateAll();
    if (this.pruneTimer !== undefined) this.clock.clearTimeout(this.pruneTimer);
    this.completedServers.clear();
    await Promise.all(this.transports.map((t) => t.close()));
  }

  /**
   * Sends `req` in a new non-INVITE client transaction (RFC 3261 §17.1.2) and resolves with the final
   * response, a synthesized 408 on Timer F, or a 503 on a transport error (§8.1.3.1). Adds the top Via
   * (sent-by from the transport, a new branch, `rport`) and Max-Forwards: 70 when absent. Without `target`
   * the next hop comes from the top Route or the Request-URI (see {@link nextHop}). A request for UDP larger
   * than `udpMaxRequestSize` goes over TCP to the same address and port (RFC 3261 §18.1.1, see
   * {@link sendLargeRequest}).
   */
  sendRequest(req: SipRequest, target?: Flow): Promise<SipResponse> {
    if (req.method === 'ACK') return Promise.reject(new SipError(500, 'ACK has no transaction'));
    let found: Route | Promise<Route>;
    try {
      found = routeFor(req, this.transports, this.resolver, target);
    } catch (e) {
      return Promise.resolve(this.noRoute(req, e));
    }
    // An IP address needs no lookup: the request goes out in this same call.
    if (found instanceof Promise)
      return found.then(
        (route) => this.clients.send(req, route),
        (e: unknown) => this.noRoute(req, e),
      );
    return this.clients.send(req, found);
  }

  private noRoute(req: SipRequest, e: unknown): SipResponse {
    this.log.warn({ err: String(e), callId: req.headers.get('call-id') }, 'next hop not found');
    return createResponse(req, 503, 'Next hop not found');
  }

  private trace(dir: 'send' | 'recv', data: Buffer, flow: Flow): void {
    if (this.log.traceEnabled !== false) traceMessage(this.log, dir, data, flow);
  }

  /**
   * Entry point for every framed message a transport delivers; never throws. `wireLength`: the message's
   * length when `data` is only its header section (a stream message too large to read).
   */
  private receive(data: Buffer, flow: Flow, transport: Transport, wireLength?: number): void {
    try {
      this.trace('recv', data, flow);
      if (this.admission !== undefined && wireLength === undefined && this.refused(data, flow, transport)) return;
      // A transport gives `wireLength` only for a message beyond its own size limit.
      const tooLarge = wireLength !== undefined || data.length > this.maxMessageSize;
      let msg: SipRequest | SipResponse;
      try {
        msg = parseMessage(data);
      } catch (e) {
        if (e instanceof SipParseError && e.partial !== undefined) {
          // A header section without its body fails to parse; it is still answered 513 when too large.
          if (tooLarge) this.replyStateless(e.partial, flow, transport, 513, 'Message Too Large');
          else this.replyStateless(e.partial, flow, transport, e.status, e.reason);
        } else {
          this.log.debug({ err: String(e), flow }, 'unparseable message dropped');
        }
        return;
      }
      if (msg instanceof SipResponse) {
        this.clients.receive(msg);
        return;
      }
      if (tooLarge) {
        this.replyStateless(msg, flow, transport, 513, 'Message Too Large');
        return;
      }
      this.receiveRequest(msg, flow, transport);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.stack : String(e), flow }, 'error handling message');
    }
  }

  /** Asks admission control about a request before the full parse; true when it was answered 503 here. */
  private refused(data: Buffer, flow: Flow, transport: Transport): boolean {
    const admission = this.admission!;
    const method = requestMethod(data);
    if (method === undefined || !admission.methods.has(method) || admission.admit(method, this.pending, flow))
      return false;
    const known = (key: string): boolean => this.servers.has(key) || this.completedServers.get(key) !== undefined;
    return shedRequest(data, flow, transport, admission, this.random, known);
  }

  private receiveRequest(req: SipRequest, flow: Flow, transport: Transport): void {
    let key: string;
    let topVia: Via | undefined;
    try {
      topVia = req.via[0];
      // Touch what matching and responding need, so a malformed header gets its 400 here.
      const _checked = [req.from, req.to, req.callId];
      key = serverKey(req, topVia, req.method === 'ACK' ? 'INVITE' : req.method);
    } catch (e) {
      const reason = e instanceof SipParseError ? e.reason : 'Bad Request';
      this.replyStateless(req, flow, transport, 400, reason);
      return;
    }
    if (req.method === 'ACK') return; // §17.2.1: ACK for a non-2xx is absorbed; no INVITE transactions here.
    const existing = this.servers.get(key);
    if (existing !== undefined) {
      existing.tx?.receiveRequest();
      return;
    }
    const completed = this.completedServers.get(key);
    if (completed !== undefined) {
      // §17.2.2: a retransmission in Completed gets the last response again.
      const data = unpackResponse(completed, copiedFields(req, stampedVia(req.headers.getAll('via')[0], flow, topVia)));
      if (data === undefined) return;
      const to = responseFlow(flow, transport, topVia);
      this.trace('send', data, to);
      sendOver(transport, to, data, () => undefined); // a lost resend is like a lost datagram
      return;
    }
    const entry = this.createServer(req, flow, transport, key, topVia);
    if (req.method === 'CANCEL') {
      this.cancel(entry, req, topVia);
      return;
    }
    invokeHandler(this.handler, incomingOf(entry), this.log);
  }

  private createServer(req: SipRequest, flow: Flow, transport: Transport, rawKey: string, topVia: Via): ServerEntry {
    // The servers Map holds the key for the transaction's life: one flat string of its own, not a concatenation
    // of slices of the request's text.
    const key = ownString(rawKey);
    const callId = ownString(req.callId);
    const via = { received: topVia.received, port: topVia.port };
    let sentVia: string | undefined;
    const tx = new NonInviteServerTransaction(key, transport.reliable, {
      clock: this.clock,
      timers: this.timers,
      queue: this.queue,
      send: (data, onError) => {
        const to = responseFlow(flow, transport, via);
        this.trace('send', data, to);
        sendOver(transport, to, data, onError);
      },
      terminated: () => {
        this.servers.delete(key);
        if (entry.incoming !== undefined) this.pending--;
        entry.incoming = undefined;
        entry.tx = undefined;
      },
      transportError: (error) => {
        this.log.warn({ err: error.message, callId }, 'response could not be sent');
      },
      complete: (data) => {
        // Without what it copied from the request: a retransmission brings that again.
        const [text, tag] = packedParts(data, copiedFields(req, sentVia));
        this.completedServers.add(key, text, tag);
      },
    });
    const entry: ServerEntry = { tx, incoming: undefined };
    const incoming = new ServerRequest(
      req,
      flow,
      () => this.random.tag(),
      (_inc, status, data, topVia) => {
        sentVia = topVia;
        const sent = tx.respond(status, data);
        // Completed keeps only the serialized response for retransmissions (Timer J holds it 32 s on UDP):
        // dropping the parsed request keeps long-lived memory per transaction small.
        if (sent && status >= 200 && entry.incoming !== undefined) {
          entry.incoming = undefined;
          this.pending--;
        }
        return sent;
      },
    );
    entry.incoming = incoming;
    this.pending++;
    this.servers.set(key, entry);
    return entry;
  }

  /** CANCEL (RFC 3261 §9.2): 200 when it matches a transaction (487 to a pending INVITE), else 481. */
  private cancel(entry: ServerEntry, req: SipRequest, topVia: Via): void {
    let target: ServerEntry | undefined;
    try {
      target = this.servers.get(serverKey(req, topVia, 'INVITE'));
    } catch {
      target = undefined;
    }
    if (target === undefined) {
      incomingOf(entry).respond(481, 'Call/Transaction Does Not Exist');
      return;
    }
    incomingOf(entry).respond(200, 'OK');
    // A target that already sent its final response no longer holds its request: nothing to terminate.
    if (target.incoming && !target.incoming.responded) target.incoming.respond(487, 'Request Terminated');
  }

  /** Answers outside any transaction (malformed or too large requests); ACK is never answered. */
  private replyStateless(req: SipRequest, flow: Flow, transport: Transport, status: number, reason: string): void {
    replyStateless(req, flow, transport, status, reason, this.random, this.log);
  }
}

/** The request of a transaction that has not answered yet (always the case right after creation). */
function incomingOf(entry: ServerEntry): ServerRequest {
  if (!entry.incoming) throw new Error('server transaction already answered');
  return entry.incoming;
}
