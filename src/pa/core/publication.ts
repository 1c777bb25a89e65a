import type { PublicationView } from './event-package';

/** A publication (RFC 3903) as the core keeps it in memory and in the `presentity` table. */
export interface Publication extends PublicationView {
  /** Stable id; the ETag changes on every successful PUBLISH, the id does not. */
  readonly id: string;
  readonly presentity: string;
  readonly event: string;
  readonly createdAt: number;
}

/** A PUBLISH, from SIP, REST or the browser WebSocket: one path for all (RFC 3903 §6). */
export interface PublishRequest {
  readonly presentity: string;
  readonly event: string;
  /** SIP-If-Match / If-Match: the entity tag of the publication this refreshes, modifies or removes. */
  readonly ifMatch?: string;
  /** Requested expiry in seconds; undefined for the package default. */
  readonly expires?: number;
  readonly contentType?: string;
  /** Empty or undefined for a refresh or a removal. */
  readonly body?: string;
  readonly source: string;
}

export interface PublishResult {
  readonly etag: string;
  /** Granted expiry in seconds (0 after a removal). */
  readonly expires: number;
  readonly publication?: Publication;
}
