import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error';
import type { EventPackage } from '../core/event-package';
import { EventPackageRegistry } from '../core/event-package.registry';
import { Notifier } from '../core/notifier.service';
import type { PublishResult } from '../core/publication';
import { PublicationStore } from '../core/publication.store';
import { PublishService } from '../core/publish.service';
import { PIDF_CONTENT_TYPE } from '../presence/pidf';
import { pidfFromStatus } from '../presence/pidf-compose';
import { presentityUri } from '../presence/presence.package';
import { fromPackageError } from './package-error.mapping';
import type { StatusInput } from './presence-input';

const EVENT_TOKEN = /^[A-Za-z0-9.!%*_+`'~-]{1,64}$/;

/** A publish from REST or the browser WebSocket, before it becomes a {@link PublishRequest}. */
export interface ApiPublish {
  readonly presentity: string;
  readonly event: string;
  readonly ifMatch?: string;
  readonly expires?: number;
  /** A raw document of the package's type, or a status the PIDF is built from; neither for a refresh. */
  readonly document?: { readonly contentType: string; readonly body: string };
  readonly status?: StatusInput;
  readonly source: string;
}

/** A presentity's state as REST GET answers it. */
export interface StateRead {
  /** The package's JSON, or a document's text. */
  readonly body: unknown;
  /** The document's type; absent for JSON. */
  readonly contentType?: string;
  readonly etag?: string;
}

/**
 * What REST and the browser WebSocket share: resolving event packages, reading and rendering a
 * presentity's state, and publishing through the core's one PUBLISH path (RFC 3903), with the core's
 * {@link PackageError}s translated into {@link DomainError}s naming the field at fault.
 */
@Injectable()
export class PresenceApiService {
  constructor(
    private readonly packages: EventPackageRegistry,
    private readonly notifier: Notifier,
    private readonly publications: PublicationStore,
    private readonly publisher: PublishService,
  ) {}

  /** The package of an `event` parameter (default `presence`); 400 naming `event` when unknown. */
  resolveEvent(raw: unknown): EventPackage {
    if (raw === undefined || raw === '') raw = 'presence';
    if (typeof raw !== 'string' || !EVENT_TOKEN.test(raw)) {
      throw new DomainError(400, 'event must be an event package name such as "presence"', 'event');
    }
    const pkg = this.packages.get(raw);
    if (!pkg) {
      throw new DomainError(
        400,
        `event "${raw}" is not a package this server serves (known: ${this.packages.names().join(', ')})`,
        'event',
      );
    }
    return pkg;
  }

  /**
   * The state for REST GET: the package's JSON, or with `documentType` the document a watcher would get in its
   * NOTIFY (null when the package renders none). `etag` is the entity tag of the one live publication (RFC 3903),
   * to send as If-Match; with none or several publications there is none, as no single tag names the state.
   */
  async readState(presentity: string, pkg: EventPackage, documentType?: string): Promise<StateRead | null> {
    const state = await this.notifier.state(presentity, pkg.name);
    const tag = state.publications.length === 1 ? { etag: state.publications[0].etag } : {};
    if (documentType === undefined) return { body: pkg.toJson(state), ...tag };
    const doc = pkg.render(state, { kind: 'internal', uri: 'rest', accept: [documentType] });
    return doc && { body: doc.body, contentType: doc.contentType, ...tag };
  }

  /** Initial publication, refresh (no document), modification (document and ifMatch) or removal (expires 0). */
  async publish(req: ApiPublish): Promise<PublishResult> {
    if (req.expires === 0 && req.ifMatch === undefined) {
      throw new DomainError(400, 'expires 0 removes a publication and needs the entity tag (If-Match)', 'expires');
    }
    let contentType: string | undefined;
    let body: string | undefined;
    if (req.status?.status !== undefined) {
      contentType = PIDF_CONTENT_TYPE;
      try {
        body = pidfFromStatus(presentityUri(req.presentity), { status: req.status.status, note: req.status.note });
      } catch (e) {
        throw fromPackageError(e);
      }
    } else if (req.document) {
      contentType = req.document.contentType;
      body = req.document.body;
      if (body.trim() === '' && req.ifMatch === undefined) {
        throw new DomainError(400, 'body is empty: a new publication needs a document', 'body');
      }
    } else if (req.ifMatch === undefined) {
      throw new DomainError(400, 'status is required ("open" or "closed") for a new publication', 'status');
    }
    try {
      return await this.publisher.publish({
        presentity: req.presentity,
        event: req.event,
        ...(req.ifMatch !== undefined && { ifMatch: req.ifMatch }),
        ...(req.expires !== undefined && { expires: req.expires }),
        ...(contentType !== undefined && { contentType }),
        ...(body !== undefined && body.trim() !== '' && { body }),
        source: req.source,
      });
    } catch (e) {
      throw fromPackageError(e);
    }
  }

  /** Removes the publication with entity tag `etag`. */
  async remove(presentity: string, event: string, etag: string, source: string): Promise<void> {
    await this.publish({ presentity, event, ifMatch: etag, expires: 0, source });
  }

  /**
   * Removes every live publication of a presentity for an event; returns how many were removed. One that
   * another request replaced or removed meanwhile (412) is skipped.
   */
  async removeAll(presentity: string, event: string, source: string): Promise<number> {
    let removed = 0;
    for (const p of this.publications.find(presentity, event)) {
      try {
        await this.remove(presentity, event, p.etag, source);
        removed++;
      } catch (e) {
        if (!(e instanceof DomainError && e.status === 412)) throw e;
      }
    }
    return removed;
  }
}
