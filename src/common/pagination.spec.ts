import { DomainError } from './domain-error';
import { MAX_PAGE_LIMIT, pageOf, parsePage } from './pagination';

describe('pagination', () => {
  it('defaults to page 1 of 50 and slices the list, with its total', () => {
    const all = Array.from({ length: 120 }, (_, i) => i);
    expect(parsePage(undefined, '')).toEqual({ page: 1, limit: 50 });
    const third = pageOf(all, parsePage('3', undefined), (n) => `#${n}`);
    expect(third).toEqual({
      items: Array.from({ length: 20 }, (_, i) => `#${100 + i}`),
      total: 120,
      page: 3,
      limit: 50,
    });
    expect(pageOf(all, { page: 9, limit: 50 }, String).items).toEqual([]);
  });

  it.each([
    ['page', '0', undefined],
    ['page', 'x', undefined],
    ['limit', undefined, '0'],
    ['limit', undefined, String(MAX_PAGE_LIMIT + 1)],
    ['limit', undefined, '-1'],
  ])('refuses a bad %s with 400 naming it', (field, page, limit) => {
    let error: unknown;
    try {
      parsePage(page, limit);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ status: 400, field });
  });
});
