import { SipParseError } from '../errors/sip-parse-error';
import { canonicalName, headerKey } from './header-names';
import { isToken, isWsp } from './text';
import { SipRequest, SipResponse } from './sip-message';
import type { SipHeaders } from './sip-headers';

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Header keys that may appear once only; checked eagerly because framing and matching depend on them. */
const SINGLE_HEADERS: readonly string[] = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length'];

/**
 * Parses one SIP message from `data` (RFC 3261 §7, grammar §25).
 *
 * The start line is parsed and the header section split into fields eagerly; header values are parsed
 * lazily by the accessors of {@link SipRequest}/{@link SipResponse}. Tolerated: CRLF or bare LF line ends,
 * leading CRLFs (§7.5), line folding (§7.3.1), whitespace before the colon, compact forms. The body is the
 * bytes after the empty line, cut at Content-Length when the data holds more (§18.3); fewer bytes than
 * Content-Length is an error. Without Content-Length (datagrams only) the body runs to the end.
 *
 * Checked eagerly because every message needs them: the SIP version, presence of Via, From, To, Call-ID
 * and CSeq, the CSeq header itself and that its method matches the request method (§8.1.1.5),
 * Content-Length, and that Call-ID, CSeq, From, To, Max-Forwards and Content-Length appear once (§7.3.1).
 * A request line with SP after the version (RFC 4475 §3.1.2.10) is a 400, not a silent drop.
 *
 * @throws SipParseError with a reason naming the fault, and `partial` when the start line was a request.
 */
export function parseMessage(data: Buffer): SipRequest | SipResponse {
  const text = data.toString('utf8');
  let start = 0;
  while (start < text.length && (text.charCodeAt(start) === 0x0d || text.charCodeAt(start) === 0x0a)) start++;

  // End of the header section: the first empty line (CRLF CRLF, or with bare LFs).
  let headEnd = text.indexOf('\r\n\r\n', start);
  let bodyStart = headEnd + 4;
  const firstLf = text.indexOf('\n', start);
  if (headEnd === -1 || text.charCodeAt(firstLf - 1) !== 0x0d) {
    // Bare LF line ends (RFC 3261 §7 asks for CRLF; we are liberal in what we accept).
    const lf = text.indexOf('\n\n', start);
    if (lf !== -1 && (headEnd === -1 || lf < headEnd)) {
      headEnd = lf;
      bodyStart = lf + 2;
    }
    const mixed = text.indexOf('\n\r\n', start);
    if (mixed !== -1 && (headEnd === -1 || mixed < headEnd)) {
      headEnd = mixed;
      bodyStart = mixed + 3;
    }
  }
  if (headEnd === -1) {
    // No empty line: the last header ends the datagram and there is no body.
    headEnd = text.length;
    bodyStart = text.length;
  }

  // Start line.
  let lineEnd = text.indexOf('\n', start);
  if (lineEnd === -1 || lineEnd > headEnd) lineEnd = headEnd;
  const startLine = text.slice(start, text.charCodeAt(lineEnd - 1) === 0x0d ? lineEnd - 1 : lineEnd);
  const sp1 = startLine.indexOf(' ');
  const sp2 = sp1 === -1 ? -1 : startLine.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 === -1) throw new SipParseError('Bad start line');
  let msg: SipRequest | SipResponse;
  let request: SipRequest | undefined;
  let startFault: string | undefined;
  if (startLine.startsWith('SIP/')) {
    if (startLine.slice(0, sp1) !== 'SIP/2.0') throw new SipParseError('Bad SIP version');
    const code = startLine.slice(sp1 + 1, sp2);
    if (!/^[1-6]\d\d$/.test(code)) throw new SipParseError('Bad status code');
    msg = new SipResponse(Number(code), startLine.slice(sp2 + 1));
  } else {
    const method = startLine.slice(0, sp1);
    if (!isToken(method)) throw new SipParseError('Bad start line');
    // RFC 4475 §3.1.2.10 (trws): SP after the version is malformed, but the line is still a request line.
    const line = isWsp(startLine.charCodeAt(startLine.length - 1)) ? startLine.trimEnd() : startLine;
    const sp3 = line.lastIndexOf(' ');
    const uriText = line.slice(sp1 + 1, sp3);
    const version = line.slice(sp3 + 1);
    if (version !== 'SIP/2.0' && !/^SIP\/\d+\.\d+$/i.test(version)) throw new SipParseError('Bad start line');
    request = new SipRequest(method, uriText);
    msg = request;
    // Faults found on the start line are reported once the headers are read, so a response can be built.
    if (uriText === '' || uriText.includes(' ')) startFault = 'Bad Request-URI';
    else if (version.toUpperCase() !== 'SIP/2.0') startFault = 'Version Not Supported';
    else if (line !== startLine) startFault = 'Bad Request-Line (trailing whitespace)';
  }

  splitHeaders(text, lineEnd + 1, headEnd, msg.headers, request);
  if (startFault !== undefined) {
    throw new SipParseError(startFault, request, startFault === 'Version Not Supported' ? 505 : 400);
  }

  // Mandatory headers (RFC 3261 §8.1.1).
  const headers = msg.headers;
  if (!headers.has('via')) throw new SipParseError('Missing Via header', request);
  if (!headers.has('from')) throw new SipParseError('Missing From header', request);
  if (!headers.has('to')) throw new SipParseError('Missing To header', request);
  if (!headers.has('call-id')) throw new SipParseError('Missing Call-ID', request);
  let method: string;
  try {
    method = msg.cseq.method;
  } catch (e) {
    throw new SipParseError(e instanceof SipParseError ? e.reason : 'Bad CSeq header', request);
  }
  if (request !== undefined && method !== request.method) {
    throw new SipParseError('CSeq method does not match', request);
  }
  // RFC 3261 §7.3.1: these are not lists, so a second field is a second, conflicting value (RFC 4475 §3.3.8,
  // §3.3.9: multi01, mcl01).
  const repeated = headers.firstRepeated(SINGLE_HEADERS);
  if (repeated !== undefined) throw new SipParseError(`Duplicate ${canonicalName(repeated)} header`, request);

  // Body (RFC 3261 §18.3, §20.14). When the text has as many characters as the data has bytes, character
  // offsets are byte offsets; otherwise find the empty line in the bytes.
  let bodyByte = bodyStart;
  if (text.length !== data.length) {
    const crlf = data.indexOf(CRLFCRLF);
    bodyByte = crlf !== -1 ? crlf + 4 : Buffer.byteLength(text.slice(0, bodyStart), 'utf8');
  }
  const cl = headers.get('content-length');
  if (cl === undefined) {
    msg.body = bodyByte >= data.length ? EMPTY : data.subarray(bodyByte);
  } else {
    if (!/^\d{1,10}$/.test(cl)) throw new SipParseError('Bad Content-Length header', request);
    const len = Number(cl);
    if (len > data.length - bodyByte) throw new SipParseError('Body shorter than Content-Length', request);
    msg.body = len === 0 ? EMPTY : data.subarray(bodyByte, bodyByte + len);
  }
  return msg;
}

