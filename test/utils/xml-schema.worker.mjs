// Worker of test/utils/xml-schema.ts: validates documents with libxml2 compiled to WebAssembly (npm
// libxml2-wasm). That package is ES modules only, with top-level await, so Jest's CommonJS runtime cannot
// load it; a worker thread runs outside Jest's module system and answers one request at a time.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';

/** @type {{ port: import('node:worker_threads').MessagePort, signal: Int32Array }} */
const { port, signal } = workerData;

let lib;
let loadError;
try {
  lib = await import('libxml2-wasm');
  // Lets a schema's xs:import schemaLocation (xml.xsd) resolve against the schema's own file.
  (await import('libxml2-wasm/lib/nodejs.mjs')).xmlRegisterFsInputProviders();
} catch (e) {
  loadError = `libxml2-wasm could not be loaded (npm install): ${e?.message ?? e}`;
}

/** Parsed schemas by path, kept for the life of the worker. */
const validators = new Map();

function validatorFor(xsdPath) {
  let validator = validators.get(xsdPath);
  if (validator === undefined) {
    const schema = lib.XmlDocument.fromString(readFileSync(xsdPath, 'utf8'), { url: pathToFileURL(xsdPath).href });
    validator = lib.XsdValidator.fromDoc(schema);
    validators.set(xsdPath, validator);
  }
  return validator;
}

/** libxml2's diagnostics in xmllint's shape, `-:line: message`, one per line. */
function describe(error) {
  if (Array.isArray(error?.details)) return error.details.map((d) => `-:${d.line}: ${d.message.trim()}`).join('\n');
  return String(error?.message ?? error);
}

function validate({ xml, xsdPath }) {
  if (loadError !== undefined) return { ok: false, errors: loadError };
  try {
    const validator = validatorFor(xsdPath);
    const doc = lib.XmlDocument.fromString(xml, { url: 'document.xml' });
    try {
      validator.validate(doc);
      return { ok: true, errors: '' };
    } finally {
      doc.dispose();
    }
  } catch (e) {
    return { ok: false, errors: describe(e) };
  }
}

port.on('message', (request) => {
  port.postMessage(validate(request));
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
