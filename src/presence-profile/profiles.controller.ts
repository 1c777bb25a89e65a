import { applyDecorators, Controller, Delete, Get, Headers, HttpCode, Param, Put, Req, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiPreconditionFailedResponse,
  ApiQuery,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { pageOf, parsePage, type Page } from '../common/pagination';
import { ScalarQuery, scalarQuery } from '../common/query-param';
import { ApiErrorDto } from '../pa/api/dto/presence.dto';
import { parseIfMatch } from '../pa/api/presence-input';
import { ProfileDto, ProfilePageDto, ProfileStatusDto, toHolderDto, toProfileDto } from './dto/profile.dto';
import {
  APPIDS_MAX,
  localNetworkAor,
  PROFILE_TYPES,
  TARGET_MAX,
  type ProfileTarget,
  type ProfileType,
} from './profile';
import { ProfileService } from './profile.service';
import { ForAorParam, ForAorQuery } from '../access/access.decorators';

/** The route whose bodies are taken raw, byte for byte, whatever their type (app.factory.ts). */
export const PROFILES_PATH = '/api/profiles';

const TARGET_QUERIES = ['profileType', 'vendor', 'model', 'version', 'appids'] as const;
type TargetQuery = Partial<Record<(typeof TARGET_QUERIES)[number], string>>;

function profileTypeOf(raw: string | undefined): ProfileType {
  if (raw === undefined || raw === '') return 'user';
  const t = raw.toLowerCase();
  if ((PROFILE_TYPES as readonly string[]).includes(t)) return t as ProfileType;
  throw new DomainError(
    400,
    `profileType must be one of ${PROFILE_TYPES.join(', ')}, got ${JSON.stringify(raw)}`,
    'profileType',
  );
}

function targetValue(raw: string | undefined, field: string, max: number): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > max || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new DomainError(400, `${field} must be at most ${max} visible ASCII characters without spaces`, field);
  }
  return raw;
}

/** The device target of a request's query (RFC 6080 §6.2 parameters). */
function targetOf(q: TargetQuery): ProfileTarget {
  const vendor = targetValue(q.vendor, 'vendor', TARGET_MAX);
  const model = targetValue(q.model, 'model', TARGET_MAX);
  const version = targetValue(q.version, 'version', TARGET_MAX);
  const appids = targetValue(q.appids, 'appids', APPIDS_MAX);
  return {
    profileType: profileTypeOf(q.profileType),
    ...(vendor !== undefined && { vendor }),
    ...(model !== undefined && { model }),
    ...(version !== undefined && { version }),
    ...(appids !== undefined && { appids }),
  };
}

/**
 * The key a document is stored under: the AoR (or device URI); for a local-network document the domain,
 * given as `example.com` or as any AoR of it, kept as `sip:anonymous@example.com`.
 */
function ownerOf(aorRaw: string, type: ProfileType): string {
  if (type !== 'local-network') return parseAor(aorRaw);
  const domain = aorRaw.includes('@') ? parseAor(aorRaw).split('@')[1] : aorRaw.replace(/^sips?:/i, '');
  if (!/^[A-Za-z0-9.-]{1,200}$/.test(domain)) {
    throw new DomainError(400, `aor must be a domain or an AoR of it for a local-network profile`, 'aor');
  }
  return localNetworkAor(domain);
}

/** The target query parameters in the OpenAPI document. */
const TargetQueries = (): MethodDecorator =>
  applyDecorators(
    ApiQuery({ name: 'profileType', required: false, enum: PROFILE_TYPES, description: 'Default user' }),
    ApiQuery({ name: 'vendor', required: false, description: 'Only devices of this vendor' }),
    ApiQuery({ name: 'model', required: false, description: 'Only devices of this model' }),
    ApiQuery({ name: 'version', required: false, description: 'Only devices of this firmware version' }),
    ApiQuery({ name: 'appids', required: false, description: 'Only subscribers naming one of these application ids' }),
  );

@ApiTags('profiles')
@Controller('api/profiles')
@ApiBadRequestResponse({ type: ApiErrorDto, description: 'Bad input; `field` names it' })
export class ProfilesController {
  constructor(private readonly profiles: ProfileService) {}

  @Get()
  @ForAorQuery('aor')
  @ApiOperation({ summary: 'List ua-profile documents (without their bytes)' })
  @ApiQuery({ name: 'aor', required: false })
  @ApiQuery({ name: 'profileType', required: false, enum: PROFILE_TYPES })
  @ApiQuery({ name: 'vendor', required: false })
  @ApiQuery({ name: 'page', required: false, description: '1-based, default 1' })
  @ApiQuery({ name: 'limit', required: false, description: '1 to 500, default 50' })
  @ApiOkResponse({ type: ProfilePageDto })
  async list(
    @ScalarQuery('aor') aor: string | undefined,
    @ScalarQuery('profileType') profileType: string | undefined,
    @ScalarQuery('vendor') vendor: string | undefined,
    @ScalarQuery('page') page: string | undefined,
    @ScalarQuery('limit') limit: string | undefined,
  ): Promise<Page<ProfileDto>> {
    const request = parsePage(page, limit);
    const type = profileType ? profileTypeOf(profileType) : undefined;
    const all = await this.profiles.list({
      ...(aor && { aor: type === 'local-network' ? ownerOf(aor, type) : parseAor(aor) }),
      ...(type && { profileType: type }),
      ...(vendor && { vendor: targetValue(vendor, 'vendor', TARGET_MAX) }),
    });
    return pageOf(all, request, toProfileDto);
  }

