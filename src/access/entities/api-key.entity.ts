import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/transformers';

/**
 * One API key (README, "Security"): never the key itself, only its SHA-256, the first characters to tell
 * keys apart in lists, the role, and for a user key the AoR it acts for.
 */
@Entity({ name: 'api_keys' })
@Index('idx_api_keys_hash', ['hash'], { unique: true })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Hex SHA-256 of the whole key. */
  @Column({ type: 'varchar', length: 64 })
  hash!: string;

  /** The key's first characters, as shown in lists (`ph_AbC1xY`). */
  @Column({ type: 'varchar', length: 16 })
  prefix!: string;

  /** `admin` or `user`. */
  @Column({ type: 'varchar', length: 8 })
  role!: string;

  /** The AoR a user key acts for; null for admin keys. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  aor!: string | null;

  @Column({ type: 'varchar', length: 128 })
  label!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  /** Epoch milliseconds after which the key is refused; null: never. */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  expiresAt!: number | null;
}
