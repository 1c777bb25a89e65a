import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './startup';

/** What a load client printed: its command line and the last JSON line of its stdout (undefined: none). */
export interface LoadClientResult {
  readonly command: string;
  readonly result: unknown;
}

/**
 * Runs a load client (`bench/load/*.ts`) as its own process through ts-node, its stderr passed through;
 * resolves with the last JSON line it printed. Killed after `timeoutMs`.
 */
export function runLoadClient(script: string, clientArgs: string[], timeoutMs: number): Promise<LoadClientResult> {
  const command = `ts-node --transpile-only ${script} ${clientArgs.join(' ')}`;
  process.stderr.write(`$ ${command}\n`);
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules/ts-node/dist/bin.js'), '--transpile-only', join(root, script), ...clientArgs],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', () => {
      clearTimeout(timer);
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      let result: unknown;
      try {
        result = line === undefined ? undefined : JSON.parse(line);
      } catch {
        result = undefined;
      }
      resolve({ command, result });
    });
  });
}
