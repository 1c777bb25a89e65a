import type { AdmissionControl, Flow } from '../sip';

/** Methods whose new requests count against the per-address SIP rate (ACK and CANCEL belong to others). */
const LIMITED_METHODS = [
  'REGISTER',
  'SUBSCRIBE',
  'PUBLISH',
  'OPTIONS',
  'NOTIFY',
  'MESSAGE',
  'INVITE',
  'INFO',
  'REFER',
  'UPDATE',
  'BYE',
  'PRACK',
];

/**
 * The stack's admission control with a rate limit per source address in front of the overload guard: a request
 * over its address's rate is answered 503 with the Retry-After of its bucket before it is parsed (in-dialog
 * requests and retransmissions still take the full path, as for overload); the others go to the guard, which
 * decides for its own methods as before.
 */
export class SourceRateAdmission implements AdmissionControl {
  readonly methods: ReadonlySet<string>;
  private refusedBy: 'rate' | 'guard' = 'guard';
  private rateRetryAfter = 1;

  constructor(
    private readonly guard: AdmissionControl,
    /** 0 when the source may send, else the Retry-After seconds. */
    private readonly sourceLimit: (address: string) => number,
    /** Told of each request refused for its rate (for the log). */
    private readonly onLimited: (address: string) => void = () => undefined,
  ) {
    this.methods = new Set([...LIMITED_METHODS, ...guard.methods]);
  }

  get retryAfter(): number {
    return this.refusedBy === 'rate' ? this.rateRetryAfter : this.guard.retryAfter;
  }

  admit(method: string, pending: number, flow: Flow): boolean {
    const retry = this.sourceLimit(flow.remoteAddress);
    if (retry > 0) {
      this.refusedBy = 'rate';
      this.rateRetryAfter = retry;
      this.onLimited(flow.remoteAddress);
      return false;
    }
    if (!this.guard.methods.has(method) || this.guard.admit(method, pending, flow)) return true;
    this.refusedBy = 'guard';
    return false;
  }

  shed(method: string): void {
    if (this.refusedBy === 'guard') this.guard.shed?.(method);
  }
}
