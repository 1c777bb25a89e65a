import { ExpiryQueue } from './expiry-queue';

interface Item {
  readonly name: string;
  expiresAt: number;
  gone?: boolean;
}

const current = (i: Item): number | undefined => (i.gone ? undefined : i.expiresAt);

describe('ExpiryQueue', () => {
  it('returns due items in expiry order and keeps the rest', () => {
    const q = new ExpiryQueue<Item>();
    const items = [50, 10, 40, 20, 30, 60].map((t) => ({ name: `i${t}`, expiresAt: t }));
    for (const i of items) q.push(i, i.expiresAt);
    expect(q.due(35, current).map((i) => i.name)).toEqual(['i10', 'i20', 'i30']);
    expect(q.due(35, current)).toEqual([]);
    expect(q.due(100, current).map((i) => i.name)).toEqual(['i40', 'i50', 'i60']);
    expect(q.size).toBe(0);
  });

  it('queues an item whose expiry grew again at its new time, and drops items gone', () => {
    const q = new ExpiryQueue<Item>();
    const refreshed = { name: 'refreshed', expiresAt: 10 };
    const removed: Item = { name: 'removed', expiresAt: 10 };
    q.push(refreshed, 10);
    q.push(removed, 10);
    refreshed.expiresAt = 70;
    removed.gone = true;
    expect(q.due(20, current)).toEqual([]);
    expect(q.size).toBe(1);
    expect(q.due(69, current)).toEqual([]);
    expect(q.due(70, current)).toEqual([refreshed]);
  });

  it('lets an expiry that shrank be pushed again, and returns the item once', () => {
    const q = new ExpiryQueue<Item>();
    const item: Item = { name: 'shortened', expiresAt: 100 };
    q.push(item, 100);
    item.expiresAt = 30;
    q.push(item, 30);
    const got = q.due(40, current);
    expect(got).toEqual([item]);
    item.gone = true; // the sweep removes what it expires
    expect(q.due(200, current)).toEqual([]);
  });

  it('orders many random times like a sort', () => {
    const q = new ExpiryQueue<Item>();
    const times = Array.from({ length: 2000 }, (_, k) => (k * 7919) % 1000);
    times.forEach((t, k) => {
      q.push({ name: String(k), expiresAt: t }, t);
    });
    const order = q.due(1000, current).map((i) => i.expiresAt);
    expect(order).toEqual([...times].sort((a, b) => a - b));
  });

  it('keeps what expired queued until the sweep has removed it', () => {
    const q = new ExpiryQueue<Item>();
    const stuck: Item = { name: 'stuck', expiresAt: 10 };
    const removed: Item = { name: 'removed', expiresAt: 10 };
    q.push(stuck, 10);
    q.push(removed, 10);
    expect(q.expired(20, current, 2)).toEqual([stuck, removed]);
    removed.gone = true; // the sweep removed one; removing the other failed
    expect(q.expired(30, current, 1)).toEqual([stuck]);
  });

  it('compacts away dead entries once they outnumber the live ones', () => {
    const q = new ExpiryQueue<Item>();
    const items: Item[] = Array.from({ length: 3000 }, (_, k) => ({ name: String(k), expiresAt: k }));
    for (const i of items) q.push(i, i.expiresAt);
    for (const i of items.slice(0, 2900)) i.gone = true;
    q.compact(100, (i) => !i.gone);
    expect(q.size).toBe(100);
    expect(q.due(10_000, current).map((i) => i.name)).toEqual(items.slice(2900).map((i) => i.name));
  });
});
