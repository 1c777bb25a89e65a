import type { DataSource } from 'typeorm';
import { isUnavailable } from './database-errors';

type Callback = (err: unknown, ...rest: unknown[]) => void;

/** The parts of a mysql2 pool connection the guard uses. */
interface PoolConnection {
  query: (...args: unknown[]) => unknown;
  destroy(): void;
}

interface Pool {
  on(event: 'acquire', listener: (connection: PoolConnection) => void): unknown;
}

/**
 * Makes the MySQL pool replace connections that failed, instead of handing them out again. mysql2 gives up
 * on a query after its time limit but leaves the connection busy with it (commands queued behind would wait
 * without a limit), and a connection the server killed is only dropped from the pool when the driver
 * happens to notice. Each connection is wrapped once, when first taken from the pool: a query that fails
 * because the database is unavailable destroys its connection, and the pool opens a new one when needed.
 */
export function guardMysqlPool(dataSource: DataSource): void {
  const pool = (dataSource.driver as unknown as { pool?: Pool }).pool;
  if (!pool) return;
  const guarded = new WeakSet<PoolConnection>();
  pool.on('acquire', (connection) => {
    if (guarded.has(connection)) return;
    guarded.add(connection);
    const query = connection.query.bind(connection);
    connection.query = (...args: unknown[]): unknown => {
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (err: unknown, ...rest: unknown[]): void => {
          if (err && isUnavailable(err)) connection.destroy();
          (callback as Callback)(err, ...rest);
        };
      }
      return query(...args);
    };
  });
}
