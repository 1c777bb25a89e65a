import { ListInterner } from './compact';

describe('ListInterner', () => {
  it('hands out one shared, frozen copy for equal lists', () => {
    const interner = new ListInterner();
    const a = interner.intern(['application/pidf+xml', 'multipart/related']);
    const b = interner.intern(['application/pidf+xml', 'multipart/related']);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(interner.intern(['application/pidf+xml'])).not.toBe(a);
    expect(interner.intern([])).toBe(interner.intern([]));
  });

  it('keeps lists whose items contain the separator of others apart', () => {
    const interner = new ListInterner();
    expect(interner.intern(['a,b'])).not.toBe(interner.intern(['a', 'b']));
  });

  it('stops sharing past its bound and still returns equal copies', () => {
    const interner = new ListInterner();
    for (let i = 0; i < 1024; i++) interner.intern([`type/x${i}`]);
    const late = interner.intern(['type/late']);
    const again = interner.intern(['type/late']);
    expect(again).toEqual(late);
    expect(again).not.toBe(late);
    expect(interner.intern(['type/x5'])).toBe(interner.intern(['type/x5']));
  });
});
