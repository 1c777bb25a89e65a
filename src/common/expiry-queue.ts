/**
 * Items in order of expiry, so that a periodic sweep looks only at what is due instead of scanning everything
 * held (50,000 subscriptions swept every few seconds would otherwise cost a full pass each time).
 *
 * A binary min-heap of (time, item) with lazy validation: an item's expiry may move after it was queued. The
 * sweep asks `current(item)` for the item's expiry now — `undefined` when it is gone — and drops gone items,
 * returns due ones and queues later ones again at their new time. So an expiry that grows (a refresh) needs no
 * call; one that shrinks needs `push` again (the earlier entry wins, the later one is dropped as gone or
 * re-queued). Entries of removed items are dropped when they come up, or earlier by `compact` when they
 * outnumber the live ones.
 */
export class ExpiryQueue<T> {
  private times: number[] = [];
  private items: T[] = [];

  /** Queued entries, live or not. */
  get size(): number {
    return this.times.length;
  }

  push(item: T, at: number): void {
    const times = this.times;
    const items = this.items;
    let i = times.length;
    times.push(at);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent] <= at) break;
      times[i] = times[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = at;
    items[i] = item;
  }

  /**
   * Takes out every item whose queued time is `now` or earlier and returns those whose current expiry is too;
   * items gone are dropped and items not yet due are queued again at their current expiry.
   */
  due(now: number, current: (item: T) => number | undefined): T[] {
    const out: T[] = [];
    const later: [T, number][] = [];
    while (this.times.length > 0 && this.times[0] <= now) {
      const item = this.pop();
      const at = current(item);
      if (at === undefined) continue;
      if (at <= now) out.push(item);
      else later.push([item, at]);
    }
    for (const [item, at] of later) this.push(item, at);
    return out;
  }

  /**
   * The items whose expiry has passed, for a sweep that removes them: like {@link due}, but what is returned
   * stays queued (once the caller removes it, it is dropped as gone; if removing failed, it is due again at
   * the next sweep), and dead entries are compacted away when they outnumber the `liveCount` live ones.
   */
  expired(now: number, current: (item: T) => number | undefined, liveCount: number): T[] {
    const out = this.due(now, current);
    this.compact(liveCount, (item) => current(item) !== undefined);
    for (const item of out) this.push(item, current(item) as number);
    return out;
  }

  /** Rebuilds the queue without the items `live` rejects, when dead entries are more than `live` ones. */
  compact(liveCount: number, live: (item: T) => boolean): void {
    if (this.times.length <= 2 * liveCount + 1024) return;
    const times = this.times;
    const items = this.items;
    this.times = [];
    this.items = [];
    for (let i = 0; i < times.length; i++) if (live(items[i])) this.push(items[i], times[i]);
  }

  private pop(): T {
    const times = this.times;
    const items = this.items;
    const top = items[0];
    const lastTime = times.pop() as number;
    const lastItem = items.pop() as T;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && times[r] < times[l] ? r : l;
        if (times[c] >= lastTime) break;
        times[i] = times[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = lastTime;
      items[i] = lastItem;
    }
    return top;
  }
}
