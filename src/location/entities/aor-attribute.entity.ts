import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../database/transformers';

/** Per-AoR key/value attributes (what usrloc's `ul_add_key` kept). */
@Entity({ name: 'location_attrs' })
export class AorAttributeEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  domain!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  aor!: string;

  @PrimaryColumn({ name: 'attr_key', type: 'varchar', length: 64 })
  key!: string;

  @Column({ type: 'text' })
  value!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
