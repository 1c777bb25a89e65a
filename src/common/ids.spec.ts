import { timeOrderedId } from './ids';
import { SequenceRandom } from '../sip';

describe('timeOrderedId', () => {
  it('is UUID-shaped, unique, and sorts by time', () => {
    const a = timeOrderedId(1_700_000_000_000);
    const b = timeOrderedId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a < b).toBe(true);
    const many = new Set(Array.from({ length: 1000 }, () => timeOrderedId(1)));
    expect(many.size).toBe(1000);
  });
});

describe('timeOrderedId with a given Random', () => {
  it('takes its random part from the port (UUIDv7 version and variant bits set)', () => {
    const random = new SequenceRandom();
    expect(timeOrderedId(0x0123456789ab, random)).toBe('01234567-89ab-7000-8000-000000000001');
    expect(timeOrderedId(0x0123456789ab, random)).toBe('01234567-89ab-7000-8000-000000000002');
  });
});

describe('timeOrderedId across milliseconds', () => {
  it('takes the time part of each id from its own millisecond, also after ids of another', () => {
    const random = new SequenceRandom();
    expect(timeOrderedId(0x0123456789ab, random)).toBe('01234567-89ab-7000-8000-000000000001');
    expect(timeOrderedId(0x0123456789ac, random)).toBe('01234567-89ac-7000-8000-000000000002');
    expect(timeOrderedId(0x0123456789ab, random)).toBe('01234567-89ab-7000-8000-000000000003');
    expect(timeOrderedId(0, random)).toBe('00000000-0000-7000-8000-000000000004');
  });
});
