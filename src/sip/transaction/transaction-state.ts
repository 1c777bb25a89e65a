/**
 * Transaction states with the names of RFC 3261 §17 (Figures 6 and 8 for non-INVITE transactions).
 */
export enum TransactionState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

/** T1, T2, T4 in ms (RFC 3261 §17.1.1.1, Table 4). */
export interface TimerValues {
  /** RTT estimate, default 500 ms. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests, default 4 s. */
  readonly t2: number;
  /** Maximum duration a message remains in the network, default 5 s. */
  readonly t4: number;
}

export const DEFAULT_TIMERS: TimerValues = { t1: 500, t2: 4000, t4: 5000 };

/** Timer E initial value: T1 (RFC 3261 §17.1.2.2), on unreliable transports only. */
export function timerE(t: TimerValues): number {
  return t.t1;
}

/** Timer E after it fired `current`: doubled up to T2 in Trying, T2 in Proceeding (RFC 3261 §17.1.2.2). */
export function nextTimerE(t: TimerValues, current: number, proceeding: boolean): number {
  return proceeding ? t.t2 : Math.min(2 * current, t.t2);
}

/** Timer F: 64*T1, the client transaction timeout (RFC 3261 §17.1.2.2). */
export function timerF(t: TimerValues): number {
  return 64 * t.t1;
}

/** Timer J: 64*T1 on unreliable transports, 0 on reliable ones (RFC 3261 §17.2.2). */
export function timerJ(t: TimerValues, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** Timer K: T4 on unreliable transports, 0 on reliable ones (RFC 3261 §17.1.2.2). */
export function timerK(t: TimerValues, reliable: boolean): number {
  return reliable ? 0 : t.t4;
}
