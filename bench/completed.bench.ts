/**
 * The table of completed server transactions (Timer J records, src/sip/transaction/completed-transactions.ts)
 * alone, on a fake clock: --seconds of --rate new records a second (SUBSCRIBEs answered), then as long again at
 * --tail a second, with the stack's prune once a second. Prints the slowest prune and insertion (wall time of the
 * call, collections included) and the total time in prune: the event-loop stalls the table adds while it holds
 * hundreds of thousands of records and they expire. `npm run bench:completed`.
 */
import { performance } from 'node:perf_hooks';
import { FakeClock } from '../src/sip/ports/fake-clock';
import { CompletedTransactions } from '../src/sip/transaction/completed-transactions';
import { parseArgs } from './load/common';

const args = parseArgs({ rate: 8000, seconds: 40, tail: 100, delay: 32000 });
const clock = new FakeClock();
const table = new CompletedTransactions(clock, args.delay);
const record = 'SIP/2.0 200 OK\r\n'.padEnd(60, 'x');
let n = 0;
let maxPrune = 0;
let totalPrune = 0;
let maxAdd = 0;
let held = 0;
for (let s = 0; s < 2 * args.seconds; s++) {
  const perSecond = s < args.seconds ? args.rate : args.tail;
  const step = Math.max(1, Math.floor(perSecond / 1000));
  for (let i = 0; i < perSecond; i++) {
    const t0 = performance.now();
    table.add(`z9hG4bK${(n++).toString(36)}abcdefabcdef|127.0.0.1:5060|SUBSCRIBE`, record);
    maxAdd = Math.max(maxAdd, performance.now() - t0);
    if (i % step === 0) clock.advance(1);
  }
  clock.advance(Math.max(0, 1000 - Math.ceil(perSecond / step)));
  const t0 = performance.now();
  table.prune();
  const took = performance.now() - t0;
  totalPrune += took;
  maxPrune = Math.max(maxPrune, took);
  held = Math.max(held, table.size);
}
console.log(
  JSON.stringify({
    script: 'completed',
    rate: args.rate,
    seconds: args.seconds,
    mostHeld: held,
    maxPruneMs: +maxPrune.toFixed(2),
    totalPruneMs: +totalPrune.toFixed(1),
    maxAddMs: +maxAdd.toFixed(2),
  }),
);
