import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { checkLength } from '../common/field-limits';
import { timeOrderedId } from '../common/ids';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ownString, SipError, type IncomingRequest, type NameAddr } from '../sip';
import { SipBridge } from '../sip-bridge/sip-bridge.service';
import type { Binding, ContactParam } from './binding';
import { contactKey } from './contact-key';
import { LocationService } from './location.service';
import { decideRegister, type RegisterContact } from './register-decision';

/** Contact parameters the registrar reads itself; the others are kept with the binding as they came. */
const KNOWN_PARAMS = new Set(['expires', 'q', '+sip.instance', 'reg-id']);

function unquote(v: string): string {
  return v.replace(/^"(.*)"$/, '$1');
}

function readContact(c: NameAddr): RegisterContact {
  const uri = c.uri.toString();
  checkLength('contactUri', uri, 'Contact');
  const expiresParam = c.params.get('expires');
  let expires: number | undefined;
  if (expiresParam !== undefined && expiresParam !== null) {
    if (!/^\d+$/.test(expiresParam)) throw new SipError(400, 'Bad Contact header (expires)');
    expires = Math.min(Number(expiresParam), 4294967295);
  }
  const qParam = c.params.get('q');
  let q: number | undefined;
  if (qParam !== undefined && qParam !== null) {
    if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qParam)) throw new SipError(400, 'Bad Contact header (q)');
    q = Number(qParam);
  }
  const instanceParam = c.params.get('+sip.instance');
  const regIdParam = c.params.get('reg-id');
  let regId: number | undefined;
  if (regIdParam !== undefined && regIdParam !== null) {
    if (!/^\d{1,9}$/.test(regIdParam)) throw new SipError(400, 'Bad Contact header (reg-id)');
    regId = Number(regIdParam);
  }
  const instance = instanceParam ? unquote(instanceParam) : undefined;
  checkLength('instance', instance, '+sip.instance');
  if (regId !== undefined && instance === undefined)
    throw new SipError(400, 'Bad Contact header (reg-id without +sip.instance)');
  const params: ContactParam[] = [];
  for (const [name, value] of c.params)
    if (!KNOWN_PARAMS.has(name)) params.push([ownString(name), value && ownString(value)]);
  const displayName = c.displayName === undefined || c.displayName === '' ? undefined : ownString(c.displayName);
  if (displayName !== undefined || params.length > 0) {
    checkLength('contactParams', JSON.stringify({ name: displayName, params }), 'Contact');
  }
  return {
    uri,
    key: contactKey(uri),
    expires,
    q,
    instance,
    regId,
    ...(displayName !== undefined && { displayName }),
    ...(params.length > 0 && { params }),
  };
}

function contactHeader(b: Binding, now: number): string {
  let v = `<${b.uri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`;
  if (b.q !== undefined) v += `;q=${b.q}`;
  if (b.instance !== undefined) v += `;+sip.instance="${b.instance}"`;
  if (b.regId !== undefined) v += `;reg-id=${b.regId}`;
  return v;
}

/** REGISTER (RFC 3261 §10.3) on the SIP bridge: reads the request, asks the registrar, answers. */
@Injectable()
export class RegisterHandler implements OnModuleInit {
  constructor(
    private readonly bridge: SipBridge,
    private readonly location: LocationService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.registerOthers = new Set(config.auth.registerOthers);
  }

  private readonly registerOthers: ReadonlySet<string>;

  onModuleInit(): void {
    this.bridge.register('REGISTER', (req) => this.handle(req));
    // Outbound flows (reg-id) end with their connection: the binding goes as `deactivated` (RFC 5626 §5.3).
    this.bridge.onConnectionClosed((flow) => {
      if (flow.connectionId) void this.location.flowClosed(flow.connectionId);
    });
    this.bridge.addConnectionPin((id) => this.location.hasBindingsOn(id));
  }

  /**
   * Registrar rules with authentication: an authenticated user registers contacts for its own AoR, or for any
   * when listed in auth.registerOthers; `Contact: *` only for its own. Without an identity (authentication
   * off, a trusted peer) every AoR is open, as before.
   */
  private authorize(identity: string | undefined, aor: string, wildcard: boolean): void {
    if (identity === undefined || identity === aor) return;
    if (wildcard) throw new SipError(403, 'Forbidden (Contact: * only by the AoR itself)');
    if (!this.registerOthers.has(identity.toLowerCase())) {
      throw new SipError(403, `Forbidden (${identity} may register only its own AoR)`);
    }
  }

  async handle(req: IncomingRequest): Promise<void> {
    const r = req.request;
    const to = r.to.uri;
    if (!to.isSip) throw new SipError(404, 'Not Found (To is not a SIP URI)');
    if (!to.user) throw new SipError(400, 'Bad To header (no user part)');
    const aor = to.aor();
    checkLength('aor', aor, 'To');
    const raw = r.contacts();
    this.authorize(req.identity, aor, raw === '*');
    checkLength('callId', r.callId, 'Call-ID');
    const contacts = raw === '*' ? '*' : raw.map(readContact);
    const supported = r.headers.getAll('supported').map((s) => s.trim().toLowerCase());
    const path = supported.includes('path') ? r.headers.getAll('path') : [];
    if (path.length) checkLength('path', JSON.stringify(path), 'Path');
    const userAgent = r.headers.get('user-agent') ?? '';
    checkLength('userAgent', userAgent, 'User-Agent');
    const domain = this.config.registrar.defaultDomain;
    const now = this.location.now();
    const bindings = await this.location.update(domain, aor, (current) => {
      const d = decideRegister(
        current,
        {
          domain,
          aor,
          callId: r.callId,
          cseq: r.cseq.seq,
          expiresHeader: r.expires,
          contacts,
          path,
          userAgent,
          source: req.flow,
        },
        this.config.registrar,
        now,
        () => timeOrderedId(now),
        contactKey,
      );
      return { ...d, result: d.next };
    });
    const headers: Record<string, string | string[]> = { Date: new Date(now).toUTCString() };
    if (bindings.length) headers.Contact = bindings.map((b) => contactHeader(b, now));
    if (path.length) headers.Path = path;
    if (contacts !== '*' && contacts.some((c) => c.regId !== undefined) && supported.includes('outbound')) {
      headers.Require = 'outbound';
    }
    req.respond(200, 'OK', headers);
  }
}
