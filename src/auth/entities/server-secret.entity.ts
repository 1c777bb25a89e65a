import { Column, Entity, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/**
 * A key the server draws once and keeps, shared by every instance on the database (the key of digest
 * nonces): so that what one instance signed, another — or the same after a restart — accepts.
 */
@Entity({ name: 'server_secrets' })
export class ServerSecretEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.secretName.max })
  name!: string;

  /** The key, hex. */
  @Column({ type: 'varchar', length: FIELD_LIMITS.secretValue.max })
  value!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;
}
