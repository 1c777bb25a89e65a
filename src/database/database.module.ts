import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { resolveDataSourceOptions, sqliteBusyWaitMs } from './data-source-options';
import { GroupCommit } from './group-commit';
import { guardMysqlPool } from './mysql-pool-guard';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import { SqliteWriter } from './sqlite-writer';

/**
 * The TypeORM data source on SQLite (default) or MySQL/MariaDB, with pending migrations applied at
 * start, and the {@link GroupCommit} every repository writes through.
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => ({
        ...(await resolveDataSourceOptions(config.db)),
        migrationsRun: true,
        migrationsTransactionMode: 'each' as const,
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [
    {
      provide: GroupCommit,
      inject: [DataSource, APP_CONFIG],
      useFactory: (ds: DataSource, config: AppConfig) => {
        guardMysqlPool(ds);
        // An SQLite file (not `:memory:`, which one connection alone sees) gets the checkpoint thread
        // (db.sqliteCheckpointThread) and a writer thread for the batches of row writes (db.sqliteWriterThread).
        const file = ds.options.type === 'better-sqlite3' ? ds.options.database : ':memory:';
        const busyMs = sqliteBusyWaitMs(config.db.queryTimeoutMs);
        const onFile = file !== ':memory:' && file !== '';
        return new GroupCommit(ds, config.db.commitDelayMs, {
          timeoutMs: config.db.queryTimeoutMs,
          logger: new Logger('GroupCommit'),
          ...(config.db.sqliteCheckpointThread && onFile && { checkpointer: new SqliteCheckpointer(file) }),
          ...(config.db.sqliteWriterThread &&
            onFile && { sqliteWriter: () => new SqliteWriter(file, busyMs, config.db.sqliteCacheKib) }),
        });
      },
    },
  ],
  exports: [GroupCommit],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(GroupCommit) private readonly commits: GroupCommit) {}

  async onApplicationShutdown(): Promise<void> {
    await this.commits.drain();
    await this.commits.close();
  }
}
