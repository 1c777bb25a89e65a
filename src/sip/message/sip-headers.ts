import { canonicalName, headerKey, isListHeader, storedName } from './header-names';
import { splitList } from './text';

/**
 * The header fields of a message, in order (RFC 3261 §7.3). Names compare case-insensitively and compact
 * forms equal their long forms (§7.3.3): `get('v')`, `get('Via')` and `get('VIA')` find the same fields.
 * Values are kept as received (LWS folded to a space, trimmed); typed views live on `SipMessage`.
 */
export class SipHeaders implements Iterable<[string, string]> {
  private readonly names: string[] = [];
  private readonly keys: string[] = [];
  private readonly values: string[] = [];
  /** Increases on every change, so that caches built from the values can tell they are stale. */
  revision = 0;

  /** Builds headers from `[name, value]` pairs or a record (array values become repeated fields). */
  static from(init: Iterable<[string, string]> | Record<string, string | string[]>): SipHeaders {
    const h = new SipHeaders();
    if (Symbol.iterator in init) {
      for (const [n, v] of init) h.append(n, v);
    } else {
      for (const [n, v] of Object.entries(init)) h.append(n, v);
    }
    return h;
  }

  /** Appends a field as the parser read it (no revision bump). `key` is `headerKey(name)`. @internal */
  addRaw(name: string, key: string, value: string): void {
    this.names.push(storedName(name, key));
    this.keys.push(key);
    this.values.push(value);
  }

  /** Number of header fields (lines). */
  get size(): number {
    return this.names.length;
  }

  /** The value of the first field named `name`, or `undefined`. */
  get(name: string): string | undefined {
    const key = keyOf(name);
    const i = this.keys.indexOf(key);
    return i === -1 ? undefined : this.values[i];
  }

  /** The first of `keys` (lookup keys, see `headerKey`) that names more than one field, if any. @internal */
  firstRepeated(keys: readonly string[]): string | undefined {
    for (const key of keys) {
      const i = this.keys.indexOf(key);
      if (i !== -1 && this.keys.indexOf(key, i + 1) !== -1) return key;
    }
    return undefined;
  }

  /** Whether a field named `name` is present. */
  has(name: string): boolean {
    return this.keys.includes(keyOf(name));
  }

  /**
   * All values of `name` in order. For list headers (Via, Contact, Route, Allow, Supported, ...) each field
   * is split at top-level commas, respecting quoted strings and `<...>`; `Contact: *` gives `['*']`.
   */
  getAll(name: string): string[] {
    const key = keyOf(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== key) continue;
      if (list) for (const v of splitList(this.values[i])) out.push(v);
      else out.push(this.values[i]);
    }
    return out;
  }

  /**
   * Replaces every field named `name` with `value` (one field per array element), at the position of the
   * first one or at the end.
   */
  set(name: string, value: string | readonly string[]): void {
    const key = keyOf(name);
    const stored = apiName(name, key);
    const vals = typeof value === 'string' ? [value] : value;
    let at = this.keys.indexOf(key);
    if (at !== -1) this.removeKey(key);
    else at = this.keys.length;
    this.names.splice(at, 0, ...vals.map(() => stored));
    this.keys.splice(at, 0, ...vals.map(() => key));
    this.values.splice(at, 0, ...vals);
    this.revision++;
  }

  /** Adds a field (one per array element) after the existing ones. */
  append(name: string, value: string | readonly string[]): void {
    const key = keyOf(name);
    const stored = apiName(name, key);
    if (typeof value === 'string') {
      this.names.push(stored);
      this.keys.push(key);
      this.values.push(value);
    } else {
      for (const v of value) {
        this.names.push(stored);
        this.keys.push(key);
        this.values.push(v);
      }
    }
    this.revision++;
  }

  /** Adds a field before all others (a proxy's or client's top Via, RFC 3261 §8.1.1.7). */
  prepend(name: string, value: string): void {
    const key = keyOf(name);
    this.names.unshift(apiName(name, key));
    this.keys.unshift(key);
    this.values.unshift(value);
    this.revision++;
  }

  /** Removes every field named `name`; returns whether one was present. */
  delete(name: string): boolean {
    const removed = this.removeKey(keyOf(name));
    if (removed) this.revision++;
    return removed;
  }

  /** `[name, value]` per field, in order. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  /** A copy. */
  clone(): SipHeaders {
    const h = new SipHeaders();
    for (let i = 0; i < this.names.length; i++) {
      h.names.push(this.names[i]);
      h.keys.push(this.keys[i]);
      h.values.push(this.values[i]);
    }
    return h;
  }

  /** `Name: value\r\n` per field, except those whose key is `skipKey`. @internal */
  serialize(skipKey: string): string {
    let out = '';
    for (let i = 0; i < this.names.length; i++) {
      if (this.keys[i] !== skipKey) out += this.names[i] + ': ' + this.values[i] + '\r\n';
    }
    return out;
  }

  private removeKey(key: string): boolean {
    let removed = false;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === key) {
        this.names.splice(i, 1);
        this.keys.splice(i, 1);
        this.values.splice(i, 1);
        removed = true;
      }
    }
    return removed;
  }
}

/**
 * Keys of the names code passes (`'Max-Forwards'`, `'via'`, ...), by name as spelled: a few constants, looked up
 * on every message built, which would otherwise lowercase a new copy each time. Not used for the names the
 * parser reads (fresh strings, whose hashing costs what lowercasing does). Bounded: when full it starts over.
 */
const apiKeys = new Map<string, string>();

function keyOf(name: string): string {
  const known = apiKeys.get(name);
  if (known !== undefined) return known;
  const key = headerKey(name);
  if (apiKeys.size >= 256) apiKeys.clear();
  apiKeys.set(name, key);
  return key;
}

/** Names given in code: compact or all-lowercase names take the canonical spelling (`call-id` → `Call-ID`). */
function apiName(name: string, key: string): string {
  return name.length === 1 || name === key ? canonicalName(key) : name;
}
