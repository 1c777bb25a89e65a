import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { timeOrderedId } from '../common/ids';
import { MAX_PAGE_LIMIT, pageOf, parsePage } from '../common/pagination';
import { CLOCK, RANDOM } from '../common/ports.module';
import { ScalarQuery } from '../common/query-param';
import { ApiErrorDto } from '../pa/api/dto/presence.dto';
import { isJsonObject, onlyFields, parseExpires } from '../pa/api/presence-input';
import { EventPackageRegistry } from '../pa/core/event-package.registry';
import { InternalSubscriptions } from '../pa/core/internal-subscriptions.service';
import type { InternalSubscription } from '../pa/core/subscription';
import type { Clock, Random } from '../sip';
import { B2B_OWNER, B2bService } from './b2b.service';
import {
  B2bSubscriptionDto,
  B2bSubscriptionListDto,
  CreateB2bSubscriptionDto,
  type B2bRemoteDto,
  type B2bStateDto,
} from './dto/b2b-subscription.dto';

const EVENT_TOKEN = /^[A-Za-z0-9.!%*_+`'~-]{1,64}$/;
const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

/**
 * REST onto B2B: subscribe to a remote presentity as a SIP watcher identity, read what the remote server
 * last sent and where the SIP subscription stands, unsubscribe. Each is one of B2B's internal watchers.
 */
@ApiTags('b2b')
@Controller('api/b2b/subscriptions')
export class B2bController {
  constructor(
    private readonly b2b: B2bService,
    private readonly internal: InternalSubscriptions,
    private readonly packages: EventPackageRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) private readonly random: Random,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe to a remote presentity through B2B',
    description:
      'Stored, then a SUBSCRIBE goes to the remote server (via b2b.presenceRoute); shared with other subscribers of the same presentity, event and watcher identity.',
  })
  @ApiBody({ type: CreateB2bSubscriptionDto })
  @ApiCreatedResponse({ type: B2bSubscriptionDto })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'A bad field, named in `field`' })
  async create(@Body() body: unknown): Promise<B2bSubscriptionDto> {
    if (!isJsonObject(body)) {
      throw new DomainError(400, 'body must be a JSON object {presentity, event?, watcher?, expires?}', 'body');
    }
    onlyFields(body, ['presentity', 'event', 'watcher', 'expires'], 'a B2B subscription');
    const presentity = parseAor(body.presentity, 'presentity');
    if (this.internal.isLocal(presentity)) {
      throw new DomainError(
        400,
        `${presentity} is served here (sip.domains); watch it through /api/presentities or the WebSocket`,
        'presentity',
      );
    }
    const event = body.event ?? 'presence';
    if (typeof event !== 'string' || !EVENT_TOKEN.test(event)) {
      throw new DomainError(400, 'event must be an event package name such as "presence"', 'event');
    }
    const watcher = body.watcher === undefined ? this.b2b.defaultWatcher : parseAor(body.watcher, 'watcher');
    const expires = parseExpires(body.expires);
    if (expires === 0) throw new DomainError(400, 'expires must be at least 1 second; DELETE unsubscribes', 'expires');
    this.b2b.ensurePackage(event.toLowerCase(), true);
    const id = timeOrderedId(this.clock.now(), this.random);
    if (expires !== undefined) this.b2b.expect(id, expires);
    try {
      const sub = await this.internal.subscribe({ id, owner: B2B_OWNER, presentity, event, watcher });
      return this.toDto(sub);
    } finally {
      this.b2b.settled(id);
    }
  }

  @Get()
  @ApiOperation({ summary: "B2B's subscriptions, oldest first, with the last state and the remote dialog" })
  @ApiQuery({ name: 'page', required: false, description: '1-based page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_PAGE_LIMIT}, default 50` })
  @ApiOkResponse({ type: B2bSubscriptionListDto })
  list(@ScalarQuery('page') pageRaw?: string, @ScalarQuery('limit') limitRaw?: string): B2bSubscriptionListDto {
    const all = this.internal.list(B2B_OWNER).sort((a, b) => a.createdAt - b.createdAt);
    return pageOf(all, parsePage(pageRaw, limitRaw), (s) => this.toDto(s));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One B2B subscription, with the last state received and the remote dialog' })
  @ApiOkResponse({ type: B2bSubscriptionDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  get(@Param('id') id: string): B2bSubscriptionDto {
    return this.toDto(this.find(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Unsubscribe',
    description: 'The last subscriber of a remote subscription ends it: SUBSCRIBE Expires 0, terminating NOTIFY.',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async remove(@Param('id') id: string): Promise<void> {
    await this.internal.unsubscribe(this.find(id).id);
  }

  private find(id: string): InternalSubscription {
    const sub = this.internal.get(id);
    if (sub?.owner !== B2B_OWNER) throw new DomainError(404, `no B2B subscription ${JSON.stringify(id)}`, 'id');
    return sub;
  }

  /** The one place a B2B subscription becomes its REST form. */
  private toDto(sub: InternalSubscription): B2bSubscriptionDto {
    const remote = this.b2b.remoteOf(sub.id);
    const record = remote && this.b2b.record(remote);
    const last = remote && this.b2b.lastState(remote);
    const remoteDto: B2bRemoteDto | null = record
      ? {
          state: record.state,
          expiresAt: iso(record.expiresAt),
          retryAt: iso(record.retryAt),
          lastStatus: record.lastStatus,
          lastReason: record.lastReason,
          dialog: record.dialog ?? null,
          subscribers: remote.subscribers.size,
        }
      : null;
    let state: B2bStateDto | null = null;
    if (last) {
      const pkg = this.packages.get(sub.event);
      const now = this.clock.now();
      const view = { presentity: sub.presentity, event: sub.event, publications: [last], contacts: [], now };
      state = {
        contentType: last.contentType,
        body: last.body,
        json: pkg ? pkg.toJson(view) : null,
        receivedAt: new Date(last.modifiedAt).toISOString(),
      };
    }
    return {
      id: sub.id,
      presentity: sub.presentity,
      event: sub.event,
      watcher: sub.watcher,
      createdAt: new Date(sub.createdAt).toISOString(),
      remote: remoteDto,
      state,
    };
  }
}
