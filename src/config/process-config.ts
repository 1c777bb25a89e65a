import type { AppConfig } from './app-config';
import { loadConfig } from './load-config';

/** The configuration of this process, from its environment (the only reader of `process.env`). */
export function processConfig(): AppConfig {
  return loadConfig(process.env);
}
