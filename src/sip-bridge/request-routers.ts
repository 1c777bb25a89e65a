import type { SipRequest } from '../sip';
import type { DialogRouter, SipRequestHandler } from './sip-handler';

/**
 * The routers the bridge asks before its handlers by method and Event: request routers about every request,
 * dialog routers about in-dialog requests (a To tag) — a dialog's owner gets its requests whatever their
 * method and package, found by Call-ID and tags.
 */
export class RequestRouters {
  private readonly dialog: DialogRouter[] = [];
  private readonly any: DialogRouter[] = [];

  addDialogRouter(router: DialogRouter): void {
    this.dialog.push(router);
  }

  addRequestRouter(router: DialogRouter): void {
    this.any.push(router);
  }

  /** The handler a router claims the request for; undefined when none does. */
  find(req: SipRequest): SipRequestHandler | undefined {
    for (const router of this.any) {
      const handler = router(req);
      if (handler) return handler;
    }
    if (this.dialog.length === 0 || req.to.tag === undefined) return undefined;
    for (const router of this.dialog) {
      const handler = router(req);
      if (handler) return handler;
    }
    return undefined;
  }
}
