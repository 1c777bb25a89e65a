import { missingNodeFlags, TUNED_NODE_FLAGS } from './node-flags';

describe('missingNodeFlags', () => {
  it('names every tuned flag when node was started with none', () => {
    expect(missingNodeFlags([])).toEqual(['--v8-pool-size=1', '--no-memory-reducer']);
    expect(missingNodeFlags(['--enable-source-maps', '--heap-growing-percent=25'])).toEqual([...TUNED_NODE_FLAGS]);
  });

  it('names nothing when started as the start scripts start it', () => {
    expect(missingNodeFlags(['--heap-growing-percent=25', '--v8-pool-size=1', '--no-memory-reducer'])).toEqual([]);
  });

  it('takes another value or spelling of the same option as the operator choosing it', () => {
    expect(missingNodeFlags(['--v8-pool-size=4', '--memory-reducer'])).toEqual([]);
    expect(missingNodeFlags(['--v8_pool_size=2'])).toEqual(['--no-memory-reducer']);
    expect(missingNodeFlags(['--no-memory_reducer'])).toEqual(['--v8-pool-size=1']);
  });
});
