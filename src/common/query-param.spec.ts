import { DomainError } from './domain-error';
import { scalarQuery } from './query-param';

describe('scalarQuery', () => {
  it('returns the one value, or undefined when absent', () => {
    expect(scalarQuery({ event: 'presence' }, 'event')).toBe('presence');
    expect(scalarQuery({ event: '' }, 'event')).toBe('');
    expect(scalarQuery({ other: 'x' }, 'event')).toBeUndefined();
    expect(scalarQuery({ events: 'x', 'eventful[]': 'y' }, 'event')).toBeUndefined();
  });

  it.each([
    ['repeated', { event: ['a', 'b'] }],
    ['an array form', { 'event[]': 'a' }],
    ['an object form', { 'event[x]': 'a' }],
    ['parsed as an object', { event: { x: 'a' } }],
  ])('refuses %s with 400 naming the parameter', (_what, query) => {
    expect(() => scalarQuery(query, 'event')).toThrow(DomainError);
    expect(() => scalarQuery(query, 'event')).toThrow(/^event must be given once/);
  });
});
