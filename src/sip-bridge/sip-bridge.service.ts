import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { AccessService } from '../access/access.service';
import type { Principal } from '../access/principal';
import { RateLimits } from '../access/rate-limits';
import { refusalResponse } from '../common/shared-ws.adapter';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import {
  readUdpSocketStats,
  SipError,
  SipStack,
  type Flow,
  type IncomingRequest,
  type SipLogger,
  type SipRequest,
  type SipResponse,
  type TlsPeer,
  type Transport,
} from '../sip';
import { PINO, sipLoggerOf } from '../common/app-logger';
import type { Listener } from '../common/start-report';
import type { Logger as Pino } from 'pino';
import { createTransports, SIP_WS_PATH } from './bridge-transports';
import { statusOf } from './handler-errors';
import { ANY_EVENT, answerOptions, computeCapabilities } from './capabilities';
import { OverloadGuard, type OverloadProbe } from './overload-guard';
import { RequestRouters } from './request-routers';
import {
  KNOWN_METHODS,
  SUPPORTED_EXTENSIONS,
  type DialogRouter,
  type SipAuthenticator,
  type SipCapabilities,
  type SipRequestHandler,
} from './sip-handler';
import { SipWsIdentities } from './sip-ws-identities';
import { SourceRateAdmission } from './source-admission';

/** Methods whose new requests (no To tag) are refused while overloaded; in-dialog work goes on. */
const SHED_METHODS = ['REGISTER', 'SUBSCRIBE', 'PUBLISH'];

/**
 * Bytes waiting in the UDP socket above which a growing queue (while the event loop is busy) counts as backed
 * up: some thousand requests, a quarter of a second at a few thousand a second (the kernel counts some 1–2 KiB
 * per small datagram; the socket holds 8 MiB).
 */
const MAX_QUEUED_BYTES = 2 * 1024 * 1024;

/**
 * The SIP bridge: owns the SIP stack and its transports, answers what no feature handles (OPTIONS, 405,
 * 501, 404, 416, 420, 483), and dispatches requests to the handlers feature modules register by method
 * and Event package. It knows no feature.
 */
