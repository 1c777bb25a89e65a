import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { ForAorParam } from '../../access/access.decorators';
import { parseAor } from '../../common/aor';
import { DomainError } from '../../common/domain-error';
import { ScalarQuery } from '../../common/query-param';
import { ApiErrorDto } from '../api/dto/presence.dto';
import {
  DenyWatcherDto,
  SetWatcherRuleDto,
  toWatcherRuleDto,
  WatcherRuleDto,
  WatcherRuleListDto,
} from './dto/watcher-rule.dto';
import { WATCHER_POLICIES, type WatcherPolicy } from './watcher-rule.repository';
import { ANY_WATCHER, WatcherPolicyService } from './watcher-policy.service';

function parsePolicy(value: unknown, field: string): WatcherPolicy {
  const policy = WATCHER_POLICIES.find((p) => p === value);
  if (policy === undefined) throw new DomainError(400, `${field} must be one of ${WATCHER_POLICIES.join(', ')}`, field);
  return policy;
}

/** A watcher in a path: `*`, or a SIP AoR (canonical form), or a browser user name as the WebSocket gives it. */
function parseWatcher(raw: string): string {
  const w = raw.trim();
  if (w === ANY_WATCHER) return w;
  if (/^sips?:/i.test(w) || w.includes('@')) return parseAor(w, 'watcher');
  if (w === '' || w.length > 255 || /\p{Cc}/u.test(w)) {
    throw new DomainError(400, 'watcher must be *, a SIP AoR or a user name of at most 255 characters', 'watcher');
  }
  return w;
}

/** Watcher authorization of a presentity's `presence` (RFC 3856 §6.6.2): its pending watchers and its rules. */
@ApiTags('watchers')
@ApiParam({ name: 'presentity', description: 'The presentity, e.g. sip:alice@example.com (URL-encoded or not)' })
// A presentity's own user key decides who watches it; admin keys decide for anyone.
@ForAorParam('presentity')
@Controller('api/watchers/:presentity')
export class WatchersController {
  constructor(private readonly policy: WatcherPolicyService) {}

  @Get()
  @ApiOperation({
    summary: "The presentity's watcher rules; `?policy=pending` lists the watchers waiting for a decision",
  })
  @ApiQuery({ name: 'policy', required: false, enum: WATCHER_POLICIES })
  @ApiOkResponse({ type: WatcherRuleListDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  list(@Param('presentity') presentityRaw: string, @ScalarQuery('policy') policyRaw?: string): WatcherRuleListDto {
    const presentity = parseAor(presentityRaw, 'presentity');
    const policy = policyRaw ? parsePolicy(policyRaw, 'policy') : undefined;
    return { items: this.policy.list(presentity, policy).map(toWatcherRuleDto) };
  }

  @Put(':watcher')
  @ApiOperation({
    summary: 'Sets the rule for one watcher (`*`: every watcher without its own rule); live subscriptions follow it',
  })
  @ApiParam({ name: 'watcher', description: 'A SIP AoR, a browser user name, or *' })
  @ApiBody({ type: SetWatcherRuleDto })
  @ApiOkResponse({ type: WatcherRuleDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  async set(
    @Param('presentity') presentityRaw: string,
    @Param('watcher') watcherRaw: string,
    @Body() body: unknown,
  ): Promise<WatcherRuleDto> {
    const presentity = parseAor(presentityRaw, 'presentity');
    const watcher = parseWatcher(watcherRaw);
    const policy = parsePolicy((body as { policy?: unknown } | undefined)?.policy, 'policy');
    return toWatcherRuleDto(await this.policy.setRule(presentity, watcher, policy));
  }

  @Post(':watcher/approve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approves a watcher: its pending subscriptions become active (NOTIFY active with the state)',
  })
  @ApiOkResponse({ type: WatcherRuleDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  async approve(
    @Param('presentity') presentityRaw: string,
    @Param('watcher') watcherRaw: string,
  ): Promise<WatcherRuleDto> {
    const presentity = parseAor(presentityRaw, 'presentity');
    return toWatcherRuleDto(await this.policy.setRule(presentity, parseWatcher(watcherRaw), 'allow'));
  }

  @Post(':watcher/deny')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Denies a watcher: its subscriptions end with NOTIFY terminated;reason=rejected — or, with `polite: true`, ' +
      'it is polite-blocked: told active, shown a neutral state (closed, no notes)',
  })
  @ApiBody({ type: DenyWatcherDto, required: false })
  @ApiOkResponse({ type: WatcherRuleDto })
  @ApiBadRequestResponse({ type: ApiErrorDto })
  async deny(
    @Param('presentity') presentityRaw: string,
    @Param('watcher') watcherRaw: string,
    @Body() body: unknown,
  ): Promise<WatcherRuleDto> {
    const presentity = parseAor(presentityRaw, 'presentity');
    const polite = (body as { polite?: unknown } | undefined)?.polite;
    if (polite !== undefined && typeof polite !== 'boolean') {
      throw new DomainError(400, 'polite must be true or false', 'polite');
    }
    const policy = polite === true ? 'polite-block' : 'deny';
    return toWatcherRuleDto(await this.policy.setRule(presentity, parseWatcher(watcherRaw), policy));
  }

  @Delete(':watcher')
  @HttpCode(204)
  @ApiOperation({ summary: 'Removes a rule: the watcher falls back to the `*` rule, else watchers.defaultPolicy' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async remove(@Param('presentity') presentityRaw: string, @Param('watcher') watcherRaw: string): Promise<void> {
    await this.policy.removeRule(parseAor(presentityRaw, 'presentity'), parseWatcher(watcherRaw));
  }
}
