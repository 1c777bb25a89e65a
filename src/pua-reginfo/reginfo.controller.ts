import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import {
  CreateReginfoSubscriptionDto,
  ReginfoSubscriptionDto,
  ReginfoUpdateDto,
  ReginfoUpdateResultDto,
  toReginfoSubscriptionDto,
} from './dto/reginfo-subscription.dto';
import { ReginfoPublisher } from './reginfo-publisher.service';
import { ReginfoSubscriptions } from './reginfo-subscriptions.service';

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new DomainError(400, 'body must be a JSON object', 'body');
  return body as Record<string, unknown>;
}

/** pua_reginfo over REST: reginfo_subscribe and its subscriptions, reginfo_update. */
@ApiTags('reginfo')
@Controller('api/reginfo')
export class ReginfoController {
  constructor(
    private readonly subscriptions: ReginfoSubscriptions,
    private readonly publisher: ReginfoPublisher,
  ) {}

  @Post('subscriptions')
  @ApiOperation({ summary: 'reginfo_subscribe(uri, expires): subscribe to the reginfo of an AoR at another server' })
  @ApiCreatedResponse({ type: ReginfoSubscriptionDto })
  async subscribe(@Body() body: CreateReginfoSubscriptionDto): Promise<ReginfoSubscriptionDto> {
    const b = objectBody(body);
    return toReginfoSubscriptionDto(await this.subscriptions.subscribe(b.uri, b.expires));
  }

  @Get('subscriptions')
  @ApiOperation({ summary: 'The reginfo subscriptions held, with their state' })
  @ApiOkResponse({ type: [ReginfoSubscriptionDto] })
  list(): ReginfoSubscriptionDto[] {
    return this.subscriptions.list().map(toReginfoSubscriptionDto);
  }

  @Get('subscriptions/:id')
  @ApiOperation({ summary: 'One reginfo subscription' })
  @ApiOkResponse({ type: ReginfoSubscriptionDto })
  get(@Param('id') id: string): ReginfoSubscriptionDto {
    return toReginfoSubscriptionDto(this.subscriptions.byId(id));
  }

  @Delete('subscriptions/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'End a reginfo subscription (SUBSCRIBE Expires 0)' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.subscriptions.unsubscribe(id);
  }

  @Post('update')
  @HttpCode(200)
  @ApiOperation({ summary: 'reginfo_update(aor): publish the AoR again and notify local reg watchers' })
  @ApiOkResponse({ type: ReginfoUpdateResultDto })
  async update(@Body() body: ReginfoUpdateDto): Promise<ReginfoUpdateResultDto> {
    const aor = parseAor(objectBody(body).aor);
    return { aor, published: await this.publisher.update(aor) };
  }
}
