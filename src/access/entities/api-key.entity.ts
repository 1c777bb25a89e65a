import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * One API key (README, "Security"): never the key itself, only its SHA-256, the first characters to tell
 * keys apart in lists, the role, and for a user key the AoR it acts for.
 */
@Entity({ name: 'api_keys' })
@Index('idx_api_keys_hash', ['hash'], { unique: true })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.id.max })
  id!: string;

  /** Hex SHA-256 of the whole key. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.apiKeyHash.max })
  hash!: string;

  /** The key's first characters, as shown in lists (`ph_AbC1xY`). */
  @Column({ type: 'varchar', length: FIELD_LIMITS.apiKeyPrefix.max })
  prefix!: string;

  /** `admin` or `user`. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.apiKeyRole.max })
  role!: string;

  /** The AoR a user key acts for; null for admin keys. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.aor.max, nullable: true })
  aor!: string | null;

  @Column({ type: 'varchar', length: FIELD_LIMITS.apiKeyLabel.max })
  label!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;

  /** Epoch milliseconds after which the key is refused; null: never. */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  expiresAt!: number | null;
}
