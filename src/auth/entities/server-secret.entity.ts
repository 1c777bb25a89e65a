import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/transformers';

/**
 * A key the server draws once and keeps, shared by every instance on the database (the key of digest
 * nonces): so that what one instance signed, another — or the same after a restart — accepts.
 */
@Entity({ name: 'server_secrets' })
export class ServerSecretEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name!: string;

  /** The key, hex. */
  @Column({ type: 'varchar', length: 128 })
  value!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt!: number;
}
