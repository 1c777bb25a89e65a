import { Column, Entity, PrimaryColumn } from 'typeorm';
import { FIELD_LIMITS } from '../../common/field-limits';
import { bigintNumber } from '../../database/transformers';

/** Per-AoR key/value attributes (what usrloc's `ul_add_key` kept). */
@Entity({ name: 'location_attrs' })
export class AorAttributeEntity {
  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.domain.max })
  domain!: string;

  @PrimaryColumn({ type: 'varchar', length: FIELD_LIMITS.aor.max })
  aor!: string;

  @PrimaryColumn({ name: 'attr_key', type: 'varchar', length: FIELD_LIMITS.attributeKey.max })
  key!: string;

  @Column({ type: 'text' })
  value!: string;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt!: number;
}
