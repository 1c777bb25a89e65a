import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Put, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiMethodNotAllowedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPreconditionFailedResponse,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { parseAor } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import { ScalarQuery } from '../../common/query-param';
import type { EventPackage } from '../core/event-package';
import { ApiErrorDto, PublishedDto } from './dto/presence.dto';
import { DEFAULT_EVENT, PresenceApiService, type ApiPublish } from './presence-api.service';
import { contentMediaType, isJsonObject, parseExpiresQuery, parseIfMatch } from './presence-input';
import { ForAorParam } from '../../access/access.decorators';

const JSON_TYPE = 'application/json';

/**
 * The document type an Accept header asks for among the package's NOTIFY types, or `undefined` for JSON
 * (also when JSON, `* /*` or nothing acceptable comes first). Ranges are taken in order of their q-value.
 */
export function negotiate(accept: string | undefined, documentTypes: readonly string[]): string | undefined {
  if (!accept) return undefined;
  const ranges = accept
    .split(',')
    .map((entry, index) => {
      const [range = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      return { range, q: q === undefined ? 1 : Number(q.slice(2)) || 0, index };
    })
    .filter((r) => r.q > 0 && r.range !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { range } of ranges) {
    if (range === JSON_TYPE || range === '*/*' || range === 'application/*') return undefined;
    const match = documentTypes.find((t) => t.toLowerCase() === range);
    if (match) return match;
  }
  return undefined;
}

@ApiTags('presentities')
@Controller('api/presentities')
@ForAorParam()
@ApiBadRequestResponse({ type: ApiErrorDto, description: 'Bad input; `field` names it' })
@ApiNotFoundResponse({ type: ApiErrorDto, description: 'No event package of that name; `field` is `event`' })
@ApiParam({ name: 'aor', description: 'The presentity, e.g. sip:alice@example.com (URL-encoded or not)' })
@ApiParam({
  name: 'event',
  description: `A registered event package (RFC 6665 §7), e.g. "${DEFAULT_EVENT}"; an unknown one is 404`,
})
@ApiQuery({
  name: 'event',
  required: false,
  deprecated: true,
  description: 'Older form of the event; when given it must name the package of the path',
})
export class PresentitiesController {
  constructor(private readonly api: PresenceApiService) {}

  @Get(':aor/:event')
  @ApiOperation({
    summary: 'Current state of a presentity for an event package',
    description:
      "JSON from the event package by default; with an Accept of one of the package's NOTIFY types (e.g. " +
      '`application/pidf+xml` for presence) the document a watcher would receive in a NOTIFY.',
  })
  @ApiProduces(JSON_TYPE, 'application/pidf+xml')
  @ApiOkResponse({
    description:
      'The state. ETag: the entity tag of the publication when exactly one is live (usable as If-Match); ' +
      'absent with none or several (each is listed with its etag in the JSON).',
    schema: { type: 'object' },
  })
  async get(
    @Param('aor') aorRaw: string,
    @Param('event') eventRaw: string,
    @ScalarQuery('event') eventQuery: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<unknown> {
    const presentity = parseAor(aorRaw);
    const pkg = this.resolve(eventRaw, eventQuery);
    res.vary('Accept');
    const type = negotiate(accept, pkg.notifyContentTypes);
    const read = await this.api.readState(presentity, pkg, type);
    if (read === null) throw new DomainError(404, `no ${type} document for ${presentity}`, 'aor');
    if (read.etag !== undefined) res.setHeader('ETag', `"${read.etag}"`);
    if (read.contentType !== undefined) res.type(read.contentType);
    return read.body;
  }

  @Put(':aor/:event')
  @ApiOperation({
    summary: 'Publish state (RFC 3903 semantics)',
    description:
      "JSON in the package's form (presence: `{status, note?, tupleId?, expires?}`) or a raw document of one " +
      'of its types (presence: `Content-Type: application/pidf+xml`, expiry in the `expires` query ' +
      'parameter). Without If-Match a new publication is created; with If-Match the publication with that ' +
      'entity tag is modified, or refreshed when no document fields are sent, or removed with expires 0. ' +
      'A package that takes no publications answers 405.',
  })
  @ApiConsumes(JSON_TYPE, 'application/pidf+xml')
  @ApiBody({
    description: "The package's JSON form plus `expires` (seconds; 0 removes, with If-Match), or a raw document",
    schema: {
      type: 'object',
      properties: { expires: { type: 'integer', minimum: 0, example: 3600 } },
      additionalProperties: true,
      example: { status: 'open', note: 'In a meeting', expires: 3600 },
    },
  })
  @ApiQuery({ name: 'expires', required: false, description: 'Seconds, for raw documents' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Entity tag of the publication to refresh/modify' })
  @ApiOkResponse({ type: PublishedDto, description: 'Committed; the new entity tag is also in ETag' })
  @ApiMethodNotAllowedResponse({ type: ApiErrorDto, description: 'The event package takes no publications' })
  @ApiPreconditionFailedResponse({ type: ApiErrorDto, description: 'If-Match names no live publication' })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorDto })
  async put(
    @Param('aor') aorRaw: string,
    @Param('event') eventRaw: string,
    @ScalarQuery('event') eventQuery: string | undefined,
    @ScalarQuery('expires') expiresRaw: string | undefined,
    @Headers('content-type') contentTypeRaw: string | undefined,
    @Headers('if-match') ifMatchRaw: string | undefined,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PublishedDto> {
    const presentity = parseAor(aorRaw);
    const pkg = this.resolve(eventRaw, eventQuery);
    const rules = this.publishable(pkg, res);
    const ifMatch = parseIfMatch(ifMatchRaw);
    const queryExpires = parseExpiresQuery(expiresRaw);
    const contentType = contentMediaType(contentTypeRaw);
    const req: ApiPublish = { presentity, event: pkg.name, source: 'rest', ...(ifMatch !== undefined && { ifMatch }) };
    let publish: ApiPublish;
    if (isEmpty(body) && ifMatch !== undefined) {
      // A bodiless refresh (or removal with expires=0) of the publication If-Match names.
      publish = { ...req, ...(queryExpires !== undefined && { expires: queryExpires }) };
    } else if (contentType === JSON_TYPE) {
      if (!isJsonObject(body)) {
        throw new DomainError(400, `body must be a JSON object in the ${pkg.name} package's form`, 'body');
      }
      const { json, expires: bodyExpires } = this.api.readJsonPublish(pkg, body, [], `the ${pkg.name} body`);
      const expires = bodyExpires ?? queryExpires;
      publish = { ...req, json, ...(expires !== undefined && { expires }) };
    } else if (typeof body === 'string' && contentType !== undefined) {
      publish = {
        ...req,
        document: { contentType, body },
        ...(queryExpires !== undefined && { expires: queryExpires }),
      };
    } else {
      throw new DomainError(
        415,
        `Content-Type must be ${rules.json ? 'application/json or ' : ''}one of the package's document types (${rules.contentTypes.join(', ')})`,
        'Content-Type',
      );
    }
    const result = await this.api.publish(publish);
    res.setHeader('ETag', `"${result.etag}"`);
    return { etag: result.etag, expires: result.expires };
  }

  @Delete(':aor/:event')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove publications',
    description: 'With If-Match the publication with that entity tag; without, every publication of the presentity.',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Entity tag of the one publication to remove' })
  @ApiNoContentResponse({ description: 'Removed; watchers are notified' })
  @ApiNotFoundResponse({
    type: ApiErrorDto,
    description: 'No event package of that name (`field`: event), or the presentity has no publication',
  })
  @ApiMethodNotAllowedResponse({ type: ApiErrorDto, description: 'The event package takes no publications' })
  @ApiPreconditionFailedResponse({ type: ApiErrorDto, description: 'If-Match names no live publication' })
  async remove(
    @Param('aor') aorRaw: string,
    @Param('event') eventRaw: string,
    @ScalarQuery('event') eventQuery: string | undefined,
    @Headers('if-match') ifMatchRaw: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    const presentity = parseAor(aorRaw);
    const pkg = this.resolve(eventRaw, eventQuery);
    this.publishable(pkg, res);
    const ifMatch = parseIfMatch(ifMatchRaw);
    if (ifMatch !== undefined) {
      await this.api.remove(presentity, pkg.name, ifMatch, 'rest');
      return;
    }
    const removed = await this.api.removeAll(presentity, pkg.name, 'rest');
    if (removed === 0) throw new DomainError(404, `${presentity} has no ${pkg.name} publication`, 'aor');
  }

  /** The package the path names (404 naming `event` when unknown); the older `?event=` must agree (400). */
  private resolve(eventPath: string, eventQuery: string | undefined): EventPackage {
    const pkg = this.api.resolveEvent(eventPath, 404);
    if (eventQuery !== undefined && eventQuery !== '' && eventQuery.toLowerCase() !== pkg.name) {
      throw new DomainError(
        400,
        `event ${JSON.stringify(eventQuery)} in the query names another package than the path (${pkg.name}); leave it out`,
        'event',
      );
    }
    return pkg;
  }

  /** The package's publish rules; a package that takes none answers 405 with `Allow: GET`. */
  private publishable(pkg: EventPackage, res: Response): NonNullable<EventPackage['publish']> {
    if (!pkg.publish) res.setHeader('Allow', 'GET, HEAD');
    return this.api.publishRules(pkg);
  }
}

function isEmpty(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    body === '' ||
    (isJsonObject(body) && Object.keys(body).length === 0 && Object.getPrototypeOf(body) === Object.prototype)
  );
}
