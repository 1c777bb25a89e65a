import { Inject, Injectable, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Server } from 'node:net';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { CLOCK, RANDOM } from '../../common/ports.module';
import type { Clock, Random } from '../../sip';
import { EXTERNAL_BODY } from './accept';
import type { NotifyBody } from './event-package';

/** The REST path under which indirect content is served: `/api/content/{event}/{ref}`. */
export const CONTENT_PATH = '/api/content';

/** An HTTP URL's access token: which content, until when. */
export interface ContentGrant {
  readonly event: string;
  readonly ref: string;
  /** Epoch seconds after which the URL is refused. */
  readonly expires: number;
}

const bodySize = (b: NotifyBody): number => (typeof b.body === 'string' ? Buffer.byteLength(b.body) : b.body.length);

/**
 * Content indirection (RFC 4483): a NOTIFY body that names content a package can serve again
 * ({@link NotifyBody.contentRef}) becomes, for a watcher accepting `message/external-body`, a pointer to an HTTP
 * URL carrying an access token (an HMAC over event, reference and expiry, keyed by `pa.contentUrlSecret` or by
 * a key drawn at start) instead of the bytes, so that content of any size reaches the watcher whatever the
 * transport of its dialog. The URL is valid for `pa.contentUrlExpires` seconds; with a drawn key only in this
 * process (a URL handed out before a restart is refused after it: the watcher gets a new one with the next
 * NOTIFY or a refresh).
 */
@Injectable()
export class ContentIndirectionService {
  private readonly key: Buffer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RANDOM) random: Random,
    @Optional() private readonly http?: HttpAdapterHost,
  ) {
    const secret = config.pa.contentUrlSecret;
    this.key = secret ? Buffer.from(secret, 'utf8') : Buffer.from(random.hex(32), 'hex');
  }

  /** Whether a watcher with this Accept gets content by reference. */
  wanted(accept: readonly string[], body: NotifyBody | null): body is NotifyBody & { contentRef: string } {
    return body?.contentRef !== undefined && accept.includes(EXTERNAL_BODY);
  }

  /**
   * The `message/external-body` part pointing at `body` (RFC 4483 §4.1, RFC 2017): access-type URL with the
   * URL, its expiration and the content's size; the inner headers give its type and, as Content-ID, its entity tag.
   */
  externalBody(event: string, body: NotifyBody & { contentRef: string }): NotifyBody {
    const expires = Math.floor(this.clock.now() / 1000) + this.config.pa.contentUrlExpires;
    const url = this.url({ event, ref: body.contentRef, expires });
    const expiration = new Date(expires * 1000).toUTCString();
    const host = new URL(url).hostname;
    const contentId = body.etag ?? body.contentRef;
    return {
      contentType: `${EXTERNAL_BODY};access-type="URL";expiration="${expiration}";URL="${url}";size=${bodySize(body)}`,
      body: `Content-Type: ${body.contentType}\r\nContent-ID: <${contentId}@${host}>\r\n\r\n`,
      ...(body.eventHeaderParams && { eventHeaderParams: body.eventHeaderParams }),
    };
  }

  /** The URL of a grant: `{base}/api/content/{event}/{ref}?expires=..&token=..`. */
  url(grant: ContentGrant): string {
    const path = `${CONTENT_PATH}/${encodeURIComponent(grant.event)}/${encodeURIComponent(grant.ref)}`;
    return `${this.base()}${path}?expires=${grant.expires}&token=${this.sign(grant)}`;
  }

  /** Whether `token` grants access to `ref` of `event` until `expires` (epoch seconds), and that is not past. */
  verify(grant: ContentGrant, token: string): boolean {
    if (!Number.isSafeInteger(grant.expires) || grant.expires * 1000 < this.clock.now()) return false;
    const expected = Buffer.from(this.sign(grant));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(grant: ContentGrant): string {
    return createHmac('sha256', this.key)
      .update(`${grant.event}\u0000${grant.ref}\u0000${grant.expires}`)
      .digest('base64url');
  }

  /** `http.publicUrl`, or the HTTP listener as the SIP side advertises the host. */
  private base(): string {
    if (this.config.http.publicUrl) return this.config.http.publicUrl.replace(/\/$/, '');
    const server = this.http?.httpAdapter?.getHttpServer() as Server | undefined;
    const bound: AddressInfo | string | null | undefined = server?.address();
    const port = typeof bound === 'object' && bound ? bound.port : this.config.http.port;
    const listen = this.config.http.host;
    const host =
      this.config.sip.advertisedHost ||
      (listen === '0.0.0.0' || listen === '::' || listen === '' ? '127.0.0.1' : listen);
    return `${this.config.http.tlsCert ? 'https' : 'http'}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  }
}
