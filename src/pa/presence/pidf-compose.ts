/**
 * PIDF documents the presence server writes: the composition of all live publications of a presentity
 * (RFC 3856 §6.7, RFC 3903 §6) and the documents it synthesises when nobody published.
 */
import { checkLength } from '../../common/field-limits';
import { PackageError } from '../core/event-package';
import { toAnyUri } from './any-uri';
import { Basic, PIDF_NS, PidfDocument, isDateTime, validatePidf } from './pidf';
import { XmlElement, XmlNode, escapeAttr, escapeText, findBadChar, serializeNode } from '../../common/xml/xml-tree';

const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
// ASCII subset of an XML NCName (what xs:ID requires of a tuple id); other ids are rewritten to fit.
const TUPLE_ID = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function userText(value: string, what: string): string {
  const bad = findBadChar(value);
  if (bad !== undefined) throw new PackageError(400, `${what} contains character ${bad}, not allowed in XML`);
  return value;
}

function rootStart(entity: string, decls = ''): string {
  const e = userText(entity.trim(), 'entity');
  if (e === '') throw new PackageError(400, 'empty presence entity');
  return `${XML_HEADER}<presence xmlns="${PIDF_NS}"${decls} entity="${escapeAttr(toAnyUri(e))}">`;
}

/** A tuple id usable as xs:ID: kept when it is one, otherwise other characters become `_` (prefixed if needed). */
export function toTupleId(id: string): string {
  const trimmed = id.trim();
  if (TUPLE_ID.test(trimmed)) return trimmed;
  const safe = trimmed.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z_]/.test(safe) ? safe : `t${safe}`;
}

function uniqueId(id: string, used: Set<string>): string {
  let candidate = toTupleId(id);
  for (let n = 2; used.has(candidate); n++) candidate = `${toTupleId(id)}-${n}`;
  used.add(candidate);
  return candidate;
}

function declsOf(scope: ReadonlyMap<string, string>, inScope: ReadonlyMap<string, string>, own: XmlElement): string {
  let out = '';
  const declared = (p: string): boolean => own.attrs.some((a) => a.name === (p === '' ? 'xmlns' : `xmlns:${p}`));
  for (const [prefix, uri] of scope) {
    if (inScope.get(prefix) !== uri && !declared(prefix)) {
      out += ` ${prefix === '' ? 'xmlns' : `xmlns:${prefix}`}="${escapeAttr(uri)}"`;
    }
  }
  if (!scope.has('') && inScope.has('') && !declared('')) out += ' xmlns=""';
  return out;
}

function withContactUri(tuple: XmlElement): XmlElement {
  const children = tuple.children.map((c): XmlNode => {
    if (c.kind !== 'element' || c.ns !== PIDF_NS || c.local !== 'contact') return c;
    const text = c.children.map((t) => (t.kind === 'text' ? t.text : '')).join('');
    const uri = toAnyUri(text.trim());
    return uri === text ? c : { ...c, children: [{ kind: 'text', text: uri, cdata: false }] };
  });
  return { ...tuple, children };
}

/**
 * The element with every unqualified `id` attribute in it (its own and its descendants') made xs:ID-safe and
 * unique among `used`: PIDF tuples, data-model `person` and `device` (RFC 4479) and RPID elements all carry
 * `id`s of type xs:ID, which must be unique across the composed document. Unchanged subtrees are kept as they are.
 */
function withUniqueIds(el: XmlElement, used: Set<string>): XmlElement {
  const own = el.attrs.find((a) => a.name === 'id');
  const id = own === undefined ? undefined : uniqueId(own.value, used);
  let childrenChanged = false;
  const children = el.children.map((c) => {
    if (c.kind !== 'element') return c;
    const next = withUniqueIds(c, used);
    if (next !== c) childrenChanged = true;
    return next;
  });
  if (id === own?.value && !childrenChanged) return el;
  return {
    ...el,
    attrs: id === undefined ? el.attrs : el.attrs.map((a) => (a.name === 'id' ? { name: 'id', value: id } : a)),
    children: childrenChanged ? children : el.children,
  };
}

/**
 * Composes the documents of all live publications of one presentity into one PIDF document (RFC 3856
 * §6.7: the presence agent composes published state; RFC 3863 §4.4 order): all tuples of all documents in
 * the order given (the package passes the newest publication first), then their document-level notes, then
 * their elements of other namespaces (RPID `person`, data-model `device`, ...).
 *
 * Namespaces: the root declares PIDF as default and gathers the prefixes of each source root; a source
 * whose default namespace is not PIDF, or that binds a prefix already bound to another namespace, instead
 * gets its declarations repeated on each element copied from it, so prefixes (and QNames in content) stay
 * as written. Ids (of tuples, and of `person`, `device` and any other element) are made xs:ID-safe and
 * unique across the document (`t1`, `t1-2`, ...); contact URIs that would not
 * pass as xs:anyURI are percent-encoded ({@link toAnyUri}).
 *
 * @param sources validated documents, or raw bodies (validated here; {@link PackageError} 400 if bad).
 */
