import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { parseAor } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import { MAX_PAGE_LIMIT, pageOf, parsePage } from '../../common/pagination';
import { CLOCK } from '../../common/ports.module';
import { ScalarQuery } from '../../common/query-param';
import type { Clock } from '../../sip';
import type { WatcherKind } from '../core/subscription';
import { SubscriptionRegistry } from '../core/subscription.registry';
import { ApiErrorDto } from './dto/presence.dto';
import { SubscriptionListDto, toSubscriptionDto } from './dto/subscription.dto';
import { ForAorQuery } from '../../access/access.decorators';

const KINDS: readonly WatcherKind[] = ['sip', 'ws', 'internal'];

@ApiTags('subscriptions')
@Controller('api/subscriptions')
@ForAorQuery('presentity')
export class SubscriptionsController {
  constructor(
    private readonly registry: SubscriptionRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Active watchers of every kind (SIP dialogs, browser WebSockets, internal), oldest first, paginated',
  })
  @ApiQuery({ name: 'presentity', required: false, description: 'Only watchers of this AoR' })
  @ApiQuery({ name: 'event', required: false, description: 'Only this event package' })
  @ApiQuery({ name: 'kind', required: false, enum: KINDS })
  @ApiQuery({ name: 'page', required: false, description: '1-based page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_PAGE_LIMIT}, default 50` })
  @ApiOkResponse({ type: SubscriptionListDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  list(
    @ScalarQuery('presentity') presentityRaw?: string,
    @ScalarQuery('event') eventRaw?: string,
    @ScalarQuery('kind') kindRaw?: string,
    @ScalarQuery('page') pageRaw?: string,
    @ScalarQuery('limit') limitRaw?: string,
  ): SubscriptionListDto {
    const presentity = presentityRaw ? parseAor(presentityRaw, 'presentity') : undefined;
    const event = eventRaw ? eventRaw.toLowerCase() : undefined;
    let kind: WatcherKind | undefined;
    if (kindRaw !== undefined && kindRaw !== '') {
      kind = KINDS.find((k) => k === kindRaw);
      if (!kind) throw new DomainError(400, `kind must be one of ${KINDS.join(', ')}`, 'kind');
    }
    const page = parsePage(pageRaw, limitRaw);
    const now = this.clock.now();
    const all = this.registry
      .list({
        ...(presentity !== undefined && { presentity }),
        ...(event !== undefined && { event }),
        ...(kind !== undefined && { kind }),
      })
      .sort((a, b) => a.createdAt - b.createdAt);
    return pageOf(all, page, (s) => toSubscriptionDto(s, now));
  }
}
