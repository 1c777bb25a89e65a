import type { IncomingRequest } from '../sip';
import { SUPPORTED_EXTENSIONS, type SipCapabilities } from './sip-handler';

/** The event key of a handler that serves every event of its method. */
export const ANY_EVENT = '*';

/** What OPTIONS, Allow and Allow-Events announce, from the handlers by method and event and the Accept types. */
export function computeCapabilities(
  handlers: ReadonlyMap<string, ReadonlyMap<string, unknown>>,
  accept: ReadonlySet<string>,
): SipCapabilities {
  const events = new Set<string>();
  for (const byEvent of handlers.values()) for (const e of byEvent.keys()) if (e !== ANY_EVENT) events.add(e);
  return {
    methods: ['OPTIONS', 'ACK', 'CANCEL', ...[...handlers.keys()].sort()],
    events: [...events].sort(),
    accept: [...accept].sort(),
    supported: SUPPORTED_EXTENSIONS,
  };
}

/** Answers OPTIONS 200 with what the server announces. */
export function answerOptions(req: IncomingRequest, caps: SipCapabilities): void {
  const headers: Record<string, string> = {
    Allow: caps.methods.join(', '),
    Supported: caps.supported.join(', '),
    Accept: caps.accept.length ? caps.accept.join(', ') : 'application/sdp',
  };
  if (caps.events.length) headers['Allow-Events'] = caps.events.join(', ');
  req.respond(200, 'OK', headers);
}
