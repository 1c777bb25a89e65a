import { AorAttributeEntity } from '../location/entities/aor-attribute.entity';
import { ContactEntity } from '../location/entities/contact.entity';

/** Every entity the data source maps; the migrations in `migrations/` create exactly these tables. */
export const ENTITIES = [ContactEntity, AorAttributeEntity];
