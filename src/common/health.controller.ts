import { Controller, Get, HttpException, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { withTimeout } from '../database/database-errors';
import { GroupCommit } from '../database/group-commit';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import { Public } from '../access/access.decorators';

export interface HealthReport {
  status: 'ok' | 'error';
  database: { ok: boolean; type: string; error?: string };
  transports: Record<string, number>;
}

/**
 * /health: 503 when the database does not answer a probe query within the query time limit, when writes
 * are failing, or when no SIP transport listens. It answers within the time limit itself.
 */
@ApiTags('health')
@Controller('health')
@Public()
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bridge: SipBridge,
    private readonly commits: GroupCommit,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database (probe query and writes) and SIP transports; 503 when one is down' })
  async health(): Promise<HealthReport> {
    const database: HealthReport['database'] = { ok: true, type: this.ds.options.type };
    try {
      await withTimeout(this.ds.query('SELECT 1'), this.config.db.queryTimeoutMs);
      const writes = this.commits.health();
      if (!writes.ok) {
        database.ok = false;
        database.error = writes.error;
      }
    } catch (e) {
      database.ok = false;
      database.error = (e as Error).message;
    }
    const transports = this.bridge.ports();
    const ok = database.ok && Object.keys(transports).length > 0;
    const report: HealthReport = { status: ok ? 'ok' : 'error', database, transports };
    if (!ok) {
      const why = database.ok ? 'no SIP transport listens' : `database: ${database.error ?? 'down'}`;
      throw new HttpException({ ...report, message: why }, 503);
    }
    return report;
  }
}
