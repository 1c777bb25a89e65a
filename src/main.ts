import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { listenFailure } from './common/listen-failure';
import { ConfigError } from './config/load-config';
import { processConfig } from './config/process-config';
import { startApp } from './app.factory';

/**
 * V8 lets the old generation grow up to fourfold before its next full collection, so garbage left by a load
 * peak stays resident for long; capped at 25% the RSS per held subscription falls by a third at about the same
 * GC time (README, "Memory: where the RSS goes"). Set here so that it holds however the server is started; a
 * `--heap-growing-percent` given to node itself wins. The flags that cannot be set once V8 runs are listed in
 * `TUNED_NODE_FLAGS` (common/node-flags.ts); package.json's start scripts give them.
 */
const HEAP_GROWING_PERCENT = 25;

async function bootstrap(): Promise<void> {
  if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent'))) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  }
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
    // A certificate file that cannot be read is a configuration error too.
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    // A port taken or not ours to use: one line and the configuration error's exit code, not a stack trace.
    const line = listenFailure(e, config);
    if (line === undefined) throw e;
    process.stderr.write(`${line}\n`);
    process.exit(2);
  }
}

void bootstrap();
