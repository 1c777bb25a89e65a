import 'reflect-metadata';
import { listenFailure } from './common/listen-failure';
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
  try {
    await startApp(config);
  } catch (e) {
    // A port taken or not ours to use: one line and the configuration error's exit code, not a stack trace.
    const line = listenFailure(e, config);
    if (line === undefined) throw e;
    process.stderr.write(`${line}\n`);
    process.exit(2);
  }
}

void bootstrap();
