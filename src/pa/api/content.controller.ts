import { Controller, Get, Param, Res } from '@nestjs/common';
import {
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError } from '../../common/domain-error';
import { ScalarQuery } from '../../common/query-param';
import { ContentIndirectionService } from '../core/content-indirection.service';
import { EventPackageRegistry } from '../core/event-package.registry';
import { ApiErrorDto } from './dto/presence.dto';
import { Public } from '../../access/access.decorators';

/**
 * Content indirection (RFC 4483): the content a NOTIFY pointed at with `message/external-body`, served with
 * the access token of its URL.
 */
@ApiTags('content')
@Controller('api/content')
@Public()
export class ContentController {
  constructor(
    private readonly indirection: ContentIndirectionService,
    private readonly packages: EventPackageRegistry,
  ) {}

  @Get(':event/:ref')
  @ApiOperation({
    summary: 'Content a NOTIFY referred to (message/external-body, RFC 4483)',
    description:
      'The URL comes from the `URL` parameter of a NOTIFY body of type message/external-body; its `expires` and ' +
      "`token` grant access until the time given in the part's `expiration`. The body is the content byte for " +
      'byte, with its Content-Type and its entity tag in ETag.',
  })
  @ApiParam({ name: 'event', description: 'The event package of the NOTIFY, e.g. ua-profile' })
  @ApiParam({ name: 'ref', description: "The package's reference of the content" })
  @ApiQuery({ name: 'expires', description: 'Epoch seconds until which the token is valid' })
  @ApiQuery({ name: 'token', description: 'Access token of the URL' })
  @ApiOkResponse({ description: 'The content' })
  @ApiForbiddenResponse({ type: ApiErrorDto, description: 'No token, a wrong one, or one past its expiry' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'The content was replaced or removed since' })
  async get(
    @Param('event') event: string,
    @Param('ref') ref: string,
    @ScalarQuery('expires') expiresRaw: string | undefined,
    @ScalarQuery('token') token: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (!token) throw new DomainError(403, 'token is required: use the URL of the NOTIFY as given', 'token');
    const expires = /^\d{1,15}$/.test(expiresRaw ?? '') ? Number(expiresRaw) : NaN;
    if (!this.indirection.verify({ event: event.toLowerCase(), ref, expires }, token)) {
      throw new DomainError(403, 'token is not valid for this content, or has expired', 'token');
    }
    const content = await this.packages.get(event)?.fetchContent?.(ref);
    if (!content)
      throw new DomainError(404, `the content ${ref} no longer exists; a newer NOTIFY names its successor`, 'ref');
    res.setHeader('Content-Type', content.contentType);
    if (content.etag !== undefined) res.setHeader('ETag', `"${content.etag}"`);
    res.setHeader('Cache-Control', 'private, no-store');
    res.send(typeof content.body === 'string' ? Buffer.from(content.body) : content.body);
  }
}
