import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of a nonce: 6 of time (ms), 6 of salt, 16 of HMAC-SHA-256. */
const TIME_BYTES = 6;
const SALT_BYTES = 6;
const MAC_BYTES = 16;
const NONCE_BYTES = TIME_BYTES + SALT_BYTES + MAC_BYTES;
/** A nonce dated this far in the future (clocks of several instances) is still taken. */
const CLOCK_SKEW_MS = 60_000;

export type NonceVerdict = 'valid' | 'stale' | 'invalid';

/**
 * Stateless digest nonces (RFC 2617 §3.2.1 suggests time-stamp + H(time-stamp ":" private-key)): the time
 * they were issued, a salt, and an HMAC over both and the realm under a key every instance shares. Any
 * instance, or the same after a restart, recognises its nonces without remembering them; a nonce older than
 * `expiresMs` is stale (a new challenge with stale=true), one that does not verify is not ours.
 */
export class DigestNonces {
  constructor(
    private readonly key: Buffer,
    private readonly expiresMs: number,
    private readonly salt: (n: number) => Buffer = randomBytes,
  ) {}

  issue(realm: string, now: number): string {
    const buf = Buffer.allocUnsafe(NONCE_BYTES);
    buf.writeUIntBE(now, 0, TIME_BYTES);
    this.salt(SALT_BYTES).copy(buf, TIME_BYTES);
    this.mac(buf, realm).copy(buf, TIME_BYTES + SALT_BYTES, 0, MAC_BYTES);
    return buf.toString('base64url');
  }

  verify(nonce: string, realm: string, now: number): NonceVerdict {
    if (nonce.length !== Math.ceil((NONCE_BYTES * 4) / 3)) return 'invalid';
    const buf = Buffer.from(nonce, 'base64url');
    if (buf.length !== NONCE_BYTES) return 'invalid';
    const mac = this.mac(buf, realm).subarray(0, MAC_BYTES);
    if (!timingSafeEqual(mac, buf.subarray(TIME_BYTES + SALT_BYTES))) return 'invalid';
    const issued = buf.readUIntBE(0, TIME_BYTES);
    if (issued > now + CLOCK_SKEW_MS) return 'invalid';
    return now - issued > this.expiresMs ? 'stale' : 'valid';
  }

  private mac(buf: Buffer, realm: string): Buffer {
    return createHmac('sha256', this.key)
      .update(buf.subarray(0, TIME_BYTES + SALT_BYTES))
      .update(realm, 'utf8')
      .digest();
  }
}

/**
 * Replay check by nonce-count (RFC 2617 §3.2.2): each nonce's count must grow. A bounded table in memory,
 * oldest nonces forgotten first (they are stale by then); a nonce not in it — issued before a restart, by
 * another instance, or forgotten — is taken with the count it comes with, and remembered from then on.
 */
export class NonceCounts {
  private readonly last = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {}

  /** Records `nc` for `nonce`; false when it does not exceed the last count seen (a replay). */
  accept(nonce: string, nc: number): boolean {
    const prev = this.last.get(nonce);
    if (prev !== undefined) {
      if (nc <= prev) return false;
      this.last.set(nonce, nc);
      return true;
    }
    if (this.last.size >= this.capacity) {
      const oldest = this.last.keys().next();
      if (oldest.done !== true) this.last.delete(oldest.value);
    }
    this.last.set(nonce, nc);
    return true;
  }

  get size(): number {
    return this.last.size;
  }
}