/** Splits `text[pos, end)` into header fields (RFC 3261 §7.3), unfolding continuation lines. */
function splitHeaders(text: string, pos: number, end: number, headers: SipHeaders, request?: SipRequest): void {
  while (pos < end) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1 || eol > end) eol = end;
    let lineEnd = text.charCodeAt(eol - 1) === 0x0d ? eol - 1 : eol;
    const colon = text.indexOf(':', pos);
    if (colon === -1 || colon >= lineEnd) {
      if (lineEnd === pos) {
        pos = eol + 1;
        continue;
      }
      throw new SipParseError('Bad header line', request);
    }
    let nameEnd = colon;
    while (nameEnd > pos && (text.charCodeAt(nameEnd - 1) === 0x20 || text.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = text.slice(pos, nameEnd);
    if (!isToken(name)) throw new SipParseError('Bad header name', request);
    let v = colon + 1;
    while (v < lineEnd && (text.charCodeAt(v) === 0x20 || text.charCodeAt(v) === 0x09)) v++;
    pos = eol + 1;
    let c = text.charCodeAt(pos);
    if (c === 0x20 || c === 0x09) {
      // Folded: join continuation lines with one space.
      let value = text.slice(v, lineEnd).trim();
      while (pos < end && (c === 0x20 || c === 0x09)) {
        let e2 = text.indexOf('\n', pos);
        if (e2 === -1 || e2 > end) e2 = end;
        const part = text.slice(pos, text.charCodeAt(e2 - 1) === 0x0d ? e2 - 1 : e2).trim();
        if (part !== '') value = value === '' ? part : value + ' ' + part;
        pos = e2 + 1;
        c = text.charCodeAt(pos);
      }
      headers.addRaw(name, headerKey(name), value);
      continue;
    }
    while (lineEnd > v && (text.charCodeAt(lineEnd - 1) === 0x20 || text.charCodeAt(lineEnd - 1) === 0x09)) lineEnd--;
    headers.addRaw(name, headerKey(name), text.slice(v, lineEnd));
  }
}

const EMPTY = Buffer.alloc(0);
