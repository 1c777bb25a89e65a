import { timeOrderedId } from './ids';

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
