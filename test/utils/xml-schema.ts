/**
 * XML Schema validation for tests that check what the server writes against the RFC schemas in
 * test/fixtures/xsd/. It uses libxml2 compiled to WebAssembly (npm `libxml2-wasm`), so no system package is
 * needed. The library is ES modules only with top-level await, which Jest's CommonJS runtime cannot load:
 * it runs in a worker thread (`xml-schema.worker.mjs`) that this module waits for synchronously.
 */
import { join, resolve } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export interface XmlValidation {
  readonly ok: boolean;
  /** libxml2's diagnostics, one `-:line: message` per fault; empty when the document is valid. */
  readonly errors: string;
}

/** Longest wait for one answer; the first includes loading the WebAssembly module. */
const TIMEOUT_MS = 30_000;

interface Validator {
  readonly port: MessagePort;
  readonly signal: Int32Array;
}

let validator: Validator | undefined;

function start(): Validator {
  const { port1, port2 } = new MessageChannel();
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(join(__dirname, 'xml-schema.worker.mjs'), {
    workerData: { port: port2, signal },
    transferList: [port2],
  });
  // Neither keeps the test process alive once its tests are done.
  worker.unref();
  port1.unref();
  return { port: port1, signal };
}

/** Validates `xml` against the schema at `xsdPath` (relative to the working directory; its xs:imports beside it). */
export function validateXml(xml: string, xsdPath: string): XmlValidation {
  validator ??= start();
  const { port, signal } = validator;
  Atomics.store(signal, 0, 0);
  port.postMessage({ xml, xsdPath: resolve(xsdPath) });
  if (Atomics.wait(signal, 0, 0, TIMEOUT_MS) === 'timed-out') {
    throw new Error(`XML schema validation did not answer within ${TIMEOUT_MS} ms`);
  }
  const answer = receiveMessageOnPort(port);
  if (answer === undefined) throw new Error('XML schema validation gave no answer');
  return answer.message as XmlValidation;
}
