export { OutgoingClient } from './outgoing-client';
export type {
  ClientNotify,
  NotifyAnswer,
  NotifyHandler,
  OutgoingClientOptions,
  OutgoingEntry,
  PublishInput,
  StatusListener,
  SubscribeInput,
} from './outgoing-types';
export { afterTermination, parseSubscriptionState, refreshDelay } from './outgoing-record';
export type {
  OutgoingKind,
  OutgoingOptions,
  OutgoingRecord,
  OutgoingState,
  OutgoingStore,
  SubscriptionStateHeader,
} from './outgoing-record';
export { looseRoute } from './outgoing-requests';
