export type { IncomingRequest, ResponseBody, ResponseHeaders } from './incoming-request';
export { dnsResolver, nextHop } from './next-hop';
export type { NextHop, Resolver } from './next-hop';
export { NonInviteClientTransaction } from './non-invite-client.transaction';
export { NonInviteServerTransaction } from './non-invite-server.transaction';
export { SipStack } from './sip-stack';
export type { RequestHandler, SipStackOptions } from './sip-stack';
export { DEFAULT_TIMERS, TransactionState, timerE, timerF, timerJ, timerK } from './transaction-state';
export type { TimerValues } from './transaction-state';
