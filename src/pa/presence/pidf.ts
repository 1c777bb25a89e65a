/**
 * PIDF (RFC 3863) validation and its parsed model. Composition and the documents the server writes itself
 * live in `pidf-compose.ts`, which builds on the raw structure kept here.
 */
import { PackageError } from '../core/event-package';
import { XmlElement, XmlError, XmlNode, attrOf, isNsDecl, parseXml, textOf } from '../../common/xml/xml-tree';

/** The PIDF namespace (RFC 3863 §4.4). */
export const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';
/** The PIDF media type (RFC 3863, registered in its IANA section). */
export const PIDF_CONTENT_TYPE = 'application/pidf+xml';

/** `<basic>` values (RFC 3863 §4.1). */
export type Basic = 'open' | 'closed';

/** A `<note>` (RFC 3863 §4.1), with its `xml:lang` when given. */
export interface PidfNote {
  readonly text: string;
  readonly lang?: string;
}

/** One `<tuple>` (RFC 3863 §4.1) of a document. `basic` is absent when `<status>` holds only extensions. */
export interface PidfTuple {
  readonly id: string;
  readonly basic?: Basic;
  readonly contact?: string;
  /** `priority` of `<contact>`, a qvalue 0..1. */
  readonly priority?: number;
  readonly notes: readonly PidfNote[];
  /** `<timestamp>` as written (an xs:dateTime). */
  readonly timestamp?: string;
}

/**
 * What validation keeps to re-serialise a document losslessly: the root (its namespace scope), each tuple
 * with its children put in the schema's order (status, extensions, contact, notes, timestamp), the
 * document-level notes, and the elements of other namespaces (RPID `person`, data-model `device`, ...).
 */
export interface PidfRaw {
  readonly root: XmlElement;
  readonly tuples: readonly XmlElement[];
  readonly notes: readonly XmlElement[];
  readonly extensions: readonly XmlElement[];
}

/** A validated PIDF document. */
export interface PidfDocument {
  readonly entity: string;
  readonly tuples: readonly PidfTuple[];
  readonly notes: readonly PidfNote[];
  /** When `validatePidf` was given a presentity: whether `entity` names the same AoR ({@link sameAor}). */
  readonly entityMatches?: boolean;
  readonly raw: PidfRaw;
}

/** JSON form of a presence document for REST and the browser WebSocket. */
export interface PidfJson {
  readonly entity: string;
  /** `open` when any tuple is open. */
  readonly basic: Basic;
  readonly note?: string;
  readonly tuples: readonly {
    readonly id: string;
    /** Absent when the tuple's status carries only extensions. */
    readonly basic?: Basic;
    readonly contact?: string;
    readonly note?: string;
    readonly priority?: number;
    readonly timestamp?: string;
  }[];
}

// xs:decimal restricted by RFC 3863 §4.4 `qvalue`.
const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;
// xs:dateTime lexical space (XML Schema Part 2 §3.2.7); day-in-month checked separately.
const DATE_TIME =
  /^-?([0-9]{4,})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$/;

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
// xs:language (XML Schema Part 2 §3.3.3), or empty as xml.xsd allows.
const LANGUAGE = /^([a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*)?$/;

function fault(reason: string): never {
  throw new PackageError(400, reason);
}

/** Whether a string is an xs:dateTime as the PIDF schema requires for `<timestamp>`. */
export function isDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return Number(m[3]) <= days;
}

/** Whether a string is a PIDF qvalue (`priority` of `<contact>`). */
export function isQvalue(value: string): boolean {
  return QVALUE.test(value);
}

function pidfChildren(el: XmlElement, where: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) {
    if (c.kind !== 'element') continue;
    if (c.ns === '') fault(`element <${c.name}> in ${where} has no namespace`);
    out.push(c);
  }
  return out;
}

function checkLang(el: XmlElement): void {
  const lang = attrOf(el, 'xml:lang');
  if (lang !== undefined && !LANGUAGE.test(lang.trim()))
    fault(`xml:lang "${lang}" on <${el.name}> is not a language tag`);
}

/**
 * Elements of other namespaces are copied as they are, except what would break the composed document's
 * validation when a schema validator assesses them laxly: a bad `xml:lang` or `pidf:mustUnderstand` and a
 * nested `<presence>` are rejected; `xsi:type` and `xsi:nil` (which point at types nobody can resolve)
 * are dropped.
 */
