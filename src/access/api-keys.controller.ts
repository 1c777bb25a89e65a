import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { DomainError } from '../common/domain-error';
import { CLOCK } from '../common/ports.module';
import type { Clock } from '../sip';
import { ApiErrorDto } from '../pa/api/dto/presence.dto';
import { ApiKeyService, readNewApiKey } from './api-key.service';
import { ApiKeyDto, ApiKeyListDto, CreateApiKeyDto, CreatedApiKeyDto, toApiKeyDto } from './dto/api-key.dto';

/** API keys, for admin keys only (no route metadata: the access guard keeps user keys out). */
@ApiTags('keys')
@Controller('api/keys')
@ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'No API key, or not a valid one' })
@ApiForbiddenResponse({ type: ApiErrorDto, description: 'Not an admin key' })
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create an API key',
    description: 'The answer holds the key itself, once: only its SHA-256 is stored.',
  })
  @ApiBody({ type: CreateApiKeyDto })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  async create(@Body() body: unknown): Promise<CreatedApiKeyDto> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new DomainError(400, 'body must be a JSON object {"role": ...}', 'body');
    const { record, key } = await this.keys.create(readNewApiKey(body as Record<string, unknown>, this.clock.now()));
    return Object.assign(toApiKeyDto(record), { key });
  }

  @Get()
  @ApiOperation({ summary: 'Every API key (without the keys themselves), oldest first' })
  @ApiOkResponse({ type: ApiKeyListDto })
  async list(): Promise<ApiKeyListDto> {
    return { items: (await this.keys.list()).map(toApiKeyDto) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One API key (without the key itself)' })
  @ApiOkResponse({ type: ApiKeyDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async get(@Param('id') id: string): Promise<ApiKeyDto> {
    return toApiKeyDto(await this.keys.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  async revoke(@Param('id') id: string): Promise<void> {
    await this.keys.revoke(id);
  }
}
