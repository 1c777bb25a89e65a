import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { envName, SETTINGS } from './config-schema';

describe('README configuration table', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  it.each(SETTINGS.map((s) => [s.key, s] as const))('documents %s with its environment name and default', (key, s) => {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    expect(row).toBeDefined();
    expect(row).toContain(`\`${envName(key)}\``);
    const def = Array.isArray(s.default)
      ? s.default.length
        ? s.default.join(',')
        : '(empty)'
      : s.default === ''
        ? '(empty)'
        : String(s.default);
    expect(row).toContain(`| ${def} |`);
  });
});
