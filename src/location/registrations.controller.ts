import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { parseAor } from '../common/aor';
import { DomainError } from '../common/domain-error';
import { MAX_PAGE_LIMIT, pageOf, parsePage } from '../common/pagination';
import { ScalarQuery } from '../common/query-param';
import { AorAttributesService } from './aor-attributes.service';
import {
  AttributeDto,
  PutAttributeDto,
  RegistrationDto,
  RegistrationPageDto,
  toContactDto,
} from './dto/registration.dto';
import { LocationService } from './location.service';
import { ForAorParam } from '../access/access.decorators';

const DOMAIN = /^[A-Za-z0-9_.-]{1,64}$/;

@ApiTags('registrations')
@Controller('api/registrations')
export class RegistrationsController {
  constructor(
    private readonly location: LocationService,
    private readonly attributes: AorAttributesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private domain(raw: string | undefined): string {
    if (raw === undefined || raw === '') return this.config.registrar.defaultDomain;
    if (!DOMAIN.test(raw)) throw new DomainError(400, 'domain must be a location domain name', 'domain');
    return raw;
  }

  @Get()
  @ApiOperation({ summary: 'Registered AoRs with their contacts, paginated' })
  @ApiQuery({ name: 'page', required: false, description: '1-based page' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_PAGE_LIMIT}, default 50` })
  @ApiQuery({ name: 'domain', required: false, description: 'Location domain, default "location"' })
  @ApiOkResponse({ type: RegistrationPageDto })
  list(
    @ScalarQuery('page') pageRaw?: string,
    @ScalarQuery('limit') limitRaw?: string,
    @ScalarQuery('domain') domainRaw?: string,
  ): RegistrationPageDto {
    const page = parsePage(pageRaw, limitRaw);
    const now = this.location.now();
    const all = this.location.aors(domainRaw ? this.domain(domainRaw) : undefined);
    return pageOf(all, page, ({ domain, aor }) => ({
      aor,
      domain,
      contacts: this.location.lookup(aor, domain, now).map((b) => toContactDto(b, now)),
    }));
  }

  @Get(':aor')
  @ForAorParam()
  @ApiOperation({ summary: 'Current contacts of one AoR' })
  @ApiQuery({ name: 'domain', required: false, description: 'Location domain, default "location"' })
  @ApiOkResponse({ type: RegistrationDto })
  get(@Param('aor') aorRaw: string, @ScalarQuery('domain') domainRaw?: string): RegistrationDto {
    const aor = parseAor(aorRaw);
    const domain = this.domain(domainRaw);
    const now = this.location.now();
    const contacts = this.location.lookup(aor, domain, now);
    if (contacts.length === 0) throw new DomainError(404, `${aor} is not registered`, 'aor');
    return { aor, domain, contacts: contacts.map((b) => toContactDto(b, now)) };
  }

  @Delete(':aor/contacts/:id')
  @ForAorParam()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove one contact (announced as deactivated)' })
  async removeContact(
    @Param('aor') aorRaw: string,
    @Param('id') id: string,
    @ScalarQuery('domain') domainRaw?: string,
  ): Promise<void> {
    await this.location.remove(this.domain(domainRaw), parseAor(aorRaw), id);
  }

  @Get(':aor/attributes/:key')
  @ForAorParam()
  @ApiOperation({ summary: 'Read a per-AoR attribute' })
  @ApiOkResponse({ type: AttributeDto })
  async getAttribute(@Param('aor') aorRaw: string, @Param('key') key: string): Promise<AttributeDto> {
    const aor = parseAor(aorRaw);
    return { aor, key, value: await this.attributes.get(aor, key) };
  }

  @Put(':aor/attributes/:key')
  @ApiOperation({ summary: 'Set a per-AoR attribute' })
  @ApiOkResponse({ type: AttributeDto })
  async putAttribute(
    @Param('aor') aorRaw: string,
    @Param('key') key: string,
    @Body() body: PutAttributeDto,
  ): Promise<AttributeDto> {
    const aor = parseAor(aorRaw);
    if (typeof body !== 'object' || body === null)
      throw new DomainError(400, 'body must be a JSON object {"value": "..."}', 'body');
    return { aor, key, value: await this.attributes.set(aor, key, (body as { value?: unknown }).value) };
  }

  @Delete(':aor/attributes/:key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a per-AoR attribute' })
  async deleteAttribute(@Param('aor') aorRaw: string, @Param('key') key: string): Promise<void> {
    await this.attributes.delete(parseAor(aorRaw), key);
  }
}
