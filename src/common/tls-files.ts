import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load-config';

/**
 * Reads a PEM file named by a setting; a file that cannot be read stops the start with the setting's name
 * (a {@link ConfigError}, exit code 2). Empty path: undefined.
 */
export function readPem(setting: string, path: string): Buffer | undefined {
  if (path === '') return undefined;
  try {
    const pem = readFileSync(path);
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (e) {
    throw new ConfigError([`${setting} ${path} cannot be read: ${(e as Error).message}`]);
  }
}
