import 'reflect-metadata';
import { ConfigError } from './config/load-config';
import { processConfig } from './config/process-config';
import { startApp } from './app.factory';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = processConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  await startApp(config);
}

void bootstrap();
