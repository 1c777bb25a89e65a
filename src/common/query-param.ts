import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { DomainError } from './domain-error';

/**
 * The one value of a query parameter that takes one: undefined when absent, 400 naming the parameter when
 * it is given more than once (`?event=a&event=b`) or in an array or object form (`?event[]=a`,
 * `?event[x]=a`), which Express's query parser would otherwise hand on as an array or leave unread.
 */
export function scalarQuery(query: Request['query'], name: string): string | undefined {
  for (const key of Object.keys(query)) {
    if (key.startsWith(`${name}[`)) throw new DomainError(400, `${name} must be given once, as name=value`, name);
  }
  const value = query[name];
  if (value === undefined || typeof value === 'string') return value;
  throw new DomainError(400, `${name} must be given once, as name=value`, name);
}

/** `@Query(name)` for a parameter that takes one value (see {@link scalarQuery}). */
export const ScalarQuery = createParamDecorator((name: string, ctx: ExecutionContext): string | undefined =>
  scalarQuery(ctx.switchToHttp().getRequest<Request>().query, name),
);
