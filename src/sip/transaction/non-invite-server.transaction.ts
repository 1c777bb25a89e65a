import type { Clock } from '../ports/clock';
import { TimerQueue, type TimerTarget } from './timer-queue';
import { TransactionState, timerJ, type TimerValues } from './transaction-state';

/** What a server transaction needs from the stack. */
export interface ServerTransactionHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** The shared timer queue for a delay in ms; without it the transaction runs its own on `clock`. */
  queue?(delay: number): TimerQueue;
  /** Sends a response; a transport error goes to `onError`. */
  send(data: Buffer, onError: (error: Error) => void): void;
  /** Called once when the transaction reaches Terminated. */
  terminated(): void;
  /** Called on a transport error (RFC 3261 §17.2.4). */
  transportError(error: Error): void;
  /**
   * Takes over the Completed state on an unreliable transport: answers retransmissions with `response` until
   * Timer J (a CompletedTransactions record); the transaction then terminates at once. Without it the
   * transaction waits for Timer J itself.
   */
  complete?(response: Buffer): void;
}

/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). The request was passed to the TU when the
 * transaction was created (Trying). Retransmissions of the request are absorbed in Trying and answered with
 * the last response in Proceeding and Completed. A final response moves to Completed and starts Timer J
 * (64*T1 on unreliable transports, 0 on reliable ones), whose expiry moves to Terminated. Timer J runs on
 * the host's shared {@link TimerQueue} for its delay.
 */
export class NonInviteServerTransaction implements TimerTarget {
  state = TransactionState.Trying;
  private lastResponse: Buffer | undefined;
  private timer = -1;
  private queueJ: TimerQueue | undefined;

  constructor(
    readonly key: string,
    private readonly reliable: boolean,
    private readonly host: ServerTransactionHost,
  ) {}

  /** A retransmission of the request arrived (RFC 3261 §17.2.2). */
  receiveRequest(): void {
    switch (this.state) {
      case TransactionState.Trying:
      case TransactionState.Terminated:
        return; // Trying: discarded; Terminated: the transaction is gone.
      case TransactionState.Proceeding:
      case TransactionState.Completed:
        if (this.lastResponse !== undefined) this.transmit(this.lastResponse);
        return;
    }
  }

  /** The TU sends a response (RFC 3261 §17.2.2). Returns false when the transaction no longer accepts one. */
  respond(status: number, data: Buffer): boolean {
    switch (this.state) {
      case TransactionState.Trying:
      case TransactionState.Proceeding:
        this.lastResponse = data;
        this.transmit(data);
        if (status < 200) {
          this.state = TransactionState.Proceeding; // §17.2.2: provisional → Proceeding
        } else {
          this.state = TransactionState.Completed; // §17.2.2: final → Completed, Timer J
          if (timerJ(this.host.timers, this.reliable) === 0) {
            // Timer J is 0 on reliable transports: Terminated at once, so that a new request reusing the branch
            // right after this response is a new transaction, not a retransmission of this one.
            this.terminate();
            return true;
          }
          if (this.host.complete !== undefined) {
            this.host.complete(data);
            this.terminate();
            return true;
          }
          // Kept for Timer J (32 s on UDP): a copy of its own, so that it pins no shared 8 KiB pool slab.
          this.lastResponse = ownCopy(data);
          this.timer = this.timerQueue().add(this, 0);
        }
        return true;
      case TransactionState.Completed:
      case TransactionState.Terminated:
        return false; // §17.2.2: further final responses are not passed to the transport.
    }
  }

  /** Stops the timer and moves to Terminated. */
  terminate(): void {
    if (this.state === TransactionState.Terminated) return;
    this.state = TransactionState.Terminated;
    if (this.timer !== -1) this.timerQueue().cancel(this.timer);
    this.timer = -1;
    this.host.terminated();
  }

  /** Timer J fired. @internal */
  fire(): void {
    this.timer = -1;
    this.terminate();
  }

  private timerQueue(): TimerQueue {
    const delay = timerJ(this.host.timers, this.reliable);
    return (this.queueJ ??= this.host.queue?.(delay) ?? new TimerQueue(this.host.clock, delay));
  }

  private transmit(data: Buffer): void {
    this.host.send(data, (e) => {
      // §17.2.4: a transport failure terminates the transaction and is reported to the TU.
      this.host.transportError(e);
      this.terminate();
    });
  }
}

/** `data` in a buffer of exactly its size (a small `Buffer.from` is a slice of a shared pool slab). */
function ownCopy(data: Buffer): Buffer {
  if (data.byteOffset === 0 && data.buffer.byteLength === data.length) return data;
  const copy = Buffer.allocUnsafeSlow(data.length);
  data.copy(copy);
  return copy;
}
