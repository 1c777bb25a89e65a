import { FakeClock } from '../ports/fake-clock';
import { CompletedTransactions } from './completed-transactions';

describe('CompletedTransactions', () => {
  it('holds each record for its delay, in the order they were added', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    table.add('a', 'ra');
    clock.advance(400);
    table.add('b', 'rb');
    expect(table.get('a')).toBe('ra');
    clock.advance(600);
    expect(table.get('a')).toBeUndefined();
    expect(table.get('b')).toBe('rb');
    expect(table.size).toBe(1);
    clock.advance(400);
    expect(table.get('b')).toBeUndefined();
    expect(table.size).toBe(0);
  });

  it('finds the newer record of a key added twice, held for its own delay', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    table.add('a', 'first');
    clock.advance(500);
    table.add('a', 'second');
    expect(table.get('a')).toBe('second');
    clock.advance(500);
    expect(table.get('a')).toBe('second');
    clock.advance(500);
    expect(table.get('a')).toBeUndefined();
  });

  it('finds every key it holds and none it does not, across full generations', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 32_000);
    const key = (i: number): string => `z9hG4bK-${String(i)}\u0000192.0.2.1:5060\u0000SUBSCRIBE`;
    for (let i = 0; i < 100_000; i++) {
      table.add(key(i), `r${String(i)}`);
      if (i % 10 === 0) clock.advance(1);
    }
    for (let i = 0; i < 100_000; i++) expect(table.get(key(i))).toBe(`r${String(i)}`);
    for (let i = 100_000; i < 200_000; i++) expect(table.get(key(i))).toBeUndefined();
  });

  it('stays correct while records expire across many generations', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 10);
    for (let i = 0; i < 5000; i++) {
      table.add(`k${i}`, `r${i}`);
      clock.advance(1);
      // k{j} was added at time j and is held until j + 10; it is now i + 1.
      if (i >= 9) expect(table.get(`k${i - 9}`)).toBeUndefined();
      if (i >= 8) expect(table.get(`k${i - 8}`)).toBe(`r${i - 8}`);
    }
    expect(table.size).toBe(9);
    table.clear();
    expect(table.size).toBe(0);
  });

  it('holds records added at once beyond one generation, and drops them all at their deadline', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    for (let i = 0; i < 70_000; i++) table.add(`k${i}`, `r${i}`);
    expect(table.size).toBe(70_000);
    expect([table.get('k0'), table.get('k40000'), table.get('k69999')]).toEqual(['r0', 'r40000', 'r69999']);
    clock.advance(999);
    table.add('late', 'rl');
    expect(table.get('k12345')).toBe('r12345');
    clock.advance(1);
    expect(table.get('k69999')).toBeUndefined();
    expect(table.size).toBe(1);
    // A key held once and expired is taken again, with a deadline of its own.
    table.add('k1', 'again');
    expect(table.get('k1')).toBe('again');
    clock.advance(999);
    expect(table.get('late')).toBeUndefined();
    expect(table.get('k1')).toBe('again');
  });

  it('finds the newer record of a key added twice in one generation, also after the generation grew', () => {
    const table = new CompletedTransactions(new FakeClock(), 1000);
    table.add('k5', 'first');
    for (let i = 0; i < 1000; i++) if (i !== 5) table.add(`k${i}`, `r${i}`);
    table.add('k5', 'second');
    for (let i = 1000; i < 3000; i++) table.add(`k${i}`, `r${i}`);
    expect([table.get('k5'), table.get('k4'), table.get('k2999')]).toEqual(['second', 'r4', 'r2999']);
    expect(table.size).toBe(3001);
  });

  it('gives back the record with our tag, kept as a number when it is one this stack makes', () => {
    const table = new CompletedTransactions(new FakeClock(), 1000);
    const tags = [
      'a1b2c3d4e5f6',
      '000000000000',
      'ffffffffffff',
      '0000000abc00',
      'A1B2C3D4E5F6',
      'a1b2c3d4e5f',
      'tag-1',
      '',
    ];
    tags.forEach((tag, i) => {
      table.add(`k${i}`, `text${i}\u0002`, tag);
    });
    table.add('untagged', 'whole');
    tags.forEach((tag, i) => {
      expect(table.get(`k${i}`)).toBe(`text${i}\u0002${tag}`);
    });
    expect(table.get('untagged')).toBe('whole');
  });
});
