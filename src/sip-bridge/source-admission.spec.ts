import type { AdmissionControl, Flow } from '../sip';
import { SourceRateAdmission } from './source-admission';

const flow = (remoteAddress: string): Flow => ({
  protocol: 'udp',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress,
  remotePort: 5070,
});

describe('SourceRateAdmission', () => {
  let overloaded: boolean;
  let shed: string[];
  const guard: AdmissionControl = {
    methods: new Set(['REGISTER', 'SUBSCRIBE', 'PUBLISH']),
    admit: () => !overloaded,
    shed: (m) => shed.push(m),
    retryAfter: 2,
  };
  let limited: Record<string, number>;
  const admission = (): SourceRateAdmission => new SourceRateAdmission(guard, (a) => limited[a] ?? 0);

  beforeEach(() => {
    overloaded = false;
    shed = [];
    limited = {};
  });

  it('refuses a source over its rate with its own Retry-After, whatever the method', () => {
    const a = admission();
    limited['192.0.2.1'] = 7;
    expect(a.methods.has('OPTIONS')).toBe(true);
    expect(a.admit('OPTIONS', 0, flow('192.0.2.1'))).toBe(false);
    expect(a.retryAfter).toBe(7);
    a.shed('OPTIONS');
    expect(shed).toEqual([]);
    expect(a.admit('OPTIONS', 0, flow('192.0.2.2'))).toBe(true);
  });

  it('leaves the overload decision to the guard, for its methods only', () => {
    const a = admission();
    overloaded = true;
    expect(a.admit('OPTIONS', 0, flow('192.0.2.1'))).toBe(true);
    expect(a.admit('REGISTER', 0, flow('192.0.2.1'))).toBe(false);
    expect(a.retryAfter).toBe(2);
    a.shed('REGISTER');
    expect(shed).toEqual(['REGISTER']);
  });
});
