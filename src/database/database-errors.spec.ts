import { QueryFailedError } from 'typeorm';
import { DatabaseUnavailableError, isUnavailable, rethrowDatabaseError, withTimeout } from './database-errors';

function driverError(props: Record<string, unknown>, message = 'failed'): Error {
  return Object.assign(new Error(message), props);
}

describe('database errors', () => {
  it('tell an unavailable database from a bad statement or row', () => {
    expect(isUnavailable(driverError({ code: 'ECONNREFUSED' }))).toBe(true);
    expect(isUnavailable(driverError({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' }))).toBe(true);
    expect(isUnavailable(driverError({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 }))).toBe(true);
    expect(isUnavailable(driverError({ code: 'SQLITE_BUSY_SNAPSHOT' }))).toBe(true);
    expect(
      isUnavailable(driverError({ fatal: true }, "Can't add new command when connection is in closed state")),
    ).toBe(true);
    expect(isUnavailable(new QueryFailedError('INSERT', [], driverError({ code: 'ER_CONNECTION_KILLED' })))).toBe(true);
    expect(isUnavailable(new QueryFailedError('INSERT', [], driverError({ code: 'ER_DATA_TOO_LONG' })))).toBe(false);
    expect(isUnavailable(driverError({ code: 'ER_NO_SUCH_TABLE' }))).toBe(false);
    expect(isUnavailable(driverError({ code: 'SQLITE_CONSTRAINT_UNIQUE' }))).toBe(false);
    expect(isUnavailable(new Error('no code'))).toBe(false);
  });

  it('become a 503 with Retry-After that does not show the driver message to clients', () => {
    const cause = driverError({ code: 'ECONNREFUSED' }, 'connect ECONNREFUSED 10.0.0.5:3306');
    let thrown: unknown;
    try {
      rethrowDatabaseError(cause);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(DatabaseUnavailableError);
    expect(thrown).toMatchObject({ status: 503, retryAfter: 2, message: 'database unavailable, retry later', cause });
    const other = driverError({ code: 'ER_PARSE_ERROR' });
    expect(() => rethrowDatabaseError(other)).toThrow(other);
  });

  it('bound a wait with a time limit', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20)).rejects.toMatchObject({ code: 'ER_QUERY_TIMEOUT' });
    await expect(withTimeout(Promise.resolve(1), 20)).resolves.toBe(1);
  });
});
