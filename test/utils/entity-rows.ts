import { PublicationEntity } from '../../src/pa/entities/publication.entity';

/** A whole publication row of sip:alice@example.com for database unit tests; `body` also varies its ETag. */
export function publicationRow(id: string, body: string): PublicationEntity {
  return Object.assign(new PublicationEntity(), {
    id,
    presentity: 'sip:alice@example.com',
    event: 'presence',
    etag: `etag-${id}-${body}`,
    contentType: 'application/pidf+xml',
    body,
    source: 'test',
    expiresAt: 2_000_000_000_000,
    modifiedAt: 1,
    createdAt: 1,
  });
}
