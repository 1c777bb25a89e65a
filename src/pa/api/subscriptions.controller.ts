import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { parseAor } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import type { WatcherKind } from '../core/subscription';
import { SubscriptionRegistry } from '../core/subscription.registry';
import { ApiErrorDto } from './dto/presence.dto';
import { SubscriptionListDto, toSubscriptionDto } from './dto/subscription.dto';

const KINDS: readonly WatcherKind[] = ['sip', 'ws', 'internal'];

@ApiTags('subscriptions')
@Controller('api/subscriptions')
export class SubscriptionsController {
  constructor(private readonly registry: SubscriptionRegistry) {}

  @Get()
  @ApiOperation({ summary: 'Active watchers of every kind (SIP dialogs, browser WebSockets, internal)' })
  @ApiQuery({ name: 'presentity', required: false, description: 'Only watchers of this AoR' })
  @ApiQuery({ name: 'event', required: false, description: 'Only this event package' })
  @ApiQuery({ name: 'kind', required: false, enum: KINDS })
  @ApiOkResponse({ type: SubscriptionListDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  list(
    @Query('presentity') presentityRaw?: string,
    @Query('event') eventRaw?: string,
    @Query('kind') kindRaw?: string,
  ): SubscriptionListDto {
    const presentity = presentityRaw ? parseAor(presentityRaw, 'presentity') : undefined;
    if (eventRaw !== undefined && typeof eventRaw !== 'string') {
      throw new DomainError(400, 'event must be given once', 'event');
    }
    const event = eventRaw ? eventRaw.toLowerCase() : undefined;
    let kind: WatcherKind | undefined;
    if (kindRaw !== undefined && kindRaw !== '') {
      kind = KINDS.find((k) => k === kindRaw);
      if (!kind) throw new DomainError(400, `kind must be one of ${KINDS.join(', ')}`, 'kind');
    }
    const now = Date.now();
    const items = this.registry
      .list({
        ...(presentity !== undefined && { presentity }),
        ...(event !== undefined && { event }),
        ...(kind !== undefined && { kind }),
      })
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((s) => toSubscriptionDto(s, now));
    return { items, total: items.length };
  }
}
