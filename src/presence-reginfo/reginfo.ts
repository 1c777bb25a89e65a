/**
 * The registration information document (RFC 3680 §5, `application/reginfo+xml`): its model, the validation
 * of a PUBLISHed document (400 naming the fault) and the writing of NOTIFY bodies.
 */
import { PackageError } from '../pa/core/event-package';
import { attrOf, escapeAttr, escapeText, parseXml, textOf, XmlError, type XmlElement } from '../common/xml/xml-tree';

export const REGINFO_CONTENT_TYPE = 'application/reginfo+xml';
export const REGINFO_NS = 'urn:ietf:params:xml:ns:reginfo';

/** RFC 3680 §5.3 registration states. */
export const REGISTRATION_STATES = ['init', 'active', 'terminated'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

/** RFC 3680 §5.3 contact states and §5.2 contact events. */
export const CONTACT_STATES = ['active', 'terminated'] as const;
export type ContactState = (typeof CONTACT_STATES)[number];
export const CONTACT_EVENTS = [
  'registered',
  'created',
  'refreshed',
  'shortened',
  'expired',
  'deactivated',
  'probation',
  'unregistered',
  'rejected',
] as const;
export type ContactEvent = (typeof CONTACT_EVENTS)[number];

export interface UnknownParam {
  readonly name: string;
  readonly value: string;
}

/** A `<contact>`; numbers are seconds (expires, durationRegistered, retryAfter). */
export interface ReginfoContact {
  readonly id: string;
  readonly state: ContactState;
  readonly event: ContactEvent;
  readonly uri: string;
  readonly expires?: number;
  readonly durationRegistered?: number;
  readonly retryAfter?: number;
  readonly q?: string;
  readonly callid?: string;
  readonly cseq?: number;
  readonly displayName?: string;
  readonly unknownParams?: readonly UnknownParam[];
}

export interface Registration {
  readonly aor: string;
  readonly id: string;
  readonly state: RegistrationState;
  readonly contacts: readonly ReginfoContact[];
}

export interface Reginfo {
  readonly version: number;
  readonly state: 'full' | 'partial';
  readonly registrations: readonly Registration[];
}

/** Unsigned integers up to 15 digits: exact as JavaScript numbers, and far above any expires, cseq or duration. */
const UNSIGNED = /^\d{1,15}$/;

function fault(message: string): PackageError {
  return new PackageError(400, `Bad reginfo: ${message}`);
}

function required(el: XmlElement, name: string, where: string): string {
  const v = attrOf(el, name);
  if (v === undefined) throw fault(`${where} has no ${name} attribute`);
  return v;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw fault(`${what} "${value}" is none of ${allowed.join(', ')}`);
  }
  return value as T;
}

function unsigned(el: XmlElement, name: string, where: string): number | undefined {
  const v = attrOf(el, name);
  if (v === undefined) return undefined;
  if (!UNSIGNED.test(v.trim())) throw fault(`${where} ${name}="${v}" is not an unsigned integer`);
  return Number(v.trim());
}

const children = (el: XmlElement, local: string): XmlElement[] =>
  el.children.filter((c): c is XmlElement => c.kind === 'element' && c.ns === REGINFO_NS && c.local === local);

