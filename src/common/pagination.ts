import { DomainError } from './domain-error';

/** Largest page a list endpoint returns (`limit`). */
export const MAX_PAGE_LIMIT = 500;
const DEFAULT_PAGE_LIMIT = 50;
const MAX_PAGE = 1_000_000;

/** A 1-based page of `limit` items. */
export interface PageRequest {
  readonly page: number;
  readonly limit: number;
}

/** One page of a list, with the length of the whole list. */
export interface Page<T> extends PageRequest {
  readonly items: T[];
  readonly total: number;
}

function intParam(raw: string | undefined, field: string, def: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new DomainError(400, `${field} must be an integer from ${min} to ${max}`, field);
  }
  return Number(raw);
}

/** `page` (1-based, default 1) and `limit` (1 to {@link MAX_PAGE_LIMIT}, default 50) of a list request. */
export function parsePage(pageRaw: string | undefined, limitRaw: string | undefined): PageRequest {
  return {
    page: intParam(pageRaw, 'page', 1, 1, MAX_PAGE),
    limit: intParam(limitRaw, 'limit', DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT),
  };
}

/** The requested page of `all`, each item mapped to its DTO. */
export function pageOf<T, D>(all: readonly T[], { page, limit }: PageRequest, toDto: (item: T) => D): Page<D> {
  return { items: all.slice((page - 1) * limit, page * limit).map(toDto), total: all.length, page, limit };
}
