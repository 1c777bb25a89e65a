import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/load-config';
import { readPem } from './tls-files';

describe('readPem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pem-'));

  it('reads a PEM file, and nothing for an empty path', () => {
    const path = join(dir, 'a.pem');
    writeFileSync(path, '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
    expect(readPem('sip.tlsCert', path)?.toString()).toContain('BEGIN CERTIFICATE');
    expect(readPem('sip.tlsCert', '')).toBeUndefined();
  });

  it('stops the start naming the setting when the file is missing or not PEM', () => {
    expect(() => readPem('sip.tlsKey', join(dir, 'missing.pem'))).toThrow(ConfigError);
    expect(() => readPem('sip.tlsKey', join(dir, 'missing.pem'))).toThrow(/sip\.tlsKey .*missing\.pem cannot be read/);
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    expect(() => readPem('http.tlsCert', junk)).toThrow(/http\.tlsCert .* not a PEM file/);
  });
});