function checkExtension(el: XmlElement): XmlElement {
  if (el.ns === PIDF_NS && el.local === 'presence') fault('nested <presence> element');
  checkLang(el);
  let attrs = el.attrs;
  for (const a of el.attrs) {
    const colon = a.name.indexOf(':');
    if (colon < 0 || a.name.startsWith('xmlns')) continue;
    const ns = el.scope.get(a.name.slice(0, colon));
    if (ns === PIDF_NS && a.name.endsWith(':mustUnderstand') && !/^(true|false|1|0)$/.test(a.value.trim())) {
      fault(`mustUnderstand="${a.value}" on <${el.name}> is not a boolean`);
    }
    if (ns === XSI_NS && (a.name.endsWith(':type') || a.name.endsWith(':nil'))) attrs = attrs.filter((b) => b !== a);
  }
  let children = el.children;
  if (children.some((c) => c.kind === 'element')) {
    children = children.map((c) => (c.kind === 'element' ? checkExtension(c) : c));
  }
  return attrs === el.attrs && children === el.children ? el : { ...el, attrs, children };
}

function keepAttrs(el: XmlElement, allowed: readonly string[], children: readonly XmlNode[]): XmlElement {
  return { ...el, attrs: el.attrs.filter((a) => isNsDecl(a) || allowed.includes(a.name)), children };
}

function readNote(el: XmlElement): [PidfNote, XmlElement] {
  checkLang(el);
  const lang = attrOf(el, 'xml:lang');
  const note: PidfNote = lang === undefined ? { text: textOf(el) } : { text: textOf(el), lang };
  return [
    note,
    keepAttrs(
      el,
      ['xml:lang'],
      el.children.filter((c) => c.kind === 'text'),
    ),
  ];
}

function readStatus(el: XmlElement, tid: string): [Basic | undefined, XmlElement] {
  let basic: Basic | undefined;
  let basicEl: XmlElement | undefined;
  const ext: XmlElement[] = [];
  for (const c of pidfChildren(el, `status of tuple "${tid}"`)) {
    if (c.ns !== PIDF_NS) {
      ext.push(checkExtension(c));
    } else if (c.local === 'basic') {
      if (basicEl) fault(`tuple "${tid}" has more than one <basic>`);
      const value = textOf(c).trim();
      if (value !== 'open' && value !== 'closed')
        fault(`tuple "${tid}": <basic> must be open or closed, not "${value}"`);
      basic = value;
      basicEl = keepAttrs(c, [], [{ kind: 'text', text: value, cdata: false }]);
    } else {
      fault(`unknown PIDF element <${c.local}> in status of tuple "${tid}"`);
    }
  }
  return [basic, keepAttrs(el, [], basicEl ? [basicEl, ...ext] : ext)];
}

function readTuple(el: XmlElement): [PidfTuple, XmlElement] {
  const id = attrOf(el, 'id');
  if (id === undefined || id.trim() === '') fault('<tuple> without id attribute');
  let status: XmlElement | undefined;
  let basic: Basic | undefined;
  let contactEl: XmlElement | undefined;
  let timestampEl: XmlElement | undefined;
  const ext: XmlElement[] = [];
  const noteEls: XmlElement[] = [];
  const notes: PidfNote[] = [];
  for (const c of pidfChildren(el, `tuple "${id}"`)) {
    if (c.ns !== PIDF_NS) {
      ext.push(checkExtension(c));
      continue;
    }
    switch (c.local) {
      case 'status':
        if (status) fault(`tuple "${id}" has more than one <status>`);
        [basic, status] = readStatus(c, id);
        break;
      case 'contact': {
        if (contactEl) fault(`tuple "${id}" has more than one <contact>`);
        const priority = attrOf(c, 'priority');
        if (priority !== undefined && !isQvalue(priority.trim())) {
          fault(`tuple "${id}": contact priority "${priority}" is not a qvalue`);
        }
        contactEl = keepAttrs(
          c,
          ['priority'],
          c.children.filter((n) => n.kind === 'text'),
        );
        break;
      }
      case 'note': {
        const [note, noteEl] = readNote(c);
        notes.push(note);
        noteEls.push(noteEl);
        break;
      }
      case 'timestamp':
        if (timestampEl) fault(`tuple "${id}" has more than one <timestamp>`);
        if (!isDateTime(textOf(c).trim())) fault(`tuple "${id}": <timestamp> "${textOf(c)}" is not an xs:dateTime`);
        timestampEl = keepAttrs(
          c,
          [],
          c.children.filter((n) => n.kind === 'text'),
        );
        break;
      default:
        fault(`unknown PIDF element <${c.local}> in tuple "${id}"`);
    }
  }
  if (!status) fault(`tuple "${id}" has no <status>`);
  const priorityAttr = contactEl ? attrOf(contactEl, 'priority') : undefined;
  const tuple: PidfTuple = {
    id,
    notes,
    ...(basic !== undefined && { basic }),
    ...(contactEl && { contact: textOf(contactEl).trim() }),
    ...(priorityAttr !== undefined && { priority: Number(priorityAttr) }),
    ...(timestampEl && { timestamp: textOf(timestampEl).trim() }),
  };
  const ordered: XmlElement[] = [status, ...ext];
  if (contactEl) ordered.push(contactEl);
  ordered.push(...noteEls);
  if (timestampEl) ordered.push(timestampEl);
  return [tuple, keepAttrs(el, ['id'], ordered)];
}

