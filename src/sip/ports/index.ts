export { systemClock } from './clock';
export type { Clock, TimerHandle } from './clock';
export { FakeClock } from './fake-clock';
export { CryptoRandom, SequenceRandom, cryptoRandom } from './random';
export type { Random } from './random';
export { noopLogger } from './logger';
export type { SipLogger } from './logger';
