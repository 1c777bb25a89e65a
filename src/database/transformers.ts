import type { ValueTransformer } from 'typeorm';

/** BIGINT columns hold epoch milliseconds; drivers may return them as strings. */
export const bigintNumber: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null ? null : Number(v)),
};