function readContact(el: XmlElement, where: string): ReginfoContact {
  const id = required(el, 'id', where);
  const at = `${where} contact ${id}`;
  const uris = children(el, 'uri');
  if (uris.length !== 1) throw fault(`${at} must have one <uri>, has ${uris.length}`);
  const uri = textOf(uris[0]).trim();
  if (uri === '') throw fault(`${at} has an empty <uri>`);
  const display = children(el, 'display-name');
  const params = children(el, 'unknown-param').map((p) => ({
    name: required(p, 'name', `${at} unknown-param`),
    value: textOf(p),
  }));
  const expires = unsigned(el, 'expires', at);
  const durationRegistered = unsigned(el, 'duration-registered', at);
  const retryAfter = unsigned(el, 'retry-after', at);
  const cseq = unsigned(el, 'cseq', at);
  const q = attrOf(el, 'q');
  const callid = attrOf(el, 'callid');
  return {
    id,
    state: oneOf(required(el, 'state', at), CONTACT_STATES, `${at} state`),
    event: oneOf(required(el, 'event', at), CONTACT_EVENTS, `${at} event`),
    uri,
    ...(expires !== undefined && { expires }),
    ...(durationRegistered !== undefined && { durationRegistered }),
    ...(retryAfter !== undefined && { retryAfter }),
    ...(q !== undefined && { q }),
    ...(callid !== undefined && { callid }),
    ...(cseq !== undefined && { cseq }),
    ...(display.length > 0 && { displayName: textOf(display[0]) }),
    ...(params.length > 0 && { unknownParams: params }),
  };
}

function readRegistration(el: XmlElement): Registration {
  const aor = required(el, 'aor', 'registration');
  const id = required(el, 'id', `registration of ${aor}`);
  const where = `registration ${id}`;
  return {
    aor,
    id,
    state: oneOf(required(el, 'state', where), REGISTRATION_STATES, `${where} state`),
    contacts: children(el, 'contact').map((c) => readContact(c, where)),
  };
}

/**
 * Reads a reginfo document (a PUBLISH body); throws {@link PackageError} 400 naming the fault: malformed XML,
 * another root or namespace, a missing or bad version or state, an unknown registration or contact state or
 * event, a contact without one `<uri>`. Elements of other namespaces (extensions) are left out of the model.
 */
export function parseReginfo(body: string): Reginfo {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (e) {
    if (e instanceof XmlError) throw fault(e.message);
    throw e;
  }
  if (root.local !== 'reginfo' || root.ns !== REGINFO_NS) {
    throw fault(`the root element must be <reginfo> in namespace ${REGINFO_NS}, got <${root.name}> in "${root.ns}"`);
  }
  const version = unsigned(root, 'version', 'reginfo');
  if (version === undefined) throw fault('reginfo has no version attribute');
  return {
    version,
    state: oneOf(required(root, 'state', 'reginfo'), ['full', 'partial'] as const, 'reginfo state'),
    registrations: children(root, 'registration').map(readRegistration),
  };
}

function contactXml(c: ReginfoContact): string {
  let out = `<contact id="${escapeAttr(c.id)}" state="${c.state}" event="${c.event}"`;
  if (c.expires !== undefined) out += ` expires="${c.expires}"`;
  if (c.durationRegistered !== undefined) out += ` duration-registered="${c.durationRegistered}"`;
  if (c.retryAfter !== undefined) out += ` retry-after="${c.retryAfter}"`;
  if (c.q !== undefined) out += ` q="${escapeAttr(c.q)}"`;
  if (c.callid !== undefined) out += ` callid="${escapeAttr(c.callid)}"`;
  if (c.cseq !== undefined) out += ` cseq="${c.cseq}"`;
  out += `><uri>${escapeText(c.uri)}</uri>`;
  if (c.displayName !== undefined) out += `<display-name>${escapeText(c.displayName)}</display-name>`;
  for (const p of c.unknownParams ?? []) {
    out += `<unknown-param name="${escapeAttr(p.name)}">${escapeText(p.value)}</unknown-param>`;
  }
  return `${out}</contact>`;
}

/** Writes a reginfo document (RFC 3680 §5.3); valid against the RFC's schema. */
export function reginfoXml(doc: Reginfo): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<reginfo xmlns="${REGINFO_NS}" version="${doc.version}" state="${doc.state}">`;
  for (const r of doc.registrations) {
    out += `\n<registration aor="${escapeAttr(r.aor)}" id="${escapeAttr(r.id)}" state="${r.state}"`;
    if (r.contacts.length === 0) {
      out += '/>';
      continue;
    }
    out += '>';
    for (const c of r.contacts) out += `\n  ${contactXml(c)}`;
    out += '\n</registration>';
  }
  return `${out}\n</reginfo>\n`;
}
