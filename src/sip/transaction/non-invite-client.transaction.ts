import type { Clock } from '../ports/clock';
import { TimerQueues, type TimerQueue, type TimerTarget } from './timer-queue';
import { TransactionState, nextTimerE, timerE, timerF, timerK, type TimerValues } from './transaction-state';

/** Why a client transaction ended without a response from the peer. */
export type ClientFailure = 'timeout' | 'transport';

/** What a client transaction needs from the stack. */
export interface ClientTransactionHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** The shared timer queue for a delay in ms; without it the transaction runs its own on `clock`. */
  queue?(delay: number): TimerQueue;
  /** Sends the request; a transport error goes to `onError`. */
  send(data: Buffer, onError: (error: Error) => void): void;
  /** Called once when the transaction reaches Terminated. */
  terminated(): void;
  /**
   * Takes over the Completed state on an unreliable transport (the stack keeps nothing: a retransmitted
   * response then matches no transaction and is dropped, as Completed would absorb it); the transaction
   * terminates at once. Without it the transaction waits for Timer K itself.
   */
  complete?(): void;
}

const E = 0;
const F = 1;
const K = 2;
const NONE = -1;
const EMPTY = Buffer.alloc(0);
const ignore = (): void => undefined;

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). Trying: the request is sent, Timer F (64*T1)
 * bounds the transaction and, on unreliable transports, Timer E retransmits at T1, 2*T1, ... up to T2
 * (every T2 once Proceeding). A provisional response moves to Proceeding; a final one to Completed, where
 * Timer K (T4 unreliable, 0 reliable) absorbs retransmitted responses before Terminated.
 * Timers run on the host's shared {@link TimerQueue}s; once Completed the transaction drops the request
 * bytes and its callbacks, so that only a small record waits for Timer K.
 */
export class NonInviteClientTransaction<R> implements TimerTarget {
  state = TransactionState.Trying;
  private timerE = NONE;
  private timerF = NONE;
  private timerK = NONE;
  private queueE: TimerQueue | undefined;
  private ownQueues: TimerQueues | undefined;
  private intervalE: number;

  constructor(
    readonly key: string,
    private data: Buffer,
    private readonly reliable: boolean,
    private readonly host: ClientTransactionHost,
    /** Receives the final response exactly once, or the reason there is none. */
    private onFinal: (result: R | ClientFailure) => void,
    /** Receives provisional responses. */
    private onProvisional: (response: R) => void = ignore,
  ) {
    this.intervalE = timerE(host.timers);
  }

  /** Sends the request and starts Timers E and F (RFC 3261 §17.1.2.2). */
  start(): void {
    this.transmit();
    this.timerF = this.queue(timerF(this.host.timers)).add(this, F);
    if (!this.reliable) this.scheduleE();
  }

  /** A response matched this transaction (RFC 3261 §17.1.3). */
  receiveResponse(status: number, response: R): void {
    switch (this.state) {
      case TransactionState.Trying:
      case TransactionState.Proceeding:
        if (status < 200) {
          this.state = TransactionState.Proceeding; // §17.1.2.2: 1xx → Proceeding
          this.onProvisional(response);
          return;
        }
        this.state = TransactionState.Completed; // §17.1.2.2: final → Completed, Timer K
        this.clearTimers();
        this.finish(response);
        if (!this.reliable && this.host.complete !== undefined) {
          this.host.complete();
          this.terminate();
          return;
        }
        this.timerK = this.queue(timerK(this.host.timers, this.reliable)).add(this, K);
        return;
      case TransactionState.Completed:
      case TransactionState.Terminated:
        return; // retransmitted responses are absorbed.
    }
  }

  /** Ends the transaction; a pending one reports a transport failure. */
  terminate(failure?: ClientFailure): void {
    if (this.state === TransactionState.Terminated) return;
    const pending = this.state === TransactionState.Trying || this.state === TransactionState.Proceeding;
    this.state = TransactionState.Terminated;
    this.clearTimers();
    if (this.timerK !== NONE) this.queue(timerK(this.host.timers, this.reliable)).cancel(this.timerK);
    this.timerK = NONE;
    if (pending) this.finish(failure ?? 'transport');
    this.host.terminated();
  }

  /** A timer of this transaction fired. @internal */
  fire(timer: number): void {
    if (timer === E) this.fireE();
    else if (timer === F) this.fireF();
    else {
      this.timerK = NONE;
      this.terminate();
    }
  }

  /** Reports the outcome once and lets go of everything only needed until then. */
  private finish(result: R | ClientFailure): void {
    const onFinal = this.onFinal;
    this.onFinal = ignore;
    this.onProvisional = ignore;
    this.data = EMPTY;
    onFinal(result);
  }

  private queue(delay: number): TimerQueue {
    if (this.host.queue !== undefined) return this.host.queue(delay);
    return (this.ownQueues ??= new TimerQueues(this.host.clock)).for(delay);
  }

  private scheduleE(): void {
    this.queueE = this.queue(this.intervalE);
    this.timerE = this.queueE.add(this, E);
  }

  private fireE(): void {
    this.timerE = NONE;
    switch (this.state) {
      case TransactionState.Trying:
      case TransactionState.Proceeding:
        // §17.1.2.2: retransmit; E = min(2E, T2) in Trying, T2 in Proceeding.
        this.transmit();
        this.intervalE = nextTimerE(this.host.timers, this.intervalE, this.state === TransactionState.Proceeding);
        this.scheduleE();
        return;
      case TransactionState.Completed:
      case TransactionState.Terminated:
        return;
    }
  }

  private fireF(): void {
    this.timerF = NONE;
    // §17.1.2.2: Timer F in Trying or Proceeding → Terminated, the TU is told of the timeout.
    this.terminate('timeout');
  }

  private clearTimers(): void {
    if (this.timerE !== NONE) this.queueE?.cancel(this.timerE);
    if (this.timerF !== NONE) this.queue(timerF(this.host.timers)).cancel(this.timerF);
    this.timerE = NONE;
    this.timerF = NONE;
  }

  private transmit(): void {
    this.host.send(this.data, this.transportFailed);
  }

  /** §17.1.4: a transport error → Terminated, reported to the TU (the stack synthesizes 503). */
  private readonly transportFailed = (): void => {
    this.terminate('transport');
  };
}
