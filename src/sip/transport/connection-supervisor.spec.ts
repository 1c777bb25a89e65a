import { FakeClock } from '../ports/fake-clock';
import { ConnectionSupervisor, type ConnectionLimits } from './connection-supervisor';
import type { Flow } from './transport';

const flow = (id: string): Flow => ({
  protocol: 'tcp',
  localAddress: '127.0.0.1',
  localPort: 5060,
  remoteAddress: '127.0.0.2',
  remotePort: 40000,
  connectionId: id,
});

describe('ConnectionSupervisor', () => {
  let clock: FakeClock;
  let reports: string[];
  let closed: string[];

  const supervisor = (limits: ConnectionLimits): ConnectionSupervisor =>
    new ConnectionSupervisor({ clock, ...limits }, (m) => reports.push(m));
  const add = (s: ConnectionSupervisor, id: string): void => {
    s.add(id, flow(id), () => closed.push(id));
  };

  beforeEach(() => {
    clock = new FakeClock();
    reports = [];
    closed = [];
  });

  it('closes a connection that sent nothing for the idle time unless it is pinned', () => {
    const pinned = new Set(['tcp-2']);
    const s = supervisor({ idleTimeout: 1000, isPinned: (f) => pinned.has(f.connectionId ?? '') });
    add(s, 'tcp-1');
    add(s, 'tcp-2');
    add(s, 'tcp-3');
    clock.advance(600);
    s.activity('tcp-3', false);
    clock.advance(500);
    expect(closed).toEqual(['tcp-1']);
    clock.advance(700);
    expect(closed).toEqual(['tcp-1', 'tcp-3']);
    pinned.clear();
    clock.advance(1100);
    expect(closed).toEqual(['tcp-1', 'tcp-3', 'tcp-2']);
    expect(s.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('closes a connection holding an incomplete message after the partial timeout, even while bytes trickle in', () => {
    const s = supervisor({ idleTimeout: 60_000, partialTimeout: 500 });
    add(s, 'tcp-1');
    add(s, 'tcp-2');
    s.activity('tcp-1', true);
    s.activity('tcp-2', true);
    clock.advance(300);
    s.activity('tcp-1', true);
    s.activity('tcp-2', false);
    clock.advance(300);
    expect(closed).toEqual(['tcp-1']);
    expect(reports[0]).toMatch(/closing tcp-1 .*incomplete message/);
    clock.advance(10_000);
    expect(closed).toEqual(['tcp-1']);
  });

  it('refuses connections past the cap and reports it at most once a second', () => {
    const s = supervisor({ maxConnections: 2 });
    expect(s.admit('a')).toBe(true);
    add(s, 'tcp-1');
    expect(s.admit('b')).toBe(true);
    add(s, 'tcp-2');
    expect(s.admit('c')).toBe(false);
    expect(s.admit('d')).toBe(false);
    expect(reports).toEqual(['SIP connection limit of 2 reached: refused 1 connection(s), last from c']);
    clock.advance(1000);
    expect(s.admit('e')).toBe(false);
    expect(reports[1]).toBe('SIP connection limit of 2 reached: refused 2 connection(s), last from e');
    s.remove('tcp-1');
    expect(s.admit('f')).toBe(true);
  });

  it('arms no timer without timeouts and stops with no connection left', () => {
    const s = supervisor({});
    add(s, 'tcp-1');
    expect(clock.pending).toBe(0);
    const t = supervisor({ idleTimeout: 100 });
    add(t, 'tcp-1');
    expect(clock.pending).toBe(1);
    t.stop();
    expect(clock.pending).toBe(0);
  });
});
