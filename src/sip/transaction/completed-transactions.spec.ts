import { FakeClock } from '../ports/fake-clock';
import { CompletedTransactions, responseBytes, responseText } from './completed-transactions';

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

  it('keeps the first record and deadline of a key added twice', () => {
    const clock = new FakeClock();
    const table = new CompletedTransactions(clock, 1000);
    table.add('a', 'first');
    clock.advance(500);
    table.add('a', 'second');
    expect(table.get('a')).toBe('first');
    clock.advance(500);
    expect(table.get('a')).toBeUndefined();
  });

  it('stays correct while the consumed front of its arrays is reclaimed', () => {
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

  it('keeps every byte of a response through its text', () => {
    const bytes = Buffer.from('SIP/2.0 200 OK\r\nTo: "Zoë" <sip:z@example.com>;tag=1\r\n\r\n', 'utf8');
    expect(responseBytes(responseText(bytes)).equals(bytes)).toBe(true);
  });
});
