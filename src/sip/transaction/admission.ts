import { headResponse, parseRequestHead } from '../message/request-head';
import type { Random } from '../ports/random';
import type { Flow, Transport } from '../transport/transport';
import { rfc3261Key } from './stack-support';

/**
 * Admission of new work (DESIGN.md: under overload the server sheds load with 503 and Retry-After). The
 * stack asks before it parses a request of one of `methods`; a refused request that opens no dialog and
 * matches no transaction is answered 503 statelessly from a minimal parse, so that refusing costs far less
 * than serving. In-dialog requests, retransmissions and other methods always take the full path.
 */
export interface AdmissionControl {
  /** Methods subject to admission (e.g. REGISTER, SUBSCRIBE, PUBLISH). */
  readonly methods: ReadonlySet<string>;
  /**
   * Called once per arriving request of `methods`, with the number of requests handed to the TU and not yet
   * answered with a final response, and the flow it came on (its source address, for per-address limits);
   * false refuses it (unless it turns out to be in a dialog).
   */
  admit(method: string, pending: number, flow: Flow): boolean;
  /** Told of each request answered 503 by the stack. */
  shed?(method: string): void;
  /** Retry-After seconds of the 503 (RFC 3261 §21.5.4), read right after `admit` refused. */
  readonly retryAfter: number;
}

/**
 * Answers a refused request 503 with Retry-After without the full parse or a transaction. Returns false when
 * the request must take the full path instead: in a dialog, a retransmission of a transaction in progress
 * (`hasTransaction`), or unreadable (the full path answers 400).
 */
export function shedRequest(
  data: Buffer,
  flow: Flow,
  transport: Transport,
  admission: AdmissionControl,
  random: Random,
  hasTransaction: (key: string) => boolean,
): boolean {
  const head = parseRequestHead(data);
  if (head === undefined || head.inDialog) return false;
  const key = rfc3261Key(head.topVia.branch, `${head.topVia.host}:${head.topVia.port ?? ''}`, head.method);
  if (key !== undefined && hasTransaction(key)) return false;
  const res = headResponse(
    head,
    503,
    'Service Unavailable',
    random.tag(),
    { address: flow.remoteAddress, port: flow.remotePort },
    { 'Retry-After': String(admission.retryAfter) },
  );
  admission.shed?.(head.method);
  transport.send(flow, res).catch(() => undefined);
  return true;
}
