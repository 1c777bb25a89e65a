const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

/** What a {@link StreamFramer} found in the bytes pushed so far. */
export type FrameEvent =
  | { readonly kind: 'message'; readonly data: Buffer }
  /** A double-CRLF keep-alive ping (RFC 5626 §3.5.1): answer with a single CRLF pong. */
  | { readonly kind: 'ping' }
  /**
   * A message longer than `maxMessageSize` whose header section is complete: `head` is that section (with the
   * empty line), `length` the message's whole length. An `error` follows: the stream cannot be read further.
   */
  | { readonly kind: 'oversized'; readonly head: Buffer; readonly length: number }
  | { readonly kind: 'error'; readonly reason: string };

/**
 * Frames SIP messages on a byte stream (RFC 3261 §18.3): the header section ends at the first empty line,
 * and Content-Length (mandatory on streams) gives the body length. Handles split and coalesced messages,
 * CRLF keep-alives before a message (§7.5, RFC 5626 §3.5.1). A message without Content-Length, or larger
 * than `maxMessageSize`, cannot be framed: the framer reports an error and the connection must be closed
 * (after an `oversized` event carrying the header section, when it is complete, so a 513 can be sent).
 */
export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxMessageSize: number) {}

  /** Bytes held of a message not yet complete (0 between messages). */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Adds received bytes; returns the frames now complete, in order. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.failed) return [];
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: FrameEvent[] = [];
    for (;;) {
      let b = this.buffer;
      let waiting = false;
      while (b.length > 0 && (b[0] === 0x0d || b[0] === 0x0a)) {
        if (b.length >= 4 && b[0] === 0x0d && b[1] === 0x0a && b[2] === 0x0d && b[3] === 0x0a) {
          out.push({ kind: 'ping' });
          b = b.subarray(4);
        } else if (b.length < 4 && CRLFCRLF.subarray(0, b.length).equals(b)) {
          waiting = true; // possibly a ping split across chunks
          break;
        } else b = b.subarray(1);
      }
      this.buffer = b;
      if (waiting) break;
      const data = this.buffer;
      if (data.length === 0 || data[0] === 0x0d || data[0] === 0x0a) break;
      const headEnd = data.indexOf(CRLFCRLF);
      if (headEnd === -1) {
        if (data.length > this.maxMessageSize) return this.fail(out, 'Message too large');
        break;
      }
      const m = CONTENT_LENGTH.exec(data.toString('latin1', 0, headEnd));
      if (m === null) return this.fail(out, 'Missing Content-Length on stream');
      const total = headEnd + 4 + Number(m[1]);
      if (total > this.maxMessageSize) {
        out.push({ kind: 'oversized', head: Buffer.from(data.subarray(0, headEnd + 4)), length: total });
        return this.fail(out, 'Message too large');
      }
      if (data.length < total) break;
      out.push({ kind: 'message', data: data.subarray(0, total) });
      this.buffer = data.subarray(total);
    }
    if (this.buffer.length === 0) this.buffer = Buffer.alloc(0);
    return out;
  }

  private fail(out: FrameEvent[], reason: string): FrameEvent[] {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    out.push({ kind: 'error', reason });
    return out;
  }
}
