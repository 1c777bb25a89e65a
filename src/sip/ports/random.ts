import { randomBytes } from 'node:crypto';

/**
 * Randomness port (STYLE.md habit 3): tags (RFC 3261 §19.3), branches (§8.1.1.7) and Call-IDs (§8.1.1.4)
 * come from it, so tests can use predictable ids.
 */
export interface Random {
  /** A From/To tag with at least 32 bits of randomness (RFC 3261 §19.3). */
  tag(): string;
  /** A Via branch starting with the magic cookie `z9hG4bK` (RFC 3261 §8.1.1.7). */
  branch(): string;
  /** A globally unique Call-ID (RFC 3261 §8.1.1.4). */
  callId(): string;
  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string;
}

const POOL_SIZE = 8192;

/**
 * Cryptographic randomness from `crypto.randomBytes`, drawn from a pool refilled 8 KiB at a time (one
 * system call per few hundred ids instead of one per id).
 */
export class CryptoRandom implements Random {
  private pool: Buffer = randomBytes(POOL_SIZE);
  private offset = 0;

  hex(bytes: number): string {
    if (bytes > POOL_SIZE) return randomBytes(bytes).toString('hex');
    if (this.offset + bytes > POOL_SIZE) {
      this.pool = randomBytes(POOL_SIZE);
      this.offset = 0;
    }
    const s = this.pool.toString('hex', this.offset, this.offset + bytes);
    this.offset += bytes;
    return s;
  }

  tag(): string {
    return this.hex(6);
  }

  branch(): string {
    return 'z9hG4bK' + this.hex(10);
  }

  callId(): string {
    return this.hex(16);
  }
}

/** The process-wide default {@link Random}. */
export const cryptoRandom: Random = new CryptoRandom();

/** A deterministic {@link Random} for tests: ids are `prefix` plus a counter. */
export class SequenceRandom implements Random {
  private n = 0;

  constructor(private readonly prefix = 'r') {}

  hex(bytes: number): string {
    return (++this.n).toString(16).padStart(bytes * 2, '0');
  }

  tag(): string {
    return `${this.prefix}tag${++this.n}`;
  }

  branch(): string {
    return `z9hG4bK${this.prefix}${++this.n}`;
  }

  callId(): string {
    return `${this.prefix}call${++this.n}`;
  }
}
