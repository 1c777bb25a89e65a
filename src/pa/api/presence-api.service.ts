import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/domain-error';
import type { EventPackage, JsonInput, JsonPublishing, PublishRules, TextDocument } from '../core/event-package';
import { EventPackageRegistry } from '../core/event-package.registry';
import { Notifier } from '../core/notifier.service';
import type { PublishResult } from '../core/publication';
import { PublicationStore } from '../core/publication.store';
import { PublishService } from '../core/publish.service';
import { fromPackageError } from './package-error.mapping';
import { onlyFields, parseExpires, type JsonObject } from './presence-input';

const EVENT_TOKEN = /^[A-Za-z0-9.!%*_+`'~-]{1,64}$/;
/** The event of a WS message or REST query that names none. */
export const DEFAULT_EVENT = 'presence';

/** A publish from REST or the browser WebSocket, before it becomes a {@link PublishRequest}. */
export interface ApiPublish {
  readonly presentity: string;
  readonly event: string;
  readonly ifMatch?: string;
  readonly expires?: number;
  /**
   * A raw document of one of the package's types, or the document fields of the package's JSON form
   * ({@link JsonPublishing}); neither, or JSON without fields together with `ifMatch`, refreshes.
   */
  readonly document?: TextDocument;
  readonly json?: JsonInput;
  readonly source: string;
}

/** The parts of a JSON publish: the package's document fields and the API's own `expires`. */
export interface JsonPublish {
  readonly json: JsonInput;
  readonly expires?: number;
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
 * What REST and the browser WebSocket share for every registered event package: resolving the package,
 * reading and rendering a presentity's state, and publishing through the core's one PUBLISH path (RFC 3903),
 * with the core's {@link PackageError}s translated into {@link DomainError}s naming the field at fault.
 */
@Injectable()
export class PresenceApiService {
  constructor(
    private readonly packages: EventPackageRegistry,
    private readonly notifier: Notifier,
    private readonly publications: PublicationStore,
    private readonly publisher: PublishService,
  ) {}

  /**
   * The package of an `event` (default {@link DEFAULT_EVENT}); `unknown` (400 for a message field or a query
   * parameter, 404 for a path) naming `event`, with the known packages, when none is registered by that name.
   */
  resolveEvent(raw: unknown, unknown: 400 | 404 = 400): EventPackage {
    if (raw === undefined || raw === '') raw = DEFAULT_EVENT;
    if (typeof raw !== 'string' || !EVENT_TOKEN.test(raw)) {
      throw new DomainError(unknown, `event must be an event package name such as "${DEFAULT_EVENT}"`, 'event');
    }
    const pkg = this.packages.get(raw);
    if (!pkg) {
      throw new DomainError(
        unknown,
        `event "${raw}" is not a package this server serves (known: ${this.packages.names().join(', ')})`,
        'event',
      );
    }
    return pkg;
  }

  /** The package's publish rules; 405 naming `event` for a package that takes no publications. */
  publishRules(pkg: EventPackage): PublishRules {
    if (pkg.publish) return pkg.publish;
    const publishable = this.packages.publishable();
    throw new DomainError(
      405,
      `event "${pkg.name}" takes no publications, its state is only read (publishable: ${publishable.join(', ') || 'none'})`,
      'event',
    );
  }

  /**
   * Splits a JSON publish into the package's document fields and `expires`; `own` lists the message's other
   * fields (`type`, `id`, ... of a WS message). 400 naming a field that is none of these; 415 naming
   * `Content-Type` when the package has no JSON form.
   */
  readJsonPublish(pkg: EventPackage, obj: JsonObject, own: readonly string[], where: string): JsonPublish {
    const form = this.jsonForm(pkg);
    onlyFields(obj, [...own, ...form.fields, 'expires'], where);
    const json: Record<string, unknown> = {};
    for (const f of form.fields) if (obj[f] !== undefined) json[f] = obj[f];
    const expires = parseExpires(obj.expires);
    return { json, ...(expires !== undefined && { expires }) };
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
    const doc = pkg.render(state, { kind: 'internal', uri: 'rest', accept: [documentType] }) ?? null;
    return doc && { body: doc.body, contentType: doc.contentType, ...tag };
  }

  /** Initial publication, refresh (no document), modification (document and ifMatch) or removal (expires 0). */
  async publish(req: ApiPublish): Promise<PublishResult> {
    if (req.expires === 0 && req.ifMatch === undefined) {
      throw new DomainError(400, 'expires 0 removes a publication and needs the entity tag (If-Match)', 'expires');
    }
    let doc = req.document;
    if (req.json && (req.ifMatch === undefined || Object.keys(req.json).length > 0)) {
      doc = this.fromJson(this.resolveEvent(req.event), req.presentity, req.json);
    } else if (doc && doc.body.trim() === '' && req.ifMatch === undefined) {
      throw new DomainError(400, 'body is empty: a new publication needs a document', 'body');
    } else if (!doc && req.ifMatch === undefined) {
      throw new DomainError(400, 'body is required: a new publication needs a document', 'body');
    }
    try {
      return await this.publisher.publish({
        presentity: req.presentity,
        event: req.event,
        ...(req.ifMatch !== undefined && { ifMatch: req.ifMatch }),
        ...(req.expires !== undefined && { expires: req.expires }),
        ...(doc && doc.body.trim() !== '' && { contentType: doc.contentType, body: doc.body }),
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

  /** The package's JSON form; 415 naming `Content-Type` when it takes documents only. */
  private jsonForm(pkg: EventPackage): JsonPublishing {
    const rules = this.publishRules(pkg);
    if (rules.json) return rules.json;
    throw new DomainError(
      415,
      `event "${pkg.name}" takes documents (${rules.contentTypes.join(', ')}), not JSON`,
      'Content-Type',
    );
  }

  private fromJson(pkg: EventPackage, presentity: string, json: JsonInput): TextDocument {
    const form = this.jsonForm(pkg);
    try {
      return form.fromJson(presentity, json);
    } catch (e) {
      throw fromPackageError(e, form.fields);
    }
  }
}
