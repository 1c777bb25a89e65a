import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AccessService } from './access/access.service';
import { ApiKeyService } from './access/api-key.service';
import { RateLimits } from './access/rate-limits';
import { SubscriberService } from './auth/subscriber.service';
import { AppModule } from './app.module';
import { createPino, PinoNestLogger } from './common/app-logger';
import { ApiErrorFilter, bodyParserErrorToDomainError } from './common/domain-error.filter';
import { assertTcpPortFree } from './common/listen-failure';
import { OriginPolicy } from './common/origin-policy';
import { readPem } from './common/tls-files';
import { SharedWsAdapter } from './common/shared-ws.adapter';
import { missingNodeFlags } from './common/node-flags';
import { startReport } from './common/start-report';
import type { AppConfig } from './config/app-config';
import { describeDatabase } from './database/data-source-options';
import { PROFILES_PATH } from './presence-profile/profiles.controller';
import { GroupCommit } from './database/group-commit';
import { SIP_WS_PATH } from './sip-bridge/bridge-transports';
import { SipBridge } from './sip-bridge/sip-bridge.service';

/** Writes queued for commit above which new SIP work is refused with 503 (about two seconds of commits). */
const MAX_PENDING_WRITES = 20_000;

export interface RunningApp {
  readonly app: NestExpressApplication;
  readonly httpPort: number;
  /** Bound SIP ports by transport (`udp`, `tcp`, `tls`, `ws` or `wss`). */
  readonly sipPorts: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Builds and starts the whole service: HTTP (REST, OpenAPI, WebSockets) and the SIP transports.
 * Used by `main.ts` and by the end-to-end tests, so both run exactly the same application.
 */
export async function startApp(config: AppConfig): Promise<RunningApp> {
  // A taken HTTP port is reported before the database and SIP are opened (main.ts: one line, exit code 2).
  await assertTcpPortFree(config.http.host, config.http.port);
  const pino = createPino(config.log.level);
  // HTTPS (and so WSS for /ws and /sip) when http.tlsCert and http.tlsKey are set.
  const cert = readPem('http.tlsCert', config.http.tlsCert);
  const key = readPem('http.tlsKey', config.http.tlsKey);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, pino), {
    ...(cert && key && { httpsOptions: { cert, key } }),
    logger: new PinoNestLogger(pino),
    // Parsers are registered below, so that the error mapping can follow them.
    bodyParser: false,
  });
  // GET presence sends the publication's entity tag itself; Express's body hash would not work as If-Match.
  app.set('etag', false);
  const origins = new OriginPolicy(config.http.corsOrigins);
  // Without configured origins no CORS headers are sent: browsers then allow the same origin only.
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: (origin: string | undefined, cb: (err: Error | null, allow?: boolean) => void) => {
        cb(null, origin !== undefined && origins.allowsCrossOrigin(origin));
      },
      exposedHeaders: ['ETag'],
    });
  }
  app.useGlobalFilters(new ApiErrorFilter());
  // Per source address, before any body is read: 429 with Retry-After (README, "Security").
  const limits = app.get(RateLimits);
  app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const retry = limits.httpSource(req.socket.remoteAddress);
    if (retry === 0) {
      next();
      return;
    }
    const body = { statusCode: 429, error: 'Too Many Requests', message: `too many requests from this address` };
    res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': String(retry) });
    res.end(JSON.stringify(body));
  });
  // Profile documents are stored byte for byte whatever their type: their route takes every body raw, first.
  app.useBodyParser('raw', {
    type: (req: IncomingMessage) => (req.url ?? '').startsWith(PROFILES_PATH),
    limit: config.presenceProfile.maxDocumentSize,
  });
  app.useBodyParser('json');
  app.useBodyParser('urlencoded', { extended: true });
  // Event packages' documents for REST PUT: XML (PIDF, reginfo, ...) and text types arrive as strings.
  app.useBodyParser('text', { type: ['application/*+xml', 'application/xml', 'text/*'] });
  app.use(bodyParserErrorToDomainError);
  const access = app.get(AccessService);
  app.useWebSocketAdapter(
    new SharedWsAdapter(
      app,
      [SIP_WS_PATH],
      (req) => origins.allowsRequest(req),
      (req) => access.checkUpgrade(req, true),
    ),
  );
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle('Presence Hub')
    .setDescription('Registrar and presence server for SIP devices and browsers')
    .setVersion('0.1.0')
    // API keys (auth.enabled): Swagger UI's Authorize button sends them as a bearer token on every route.
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key, ph_…' })
    .addSecurityRequirements('bearer')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
  await app.init();
  if (config.auth.enabled && config.auth.bootstrapAdminKey) {
    const created = await app.get(ApiKeyService).ensureAdminKey();
    // Shown once, never stored: only its hash is kept. Another one comes from `npm run key:create`.
    if (created) {
      pino.warn(
        { context: 'PresenceHub', keyId: created.record.id },
        `no admin API key existed; created one (shown only now, keep it): ${created.key}`,
      );
    }
  }
  if (config.auth.enabled && config.auth.sipMethods.length > 0 && !(await app.get(SubscriberService).any())) {
    const methods = config.auth.sipMethods.map((m) => m.toUpperCase()).join(', ');
    pino.warn(
      { context: 'PresenceHub' },
      `auth.enabled is on and no SIP user exists: ${methods} from anyone but auth.trustedPeers are refused ` +
        '(401/407) until users are created with POST /api/subscribers',
    );
  }
  const bridge = app.get(SipBridge);
  // Writes waiting for their commit are acknowledgements owed: past this many, new work is refused.
  const commits = app.get(GroupCommit);
  bridge.addOverloadProbe(() => commits.pending > MAX_PENDING_WRITES);
  await app.listen(config.http.port, config.http.host);
  const httpAddress = app.getHttpServer().address() as AddressInfo;
  const httpPort = httpAddress.port;
  const report = startReport(
    bridge.listeners(),
    { address: httpAddress.address, port: httpAddress.port, secure: cert !== undefined },
    describeDatabase(app.get(DataSource).options),
  );
  pino.info({ context: 'PresenceHub', ...report.fields }, report.message);
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length > 0) {
    pino.info(
      { context: 'PresenceHub', missingNodeFlags: missing },
      `node started without ${missing.join(' ')}, which npm run start:prod gives (README: under load on a small ` +
        'machine, and after an idle spell, the server answers later without them)',
    );
  }
  return {
    app,
    httpPort,
    sipPorts: bridge.ports(),
    close: () => app.close(),
  };
}
