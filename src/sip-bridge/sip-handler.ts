import type { IncomingRequest, SipRequest } from '../sip';

/** A feature's handler for one method (and, for SUBSCRIBE/PUBLISH/NOTIFY, one event package). */
export type SipRequestHandler = (req: IncomingRequest) => Promise<void> | void;

/** Finds the handler of the dialog an in-dialog request belongs to; undefined when it is not one of its dialogs. */
export type DialogRouter = (request: SipRequest) => SipRequestHandler | undefined;
/**
 * Runs before the handler of every routed request: true lets the request go on (with `identity` set when it
 * was authenticated); false means the authenticator answered it itself (a challenge, a refusal).
 */
export type SipAuthenticator = (req: IncomingRequest) => boolean | Promise<boolean>;

/** What the bridge answers OPTIONS with and checks requests against. */
export interface SipCapabilities {
  readonly methods: readonly string[];
  readonly events: readonly string[];
  readonly accept: readonly string[];
  readonly supported: readonly string[];
}

/** Methods RFC 3261 and its extensions define; a known method nobody handles gets 405, others 501. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

/** Option tags (RFC 3261 §19.2) the server supports; a Require naming another gets 420. */
export const SUPPORTED_EXTENSIONS: readonly string[] = ['path', 'outbound'];
