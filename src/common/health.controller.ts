import { Controller, Get, HttpException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SipBridge } from '../sip-bridge/sip-bridge.service';

export interface HealthReport {
  status: 'ok' | 'error';
  database: { ok: boolean; type: string; error?: string };
  transports: Record<string, number>;
}

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly bridge: SipBridge,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database and SIP transports; 503 when one is down' })
  async health(): Promise<HealthReport> {
    const database: HealthReport['database'] = { ok: true, type: this.ds.options.type };
    try {
      await this.ds.query('SELECT 1');
    } catch (e) {
      database.ok = false;
      database.error = (e as Error).message;
    }
    const transports = this.bridge.ports();
    const ok = database.ok && Object.keys(transports).length > 0;
    const report: HealthReport = { status: ok ? 'ok' : 'error', database, transports };
    if (!ok) throw new HttpException(report, 503);
    return report;
  }
}