export function composePidf(entity: string, sources: readonly (PidfDocument | string)[]): string {
  const docs = sources.map((s) => (typeof s === 'string' ? validatePidf(s) : s));
  const rootScope = new Map<string, string>([['', PIDF_NS]]);
  const compatible = docs.map((doc) => {
    const scope = doc.raw.root.scope;
    if (scope.get('') !== PIDF_NS) return false;
    for (const [prefix, uri] of scope) if ((rootScope.get(prefix) ?? uri) !== uri) return false;
    for (const [prefix, uri] of scope) rootScope.set(prefix, uri);
    return true;
  });
  let rootDecls = '';
  for (const [prefix, uri] of rootScope) if (prefix !== '') rootDecls += ` xmlns:${prefix}="${escapeAttr(uri)}"`;
  const copy = (doc: PidfDocument, i: number, el: XmlElement): string =>
    serializeNode(el, compatible[i] ? '' : declsOf(doc.raw.root.scope, rootScope, el));
  let out = rootStart(entity, rootDecls);
  const used = new Set<string>();
  docs.forEach((doc, i) => {
    for (const t of doc.raw.tuples) {
      const withId = t.attrs.some((a) => a.name === 'id')
        ? t
        : { ...t, attrs: [...t.attrs, { name: 'id', value: 'tuple' }] };
      out += copy(doc, i, withUniqueIds(withContactUri(withId), used));
    }
  });
  docs.forEach((doc, i) => {
    for (const n of doc.raw.notes) out += copy(doc, i, n);
  });
  docs.forEach((doc, i) => {
    for (const x of doc.raw.extensions) out += copy(doc, i, withUniqueIds(x, used));
  });
  return `${out}</presence>`;
}

/** Options of a document the server writes with one tuple. */
export interface SimpleTupleOptions {
  /** Tuple id; made xs:ID-safe. */
  readonly tupleId?: string;
  readonly contact?: string;
  /** Contact priority (a SIP `q`), clamped to 0..1 and rounded to three decimals. */
  readonly priority?: number;
  readonly note?: string;
  /** An xs:dateTime; a `Date` or epoch milliseconds are converted. */
  readonly timestamp?: string | Date | number;
}

function simplePidf(entity: string, basic: Basic, opts: SimpleTupleOptions, defaultId: string): string {
  let tuple = `<tuple id="${escapeAttr(toTupleId(opts.tupleId ?? defaultId))}"><status><basic>${basic}</basic></status>`;
  if (opts.contact !== undefined) {
    const q = opts.priority;
    const prio =
      q === undefined || !Number.isFinite(q)
        ? ''
        : ` priority="${Math.round(Math.min(1, Math.max(0, q)) * 1000) / 1000}"`;
    tuple += `<contact${prio}>${escapeText(toAnyUri(userText(opts.contact.trim(), 'contact')))}</contact>`;
  }
  if (opts.note !== undefined) tuple += `<note>${escapeText(userText(opts.note, 'note'))}</note>`;
  if (opts.timestamp !== undefined) {
    const t = opts.timestamp;
    const ts = typeof t === 'string' ? t : Number.isFinite(new Date(t).getTime()) ? new Date(t).toISOString() : '';
    if (!isDateTime(ts)) throw new PackageError(400, `timestamp "${ts}" is not an xs:dateTime`);
    tuple += `<timestamp>${escapeText(ts)}</timestamp>`;
  }
  return `${rootStart(entity)}${tuple}</tuple></presence>`;
}

/**
 * The document watchers get when nobody published and the presentity is not registered: one tuple,
 * `basic` closed (RFC 3856 §6.7: a presence agent always has a document to send; RFC 3863 §4.1).
 */
export function closedPidf(entity: string, opts: { readonly tupleId?: string; readonly note?: string } = {}): string {
  return simplePidf(entity, 'closed', opts, 'pa-closed');
}

/**
 * Basic `open` for a presentity with a live registration but no publication: the `pa` module's registrar
 * source (the registrar as a presence source, RFC 3856 §6.7), optionally naming the contact.
 */
export function openPidf(entity: string, opts: SimpleTupleOptions = {}): string {
  return simplePidf(entity, 'open', opts, 'pa-open');
}

/** What a REST or WebSocket publish sends as JSON. */
export interface StatusPublish {
  readonly status: 'open' | 'closed';
  readonly note?: string;
  readonly tupleId?: string;
}

/**
 * The PIDF body a REST or WebSocket publish (`{status, note}`) stands for, so that it is stored and composed
 * exactly like a SIP PUBLISH body (RFC 3903 §6). The note goes into the tuple.
 *
 * @throws PackageError 400 naming the bad field (`status`, `note`, `tupleId`).
 */
export function pidfFromStatus(entity: string, publish: StatusPublish): string {
  const { status, note, tupleId } = publish as { status: unknown; note?: unknown; tupleId?: unknown };
  if (status !== 'open' && status !== 'closed') throw new PackageError(400, 'status must be "open" or "closed"');
  if (note !== undefined && typeof note !== 'string') throw new PackageError(400, 'note must be a string');
  checkLength('note', note);
  if (tupleId !== undefined && (typeof tupleId !== 'string' || tupleId.trim() === '')) {
    throw new PackageError(400, 'tupleId must be a non-empty string');
  }
  return simplePidf(
    entity,
    status,
    { ...(note !== undefined && { note }), ...(tupleId !== undefined && { tupleId }) },
    'status',
  );
}