@Injectable()
export class SipBridge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('SipBridge');
  private readonly handlers = new Map<string, Map<string, SipRequestHandler>>();
  private readonly accept = new Set<string>();
  private readonly closeListeners: ((flow: Flow) => void)[] = [];
  private readonly pins: ((connectionId: string) => boolean)[] = [];
  private readonly routers = new RequestRouters();
  /** Methods whose requests for domains not served here still go to their handler (see serveOtherDomains). */
  private readonly otherDomainMethods = new Set<string>();
  private readonly overload: OverloadGuard;
  private shuttingDown = false;
  private caps: SipCapabilities | undefined;
  private authenticator: SipAuthenticator | undefined;
  private stack: SipStack | undefined;
  private readonly transports: Transport[] = [];
  private readonly wsIdentities: SipWsIdentities;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PINO) private readonly pino: Pino,
    private readonly adapterHost: HttpAdapterHost,
    private readonly access: AccessService,
    private readonly limits: RateLimits,
  ) {
    this.wsIdentities = new SipWsIdentities((p) => access.identityLimit(p));
    this.overload = new OverloadGuard({
      maxLoopDelayMs: config.sip.overloadDelayMs,
      windowMs: 100,
      maxPending: config.sip.maxPendingRequests,
      maxQueuedBytes: MAX_QUEUED_BYTES,
      methods: SHED_METHODS,
      report: (m) => {
        this.log.warn(m);
      },
    });
  }

  /** Adds a saturation signal (e.g. the commit queue) to the overload decision. */
  addOverloadProbe(probe: OverloadProbe): void {
    this.overload.addProbe(probe);
  }

  /** Transports start when the application boots, before sweeps that may send NOTIFYs. */
  async onApplicationBootstrap(): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    await this.start(server);
  }

  /** Registers the handler of `method` (for one Event package, or any when `event` is omitted). */
  register(method: string, handler: SipRequestHandler, event = ANY_EVENT): void {
    let byEvent = this.handlers.get(method);
    if (!byEvent) this.handlers.set(method, (byEvent = new Map<string, SipRequestHandler>()));
    if (byEvent.has(event)) throw new Error(`a ${method} handler for event ${event} is already registered`);
    byEvent.set(event, handler);
    this.caps = undefined;
  }

  /** Sets the check every routed request passes before its handler (SIP digest); one at most. */
  useAuthenticator(authenticator: SipAuthenticator): void {
    if (this.authenticator) throw new Error('a SIP authenticator is already set');
    this.authenticator = authenticator;
  }

  /** Adds a router of in-dialog requests (by Call-ID and tags), asked before the handlers (RequestRouters). */
  addDialogRouter(router: DialogRouter): void {
    this.routers.addDialogRouter(router);
  }

  /** Adds a router asked about every request before the handlers (a PUBLISH of a feature's own that came back). */
  addRequestRouter(router: DialogRouter): void {
    this.routers.addRequestRouter(router);
  }

  /**
   * Lets requests of `method` for domains outside sip.domains reach their handler instead of 404: a feature
   * that serves them on another server's behalf (B2B as a presence proxy for SUBSCRIBE).
   */
  serveOtherDomains(method: string): void {
    this.otherDomainMethods.add(method);
  }

  /**
   * Adds a test of whether a connection carries something of a feature (a binding, a subscription): a
   * connection no test claims is closed once it has been idle for sip.idleConnectionMs.
   */
  addConnectionPin(pinned: (connectionId: string) => boolean): void {
    this.pins.push(pinned);
  }

  /** Subscribes to closed TCP/WS connections (RFC 5626 §5.3: the flow failed). */
  onConnectionClosed(listener: (flow: Flow) => void): void {
    this.closeListeners.push(listener);
  }

  /** Adds media types to the Accept header of OPTIONS answers. */
  addAccept(...types: string[]): void {
    for (const t of types) this.accept.add(t);
    this.caps = undefined;
  }

  /** What OPTIONS, Allow and Allow-Events announce; computed when handlers change, not per request. */
  capabilities(): SipCapabilities {
    this.caps ??= computeCapabilities(this.handlers, this.accept);
    return this.caps;
  }

  /**
   * Starts the transports: UDP and TCP on sip.host:sip.port, TLS on sip.tlsPort when its certificate is set, WS
   * (WSS on an HTTPS server) at {@link SIP_WS_PATH} on the HTTP server.
   */
  async start(httpServer: Server | undefined): Promise<void> {
    const { sip } = this.config;
    this.transports.push(
      ...createTransports(this.config, this.advertisedHost(), httpServer, {
        isPinned: (flow) => flow.connectionId !== undefined && this.pins.some((p) => p(flow.connectionId!)),
        // API keys (required with auth.sipWsRequireToken, else SIP digest may authenticate) and the HTTP rate.
        checkUpgrade: async (req) => {
          const refusal = await this.access.checkUpgrade(req, this.config.auth.sipWsRequireToken);
          return refusal && refusalResponse(refusal);
        },
        onWsConnection: (id, req) => {
          this.wsIdentities.bind(id, req);
        },
      }),
    );
    for (const t of this.transports) {
      t.onConnectionClosed((flow) => {
        this.wsIdentities.drop(flow);
        for (const l of this.closeListeners) {
          try {
            l(flow);
          } catch (e) {
            this.log.error(`connection-closed listener failed: ${(e as Error).message}`);
          }
        }
      });
    }
    const stack = new SipStack({
      transports: this.transports,
      timers: { t1: sip.t1, t2: sip.t2, t4: sip.t4 },
      maxMessageSize: sip.maxMessageSize,
      udpMaxRequestSize: sip.udpMaxRequestSize,
      logger: this.sipLogger(),
      // A rate per source address in front of the overload guard (off: the guard alone, as before).
      admission: this.limits.sipEnabled
        ? new SourceRateAdmission(this.overload, (address) => this.limits.sipSource(address))
        : this.overload,
    });
    stack.onRequest((req) => {
      void this.dispatch(req);
    });
    await stack.start();
    this.stack = stack;
    const udp = this.transports.find((t) => t.protocol === 'udp');
    this.overload.start(
      udp && (() => readUdpSocketStats(udp.localPort, udp.localAddress.includes(':'))),
      () => stack.pendingRequests,
    );
  }

  /** Host written in Via/Contact of what we send: sip.advertisedHost, else the listen address. */
  advertisedHost(flow?: Flow): string {
    const { sip } = this.config;
    if (sip.advertisedHost) return sip.advertisedHost;
    const local = flow?.localAddress ?? sip.host;
    return local === '0.0.0.0' || local === '::' || local === '' ? '127.0.0.1' : local;
  }

  /**
   * Our Contact for dialogs on `flow` (RFC 6665 §4.1.3): where the peer sends in-dialog requests. Over TLS it is
   * a `sips:` URI (RFC 3261 §12.1.1: a dialog begun over TLS stays secure) with `transport=tls`.
   */
  localContact(flow: Flow): string {
    const host = this.advertisedHost(flow);
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const port =
      flow.protocol === 'ws' || flow.protocol === 'wss'
        ? (this.ports()[flow.protocol] ?? flow.localPort)
        : flow.localPort;
    const transport = flow.protocol === 'udp' ? '' : `;transport=${flow.protocol}`;
    const scheme = flow.protocol === 'tls' ? 'sips' : 'sip';
    return `<${scheme}:${h}:${port}${transport}>`;
  }

  /**
   * The certificate identity of the peer of a TLS flow (subject, subjectAltNames, the SIP domains they name and
   * whether it verified against sip.tlsCa), or undefined for other flows and peers without a certificate. A
   * trusted-peer rule must check `authorized` before it believes the names.
   */
  tlsPeer(flow: Flow): TlsPeer | undefined {
    return flow.protocol === 'tls' ? flow.tlsPeer : undefined;
  }

  /** Where each transport listens; WS on the HTTP server's address once that listens. */
  listeners(): Listener[] {
    return this.transports.map((t) => ({
      protocol: t.protocol,
      address: t.localAddress,
      port: t.localPort,
      ...((t.protocol === 'ws' || t.protocol === 'wss') && { path: SIP_WS_PATH }),
    }));
  }

  /** Ports the transports are bound to (useful with port 0). */
  ports(): Record<string, number> {
    return Object.fromEntries(this.transports.map((t) => [t.protocol, t.localPort]));
  }

  /** Sends a request in a new client transaction (NOTIFY, PUBLISH, SUBSCRIBE). */
  sendRequest(req: SipRequest, target?: Flow): Promise<SipResponse> {
    if (!this.stack) return Promise.reject(new Error('SIP stack not started'));
    return this.stack.sendRequest(req, target);
  }

  /** The API key identity a request on `flow` acts for, when it came on a /sip connection opened with one. */
  identityOf(flow: Flow): Principal | undefined {
    return this.wsIdentities.of(flow);
  }

  /** Whether a transport likely has messages waiting to be read (see Transport.inputPending). */
  inputPending(): boolean {
    return this.transports.some((t) => t.inputPending?.() === true);
  }

  /** Whether a connection-oriented flow still has its connection. */
  hasConnection(flow: Flow): boolean {
    if (!flow.connectionId) return false;
    return this.transports.some((t) => t.protocol === flow.protocol && t.hasConnection(flow.connectionId!));
  }

  /**
   * Whether the server is shutting down: a request that fails now failed because our own transports close,
   * which says nothing of the peer (a watcher keeps its subscription for the next start).
   */
  get stopping(): boolean {
    return this.shuttingDown;
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.overload.stop();
    await this.stack?.stop();
  }

  private async dispatch(req: IncomingRequest): Promise<void> {
    try {
      this.wsIdentities.check(req.request, req.flow);
      const handler = this.route(req);
      if (!handler) return;
      if (this.authenticator) {
        const verdict = this.authenticator(req);
        if (verdict === false || (verdict !== true && !(await verdict))) return;
      }
      await handler(req);
    } catch (e) {
      const err = statusOf(e);
      if (!req.responded) {
        if (err) req.respond(err.status, err.reason, err.headers);
        else {
          this.log.error(`handler for ${req.request.method} failed: ${(e as Error).stack ?? String(e)}`);
          req.respond(500, 'Server Internal Error');
        }
      }
    }
  }

  /** Checks that apply to every request (RFC 3261 §8.2), then finds the handler; answers itself otherwise. */
  private route(req: IncomingRequest): SipRequestHandler | undefined {
    const r = req.request;
    const method = r.method;
    if (method === 'ACK') return undefined;
    const caps = this.capabilities();
    if (r.uri.scheme !== 'sip' && r.uri.scheme !== 'sips') {
      throw new SipError(416, 'Unsupported URI Scheme');
    }
    const mf = r.maxForwards;
    if (mf === 0 && method !== 'OPTIONS') throw new SipError(483, 'Too Many Hops');
    const routed = this.routers.find(r);
    if (routed) return routed;
    const domains = this.config.sip.domains;
    if (
      domains.length > 0 &&
      !domains.includes(r.uri.host.toLowerCase()) &&
      !this.isOwnAddress(r.uri.host) &&
      !this.otherDomainMethods.has(method)
    ) {
      throw new SipError(404, 'Not Found (domain not served)');
    }
    const unsupported = r.headers
      .getAll('require')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t && !SUPPORTED_EXTENSIONS.includes(t));
    if (unsupported.length > 0) throw new SipError(420, 'Bad Extension', { Unsupported: unsupported.join(', ') });

    const byEvent = this.handlers.get(method);
    if (!byEvent) {
      if (method === 'OPTIONS')
        return (q) => {
          answerOptions(q, caps);
        };
      const allow = { Allow: caps.methods.join(', ') };
      if (KNOWN_METHODS.has(method)) throw new SipError(405, 'Method Not Allowed', allow);
      throw new SipError(501, 'Not Implemented', allow);
    }
    const any = byEvent.get(ANY_EVENT);
    if (byEvent.size === 1 && any) return any;
    const event = r.event;
    if (!event) {
      if (any) return any;
      throw new SipError(489, 'Bad Event (Event header missing)', { 'Allow-Events': caps.events.join(', ') });
    }
    const handler = byEvent.get(event.package) ?? any;
    if (!handler) throw new SipError(489, 'Bad Event', { 'Allow-Events': caps.events.join(', ') });
    return handler;
  }

  private isOwnAddress(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, '');
    return (
      h === this.config.sip.host ||
      h === this.config.sip.advertisedHost ||
      h === '127.0.0.1' ||
      h === '::1' ||
      h === 'localhost' ||
      this.transports.some((t) => t.localAddress === h)
    );
  }

  private sipLogger(): SipLogger {
    // sip.trace shows every message whatever LOG_LEVEL says: the trace gets a child logger of its own level.
    const tracer = this.config.sip.trace ? this.pino.child({ module: 'sip' }, { level: 'trace' }) : null;
    return sipLoggerOf(this.pino.child({ module: 'sip' }), tracer);
  }
}
