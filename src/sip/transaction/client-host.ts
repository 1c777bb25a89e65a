import type { Clock } from '../ports/clock';
import type { Flow, Transport } from '../transport/transport';
import type { ClientTable, KeyedTransaction } from './client-table';
import type { ClientTransactionHost } from './non-invite-client.transaction';
import { sendOver } from './stack-support';
import type { TimerQueue } from './timer-queue';
import type { TimerValues } from './transaction-state';

/** What the client transactions of one stack share. */
export interface ClientHostShared {
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly queue: (delay: number) => TimerQueue;
  /** The stack's client transactions; a transaction leaves it when it terminates. */
  readonly clients: ClientTable<KeyedTransaction>;
  trace(dir: 'send', data: Buffer, flow: Flow): void;
}

/**
 * A client transaction's host: its slot and key, flow and transport, with the behaviour on the prototype. A NOTIFY's
 * transaction lives until the watcher's 200, so under fan-out hundreds are in flight at each young-generation
 * collection; an object literal with two closures per transaction was 18% of the bytes that survived those
 * collections (sampling heap profiler, fan-out to 200 watchers at 120 PUBLISH/s).
 */
export class ClientHost implements ClientTransactionHost {
  constructor(
    private readonly shared: ClientHostShared,
    private readonly slot: number,
    private readonly key: string,
    private readonly flow: Flow,
    private readonly transport: Transport,
  ) {}

  get clock(): Clock {
    return this.shared.clock;
  }

  get timers(): TimerValues {
    return this.shared.timers;
  }

  queue(delay: number): TimerQueue {
    return this.shared.queue(delay);
  }

  send(bytes: Buffer, onError: (error: Error) => void): void {
    this.shared.trace('send', bytes, this.flow);
    sendOver(this.transport, this.flow, bytes, onError);
  }

  terminated(): void {
    this.shared.clients.remove(this.slot, this.key);
  }

  /**
   * The Completed state on UDP only absorbs retransmitted responses (RFC 3261 §17.1.2.2), and a response that
   * matches no transaction is dropped just the same (§18.1.2): nothing is kept for Timer K. At thousands of
   * NOTIFYs a second, a record per NOTIFY held for T4 (5 s) cost more time in the table and the collector than
   * the retransmissions it would ever absorb.
   */
  complete(): void {
    // Nothing to hold.
  }
}
