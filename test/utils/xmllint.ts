/**
 * Schema validation with libxml2's `xmllint` (package libxml2-utils), for tests that check what the server
 * writes against the RFC schemas in test/fixtures/xsd/.
 */
import { spawnSync } from 'node:child_process';

export interface XmlValidation {
  readonly ok: boolean;
  /** xmllint's diagnostics (stderr), or why it could not run. */
  readonly errors: string;
}

/** Validates `xml` (passed on stdin) against the schema at `xsdPath` with `xmllint --noout --schema`. */
export function validateXml(xml: string, xsdPath: string): XmlValidation {
  const run = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsdPath, '-'], {
    input: xml,
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (run.error) return { ok: false, errors: `xmllint could not run: ${run.error.message}` };
  return { ok: run.status === 0, errors: run.stderr.trim() };
}