/**
 * Validates a PIDF document (RFC 3863 §4, as required of PUBLISH bodies by RFC 3903 §6 and of `presence`
 * NOTIFY bodies by RFC 3856 §6.5) and returns its parsed model.
 *
 * Checks: well-formed UTF-8 XML without DTD; root `presence` in namespace `urn:ietf:params:xml:ns:pidf`
 * (any prefix) with an `entity`; every `tuple` with an `id` and exactly one `status`; `basic` `open` or
 * `closed`; and what would make a re-serialised copy schema-invalid (unknown PIDF elements, elements in no
 * namespace where the schema wants PIDF or `##other`, a bad `priority` or `timestamp`). Attributes the
 * schema does not allow on PIDF elements and stray text between them are dropped from the raw copy.
 *
 * @param presentity when given, `entityMatches` tells whether the document's entity names it ({@link sameAor}).
 * @throws PackageError 400 with a reason naming the fault.
 */
export function validatePidf(body: string, presentity?: string): PidfDocument {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (e) {
    if (e instanceof XmlError) fault(e.message);
    throw e;
  }
  if (root.local !== 'presence') fault(`root element must be <presence>, not <${root.name}>`);
  if (root.ns !== PIDF_NS) fault(`<presence> must be in namespace ${PIDF_NS}, not "${root.ns}"`);
  const entity = attrOf(root, 'entity');
  if (entity === undefined || entity.trim() === '') fault('<presence> without entity attribute');
  const tuples: PidfTuple[] = [];
  const notes: PidfNote[] = [];
  const raw = { root, tuples: [] as XmlElement[], notes: [] as XmlElement[], extensions: [] as XmlElement[] };
  for (const c of pidfChildren(root, '<presence>')) {
    if (c.ns !== PIDF_NS) {
      raw.extensions.push(checkExtension(c));
    } else if (c.local === 'tuple') {
      const [tuple, el] = readTuple(c);
      tuples.push(tuple);
      raw.tuples.push(el);
    } else if (c.local === 'note') {
      const [note, el] = readNote(c);
      notes.push(note);
      raw.notes.push(el);
    } else {
      fault(`unknown PIDF element <${c.local}> in <presence>`);
    }
  }
  const doc: PidfDocument = { entity: entity.trim(), tuples, notes, raw };
  return presentity === undefined ? doc : { ...doc, entityMatches: sameAor(doc.entity, presentity) };
}

function aorKey(uri: string): string {
  let s = uri.trim();
  const lt = s.indexOf('<');
  if (lt >= 0) s = s.slice(lt + 1, s.indexOf('>', lt) < 0 ? undefined : s.indexOf('>', lt));
  s = s.replace(/^(sips?|pres|im):/i, '');
  s = s.split(/[;?]/, 1)[0];
  const at = s.lastIndexOf('@');
  const user = at >= 0 ? s.slice(0, at) : '';
  const host = (at >= 0 ? s.slice(at + 1) : s).replace(/:[0-9]+$/, '').toLowerCase();
  return `${decodeUser(user)}@${host}`;
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/**
 * Loose AoR comparison: `user@host` of both, ignoring the scheme (`sip:`, `sips:`, `pres:`, `im:`), URI
 * parameters, headers, port, angle brackets, escaping in the user part and the case of the host.
 */
export function sameAor(a: string, b: string): boolean {
  return aorKey(a) === aorKey(b);
}

/**
 * JSON view of a document: `basic` is `open` when any tuple is open; `note` is the first document-level
 * note, else the first note of the first open tuple that has one.
 */
export function pidfToJson(doc: PidfDocument): PidfJson {
  const open = doc.tuples.some((t) => t.basic === 'open');
  const note = doc.notes[0]?.text ?? doc.tuples.find((t) => t.basic === 'open' && t.notes.length > 0)?.notes[0].text;
  return {
    entity: doc.entity,
    basic: open ? 'open' : 'closed',
    ...(note !== undefined && { note }),
    tuples: doc.tuples.map((t) => ({
      id: t.id,
      ...(t.basic !== undefined && { basic: t.basic }),
      ...(t.contact !== undefined && { contact: t.contact }),
      ...(t.notes.length > 0 && { note: t.notes[0].text }),
      ...(t.priority !== undefined && { priority: t.priority }),
      ...(t.timestamp !== undefined && { timestamp: t.timestamp }),
    })),
  };
}
