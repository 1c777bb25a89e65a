/**
 * Node flags the server is tuned for that cannot be set once V8 runs, so package.json's start scripts give them:
 * one V8 background thread, so that concurrent marking and sweeping do not take a small machine's second core
 * from the event loop (README, "Twelfth pass"); no memory reducer, whose collections in an idle spell throw away
 * the request path's optimized code, so that the next burst met unoptimized code (README, "Sixteenth pass").
 */
export const TUNED_NODE_FLAGS: readonly string[] = ['--v8-pool-size=1', '--no-memory-reducer'];

/** `--no-memory_reducer=x` → `memory-reducer`: the option a flag sets, whatever its value or spelling. */
function optionOf(flag: string): string {
  const name = flag.replace(/^--?/, '').split('=')[0].replace(/_/g, '-');
  return name.startsWith('no-') ? name.slice(3) : name;
}

/**
 * The tuned flags whose option the process was not started with (`process.execArgv`); an option given with any
 * value is the operator's choice and not reported.
 */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(optionOf));
  return TUNED_NODE_FLAGS.filter((flag) => !given.has(optionOf(flag)));
}
