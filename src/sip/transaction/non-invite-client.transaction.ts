import type { Clock, TimerHandle } from '../ports/clock';
import { TransactionState, nextTimerE, timerE, timerF, timerK, type TimerValues } from './transaction-state';

/** Why a client transaction ended without a response from the peer. */
export type ClientFailure = 'timeout' | 'transport';

/** What a client transaction needs from the stack. */
export interface ClientTransactionHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  /** Sends the request; rejects on transport error. */
  send(data: Buffer): Promise<void>;
  /** Called once when the transaction reaches Terminated. */
  terminated(): void;
}

/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). Trying: the request is sent, Timer F (64*T1)
 * bounds the transaction and, on unreliable transports, Timer E retransmits at T1, 2*T1, ... up to T2
 * (every T2 once Proceeding). A provisional response moves to Proceeding; a final one to Completed, where
 * Timer K (T4 unreliable, 0 reliable) absorbs retransmitted responses before Terminated.
 */
export class NonInviteClientTransaction<R> {
  state = TransactionState.Trying;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private intervalE: number;

  constructor(
    readonly key: string,
    private readonly data: Buffer,
    private readonly reliable: boolean,
    private readonly host: ClientTransactionHost,
    /** Receives the final response exactly once, or the reason there is none. */
    private readonly onFinal: (result: R | ClientFailure) => void,
    /** Receives provisional responses. */
    private readonly onProvisional: (response: R) => void = () => undefined,
  ) {
    this.intervalE = timerE(host.timers);
  }

  /** Sends the request and starts Timers E and F (RFC 3261 §17.1.2.2). */
  start(): void {
    this.transmit();
    const clock = this.host.clock;
    this.timerF = clock.setTimeout(() => {
      this.fireF();
    }, timerF(this.host.timers));
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
        this.onFinal(response);
        this.timerK = this.host.clock.setTimeout(
          () => {
            this.terminate();
          },
          timerK(this.host.timers, this.reliable),
        );
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
    if (this.timerK !== undefined) this.host.clock.clearTimeout(this.timerK);
    if (pending) this.onFinal(failure ?? 'transport');
    this.host.terminated();
  }

  private scheduleE(): void {
    this.timerE = this.host.clock.setTimeout(() => {
      this.fireE();
    }, this.intervalE);
  }

  private fireE(): void {
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
    this.timerF = undefined;
    // §17.1.2.2: Timer F in Trying or Proceeding → Terminated, the TU is told of the timeout.
    this.terminate('timeout');
  }

  private clearTimers(): void {
    const clock = this.host.clock;
    if (this.timerE !== undefined) clock.clearTimeout(this.timerE);
    if (this.timerF !== undefined) clock.clearTimeout(this.timerF);
    this.timerE = undefined;
    this.timerF = undefined;
  }

  private transmit(): void {
    this.host.send(this.data).catch(() => {
      // §17.1.4: a transport error → Terminated, reported to the TU (the stack synthesizes 503).
      this.terminate('transport');
    });
  }
}
