import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { DomainError } from '../common/domain-error';
import { pageOf, parsePage, type Page } from '../common/pagination';
import { ScalarQuery } from '../common/query-param';
import { ApiErrorDto } from '../pa/api/dto/presence.dto';
import { isJsonObject, onlyFields, type JsonObject } from '../pa/api/presence-input';
import {
  CreateSubscriberDto,
  SubscriberDto,
  SubscriberPageDto,
  SubscriberPasswordDto,
  toSubscriberDto,
} from './dto/subscriber.dto';
import { SubscriberService } from './subscriber.service';

function jsonBody(body: unknown, allowed: readonly string[], where: string): JsonObject {
  if (!isJsonObject(body)) throw new DomainError(400, `the body must be a JSON object (${where})`, 'body');
  onlyFields(body, allowed, where);
  return body;
}

/** Digest users for SIP authentication (administration). */
@ApiTags('subscribers')
@Controller('api/subscribers')
@ApiBadRequestResponse({ type: ApiErrorDto, description: 'Bad input; `field` names it' })
export class SubscribersController {
  constructor(private readonly subscribers: SubscriberService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a digest user',
    description: 'The password is kept only as HA1 for MD5 and SHA-256, for auth.realm or the domain.',
  })
  @ApiBody({ type: CreateSubscriberDto })
  @ApiCreatedResponse({ type: SubscriberDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The username already exists in the domain' })
  async create(@Body() body: unknown): Promise<SubscriberDto> {
    const b = jsonBody(body, ['username', 'domain', 'password'], 'a subscriber');
    const s = await this.subscribers.create({
      username: b.username as string,
      domain: b.domain as string,
      password: b.password as string,
    });
    return toSubscriberDto(s);
  }

  @Get()
  @ApiOperation({ summary: 'List digest users' })
  @ApiQuery({ name: 'domain', required: false })
  @ApiQuery({ name: 'page', required: false, description: '1-based, default 1' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 50' })
  @ApiOkResponse({ type: SubscriberPageDto })
  async list(
    @ScalarQuery('domain') domain: string | undefined,
    @ScalarQuery('page') page: string | undefined,
    @ScalarQuery('limit') limit: string | undefined,
  ): Promise<Page<SubscriberDto>> {
    const request = parsePage(page, limit);
    const all = await this.subscribers.list(domain === undefined || domain === '' ? undefined : domain);
    return pageOf(all, request, toSubscriberDto);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One digest user' })
  @ApiOkResponse({ type: SubscriberDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async get(@Param('id') id: string): Promise<SubscriberDto> {
    return toSubscriberDto(await this.subscribers.get(id));
  }

  @Put(':id/password')
  @HttpCode(204)
  @ApiOperation({ summary: 'Change the password (new HA1s)' })
  @ApiBody({ type: SubscriberPasswordDto })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async setPassword(@Param('id') id: string, @Body() body: unknown): Promise<void> {
    const b = jsonBody(body, ['password'], 'a password change');
    await this.subscribers.setPassword(id, b.password as string);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a digest user' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async remove(@Param('id') id: string): Promise<void> {
    await this.subscribers.remove(id);
  }
}
