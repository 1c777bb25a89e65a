import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { DomainError } from './domain-error';

/**
 * Maps errors to the REST error body `{statusCode, error, message, field?}`: domain errors with their
 * status (and Retry-After when they carry one), Nest's HTTP exceptions as they are, anything else as 500 without internals.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('ApiErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    let message = 'Internal server error';
    let field: string | undefined;
    if (exception instanceof DomainError) {
      status = exception.status;
      message = exception.message;
      field = exception.field;
      if (exception.retryAfter !== undefined) res.setHeader('Retry-After', String(exception.retryAfter));
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      const m = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      message = typeof m === 'string' ? m : Array.isArray(m) ? m.map(String).join('; ') : exception.message;
    } else if (isBodyParserError(exception)) {
      status = exception.status;
      message = `body: ${exception.message}`;
      field = 'body';
    } else {
      this.log.error((exception as Error).stack ?? String(exception));
    }
    res
      .status(status)
      .json({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, ...(field ? { field } : {}) });
  }
}

/**
 * Express error middleware placed right after the body parsers: a body that cannot be parsed becomes a
 * {@link DomainError} naming the `body` field. Without it Nest turns the parser's SyntaxError into a bare
 * BadRequestException before any filter sees it, and the message names nothing.
 */
export function bodyParserErrorToDomainError(
  err: unknown,
  _req: unknown,
  _res: unknown,
  next: (e: unknown) => void,
): void {
  next(isBodyParserError(err) ? new DomainError(err.status, `body: ${err.message}`, 'body') : err);
}

function isBodyParserError(e: unknown): e is { status: number; message: string } {
  return (
    typeof e === 'object' &&
    e !== null &&
    'type' in e &&
    'status' in e &&
    typeof (e as { status: unknown }).status === 'number'
  );
}
