/**
 * Keeps long-lived records compact (STYLE.md habit 16): one shared copy of the few values many records repeat.
 */
import { ownString } from '../../sip';

const MAX_INTERNED = 1024;

/**
 * Shares equal short lists (Accept types, ...) between records: the first list seen for a value is kept and
 * handed out again. Bounded: past `MAX_INTERNED` distinct lists, new ones are copied instead of shared.
 */
export class ListInterner {
  private readonly lists = new Map<string, readonly string[]>();

  intern(values: readonly string[]): readonly string[] {
    if (values.length === 0) return EMPTY;
    const key = values.join('\u0000');
    const known = this.lists.get(key);
    if (known) return known;
    const own = Object.freeze(values.map(ownString));
    if (this.lists.size < MAX_INTERNED) this.lists.set(ownString(key), own);
    return own;
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

/**
 * Shares equal short strings (event names, statuses read from the database) between records, bounded like
 * {@link ListInterner}.
 */
export class StringInterner {
  private readonly values = new Map<string, string>();

  intern(value: string): string {
    const known = this.values.get(value);
    if (known !== undefined) return known;
    const own = ownString(value);
    if (this.values.size < MAX_INTERNED) this.values.set(own, own);
    return own;
  }
}

/** The interner of the few values many subscriptions repeat (event, status). */
export const shortValues = new StringInterner();

/** The interner for Accept lists of subscriptions. */
export const acceptLists = new ListInterner();
