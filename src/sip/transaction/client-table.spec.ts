import { ClientTable } from './client-table';

const tx = (key: string): { key: string } => ({ key });

describe('ClientTable', () => {
  it('finds a transaction by the slot its branch names and its full key only', () => {
    const table = new ClientTable<{ key: string }>();
    const slot = table.claim();
    const branch = ClientTable.branchFor('z9hG4bKabc', slot);
    const a = tx(`${branch}|NOTIFY`);
    table.put(slot, a);
    expect(ClientTable.slotOf(branch)).toBe(slot);
    expect(table.get(ClientTable.slotOf(branch), `${branch}|NOTIFY`)).toBe(a);
    expect(table.get(slot, `${branch}|SUBSCRIBE`)).toBeUndefined();
    expect(table.get(slot, `${ClientTable.branchFor('z9hG4bKabd', slot)}|NOTIFY`)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('reuses a freed slot, and a late response for the ended transaction matches nothing', () => {
    const table = new ClientTable<{ key: string }>();
    const slot = table.claim();
    const old = `${ClientTable.branchFor('z9hG4bKold', slot)}|NOTIFY`;
    table.put(slot, tx(old));
    table.remove(slot, old);
    expect(table.size).toBe(0);
    const again = table.claim();
    expect(again).toBe(slot);
    const next = tx(`${ClientTable.branchFor('z9hG4bKnew', again)}|NOTIFY`);
    table.put(again, next);
    expect(table.get(slot, old)).toBeUndefined();
    // Removing the ended one again leaves the new one in place.
    table.remove(slot, old);
    expect(table.get(slot, next.key)).toBe(next);
    expect(table.values()).toEqual([next]);
  });

  it('hands out distinct slots while transactions are in flight, and grows only to the most in flight', () => {
    const table = new ClientTable<{ key: string }>();
    const slots = [table.claim(), table.claim(), table.claim()];
    expect(new Set(slots).size).toBe(3);
    slots.forEach((s) => {
      table.put(s, tx(`b${s}|NOTIFY`));
    });
    for (let round = 0; round < 100; round++) {
      const s = slots[round % 3];
      table.remove(s, `b${s}|NOTIFY`);
      expect(table.claim()).toBe(s);
      table.put(s, tx(`b${s}|NOTIFY`));
    }
    expect(Math.max(...table.values().map((t) => Number(t.key.slice(1, t.key.indexOf('|')))))).toBe(2);
    expect(table.size).toBe(3);
  });

  it('frees a claimed slot that was never put, and only such a slot', () => {
    const table = new ClientTable<{ key: string }>();
    const unused = table.claim();
    const used = table.claim();
    table.put(used, tx('u|NOTIFY'));
    table.release(unused);
    table.release(used);
    expect(table.get(used, 'u|NOTIFY')).toEqual({ key: 'u|NOTIFY' });
    expect(table.claim()).toBe(unused);
    expect(() => {
      table.put(used, tx('x|NOTIFY'));
    }).toThrow(/not claimed/);
  });

  it('reads no slot from a branch that is not one of ours', () => {
    for (const branch of ['z9hG4bK776asdhds', 'z9hG4bK.', 'z9hG4bKa.B7', 'z9hG4bKa.-1', 'z9hG4bKa.zzzzzzzz', ''])
      expect(ClientTable.slotOf(branch)).toBe(-1);
    expect(ClientTable.slotOf('z9hG4bKa.b.1z')).toBe(71);
    const table = new ClientTable<{ key: string }>();
    expect(table.get(-1, '|NOTIFY')).toBeUndefined();
    expect(table.get(1e6, 'x|NOTIFY')).toBeUndefined();
  });
});
