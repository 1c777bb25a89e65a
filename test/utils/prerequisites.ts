/**
 * System tools the end-to-end tier drives, and the Debian packages that provide them. Jest runs
 * {@link ensureTools} once before the tier (`globalSetup` in test/jest-e2e.config.js): a missing tool is
 * installed with apt-get when the tests run as root, and otherwise the run stops at once with one line naming
 * the package to install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** The binary the tests spawn, looked up on the PATH; or, when it contains a `/`, a file that must exist. */
  readonly command: string;
  /** The Debian package that installs it. */
  readonly debianPackage: string;
}

/** Every system tool a test spawns: SIPp (test/utils/sipp.ts). */
export const E2E_TOOLS: readonly Tool[] = [{ command: 'sipp', debianPackage: 'sip-tester' }];

/** What {@link ensureTools} asks of the machine; a fake in tests. */
export interface ToolHost {
  /** Whether `command` is an executable on the PATH. */
  has(command: string): boolean;
  readonly isRoot: boolean;
  /** Runs a command with the terminal as its output; true when it exits 0. */
  run(command: string, args: readonly string[]): boolean;
}

/**
 * Makes sure every tool is present: as root (with apt-get) the missing packages are installed
 * (`apt-get update`, then `apt-get install -y`, each package once). Returns one line saying what the `suite`
 * needs and what to install when a tool is still missing, or undefined when all are there.
 */
export function ensureTools(tools: readonly Tool[], host: ToolHost, suite = 'end-to-end tests'): string | undefined {
  const missing = (): Tool[] => tools.filter((t) => !host.has(t.command));
  const before = missing();
  if (before.length === 0) return undefined;
  const packages = [...new Set(before.map((t) => t.debianPackage))];
  const names = before.map((t) => t.command).join(', ');
  if (host.isRoot && host.has('apt-get')) {
    const installed = host.run('apt-get', ['update']) && host.run('apt-get', ['install', '-y', ...packages]);
    const after = missing();
    if (after.length === 0) return undefined;
    if (installed) {
      return `${after.map((t) => t.command).join(', ')} still not on the PATH after apt-get install ${packages.join(' ')}`;
    }
  }
  return `The ${suite} need ${names}: install Debian's ${packages.join(' ')} (apt-get install ${packages.join(' ')}) and run them again.`;
}

/** The real machine: PATH lookup, the process's uid, apt-get with the terminal as output. */
export function systemToolHost(env: NodeJS.ProcessEnv = process.env): ToolHost {
  return {
    has: (command) =>
      command.includes('/')
        ? existsSync(command)
        : (env.PATH ?? '')
            .split(delimiter)
            .filter((dir) => dir !== '')
            .some((dir) => {
              try {
                accessSync(join(dir, command), constants.X_OK);
                return true;
              } catch {
                return false;
              }
            }),
    isRoot: process.getuid?.() === 0,
    run: (command, args) =>
      spawnSync(command, args, { stdio: 'inherit', env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0,
  };
}

/** Jest `globalSetup` of the end-to-end tier. */
export default function globalSetup(): void {
  const problem = ensureTools(E2E_TOOLS, systemToolHost());
  if (problem === undefined) return;
  process.stderr.write(`\n${problem}\n`);
  process.exit(1);
}
