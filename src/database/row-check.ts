import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import { FieldTooLongError, fits, TEXT_BYTES, type FieldLimit } from '../common/field-limits';

/** A text column and the size it holds, from the entity metadata. */
interface TextColumn {
  readonly property: string;
  readonly limit: FieldLimit;
}

/** Checks the texts of a row against its entity's columns before it is queued for a write. */
export class RowCheck {
  private readonly columns = new Map<EntityTarget<ObjectLiteral>, readonly TextColumn[]>();

  constructor(private readonly dataSource: DataSource) {}

  /** Throws {@link FieldTooLongError} when a text of `row` (whole or some columns) does not fit its column. */
  check(entity: EntityTarget<ObjectLiteral>, row: ObjectLiteral): void {
    let columns = this.columns.get(entity);
    if (!columns) this.columns.set(entity, (columns = textColumns(this.dataSource.getMetadata(entity))));
    for (const c of columns) {
      const v: unknown = row[c.property];
      if (typeof v === 'string' && !fits(v, c.limit)) throw new FieldTooLongError(c.property, c.limit);
    }
  }
}

/** The text columns of an entity with the size each holds (VARCHAR(n): n characters; TEXT: 65,535 bytes). */
function textColumns(meta: EntityMetadata): TextColumn[] {
  const out: TextColumn[] = [];
  for (const c of meta.columns) {
    if (c.type === 'text') out.push({ property: c.propertyName, limit: { max: TEXT_BYTES, unit: 'bytes' } });
    else if (c.type === 'varchar' && c.length !== '') {
      out.push({ property: c.propertyName, limit: { max: Number(c.length), unit: 'characters' } });
    }
  }
  return out;
}