  @Get(':aor/status')
  @ForAorParam()
  @ApiOperation({
    summary: 'Versions of an AoR and the version each subscriber holds',
    description:
      'Every document of the AoR (all targets) and every ua-profile subscriber of it with the entity tag of the version it was last sent.',
  })
  @ApiParam({ name: 'aor', description: 'sip:alice@example.com (URL-encoded or not)' })
  @ApiOkResponse({ type: ProfileStatusDto })
  async status(@Param('aor') aorRaw: string): Promise<ProfileStatusDto> {
    const aor = parseAor(aorRaw);
    const versions = await this.profiles.list({ aor });
    return { aor, versions: versions.map(toProfileDto), subscribers: this.profiles.holders(aor).map(toHolderDto) };
  }

  @Get(':aor')
  @ForAorParam()
  @ApiOperation({
    summary: 'The document for a target, byte for byte',
    description: 'The stored bytes with the Content-Type they were uploaded with; ETag is the version.',
  })
  @ApiParam({ name: 'aor', description: 'AoR or device URI; a domain for local-network' })
  @TargetQueries()
  @ApiOkResponse({ description: 'The document' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No document for this AoR and target' })
  async get(@Param('aor') aorRaw: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const target = targetOf(this.targetQuery(req));
    const p = await this.profiles.get(ownerOf(aorRaw, target.profileType), target);
    res.setHeader('Content-Type', p.contentType);
    res.setHeader('ETag', `"${p.etag}"`);
    res.send(p.body);
  }

  @Put(':aor')
  @ApiOperation({
    summary: 'Upload a document (new version)',
    description:
      'The raw body is the document (XML, JSON, text, binary), stored byte for byte with its Content-Type. ' +
      'One document per AoR and target; a PUT replaces it and notifies every subscriber it concerns. ' +
      'If-Match guards concurrent edits (412 when the stored version is another). Documents do not expire.',
  })
  @ApiParam({ name: 'aor', description: 'AoR or device URI; a domain for local-network' })
  @TargetQueries()
  @ApiQuery({
    name: 'effectiveBy',
    required: false,
    description: 'RFC 6080 effective-by in seconds, sent in the NOTIFY',
  })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Entity tag of the version being replaced' })
  @ApiConsumes('application/octet-stream', 'application/xml', 'application/json', 'text/plain')
  @ApiBody({ description: 'The document', schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: ProfileDto, description: 'Stored (new target); ETag is the version' })
  @ApiOkResponse({ type: ProfileDto, description: 'Replaced; ETag is the new version' })
  @ApiPreconditionFailedResponse({ type: ApiErrorDto, description: 'If-Match is not the stored version' })
  @ApiPayloadTooLargeResponse({ type: ApiErrorDto, description: 'Larger than presenceProfile.maxDocumentSize' })
  @ApiUnsupportedMediaTypeResponse({ type: ApiErrorDto, description: 'No Content-Type' })
  async put(
    @Param('aor') aorRaw: string,
    @ScalarQuery('effectiveBy') effectiveByRaw: string | undefined,
    @Headers('content-type') contentType: string | undefined,
    @Headers('if-match') ifMatchRaw: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProfileDto> {
    const target = targetOf(this.targetQuery(req));
    const aor = ownerOf(aorRaw, target.profileType);
    const ifMatch = parseIfMatch(ifMatchRaw);
    let effectiveBy: number | undefined;
    if (effectiveByRaw !== undefined && effectiveByRaw !== '') {
      if (!/^\d{1,9}$/.test(effectiveByRaw)) {
        throw new DomainError(400, 'effectiveBy must be a non-negative integer number of seconds', 'effectiveBy');
      }
      effectiveBy = Number(effectiveByRaw);
    }
    const body: unknown = req.body;
    const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    const { profile, created } = await this.profiles.put({
      aor,
      target,
      contentType: contentType?.trim(),
      body: bytes,
      ...(ifMatch !== undefined && { ifMatch }),
      ...(effectiveBy !== undefined && { effectiveBy }),
    });
    res.status(created ? 201 : 200);
    res.setHeader('ETag', `"${profile.etag}"`);
    return toProfileDto(profile);
  }

  @Delete(':aor')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Remove the document for a target',
    description: 'Its subscribers get a NOTIFY without body, or with the next best match.',
  })
  @ApiParam({ name: 'aor', description: 'AoR or device URI; a domain for local-network' })
  @TargetQueries()
  @ApiHeader({ name: 'If-Match', required: false, description: 'Entity tag of the version being removed' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No document for this AoR and target' })
  @ApiPreconditionFailedResponse({ type: ApiErrorDto, description: 'If-Match is not the stored version' })
  async remove(
    @Param('aor') aorRaw: string,
    @Headers('if-match') ifMatchRaw: string | undefined,
    @Req() req: Request,
  ): Promise<void> {
    const target = targetOf(this.targetQuery(req));
    await this.profiles.remove(ownerOf(aorRaw, target.profileType), target, parseIfMatch(ifMatchRaw));
  }

  private targetQuery(req: Request): TargetQuery {
    const out: TargetQuery = {};
    for (const name of TARGET_QUERIES) {
      const v = scalarQuery(req.query, name);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }
}
