import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { createPino, PinoNestLogger } from './common/app-logger';
import { ApiErrorFilter, bodyParserErrorToDomainError } from './common/domain-error.filter';
import { SharedWsAdapter } from './common/shared-ws.adapter';
import type { AppConfig } from './config/app-config';
import { GroupCommit } from './database/group-commit';
import { SipBridge } from './sip-bridge/sip-bridge.service';

/** Writes queued for commit above which new SIP work is refused with 503 (about two seconds of commits). */
const MAX_PENDING_WRITES = 20_000;

export interface RunningApp {
  readonly app: NestExpressApplication;
  readonly httpPort: number;
  /** Bound SIP ports by transport (`udp`, `tcp`, `ws`). */
  readonly sipPorts: Record<string, number>;
  close(): Promise<void>;
}

/**
 * Builds and starts the whole service: HTTP (REST, OpenAPI, WebSockets) and the SIP transports.
 * Used by `main.ts` and by the end-to-end tests, so both run exactly the same application.
 */
export async function startApp(config: AppConfig): Promise<RunningApp> {
  const pino = createPino(config.log.level);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, pino), {
    logger: new PinoNestLogger(pino),
    // Parsers are registered below, so that the error mapping can follow them.
    bodyParser: false,
  });
  app.useGlobalFilters(new ApiErrorFilter());
  app.useBodyParser('json');
  app.useBodyParser('urlencoded', { extended: true });
  app.useBodyParser('text', { type: ['application/pidf+xml', 'application/*+xml', 'application/xml'] });
  app.use(bodyParserErrorToDomainError);
  app.useWebSocketAdapter(new SharedWsAdapter(app, ['/sip']));
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle('Presence Hub')
    .setDescription('Registrar and presence server for SIP devices and browsers')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
  await app.init();
  const bridge = app.get(SipBridge);
  // Writes waiting for their commit are acknowledgements owed: past this many, new work is refused.
  const commits = app.get(GroupCommit);
  bridge.addOverloadProbe(() => commits.pending > MAX_PENDING_WRITES);
  await app.listen(config.http.port, config.http.host);
  const httpPort = (app.getHttpServer().address() as AddressInfo).port;
  return {
    app,
    httpPort,
    sipPorts: bridge.ports(),
    close: () => app.close(),
  };
}
