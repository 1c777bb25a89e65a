import type { AppConfig } from '../../config/app-config';
import { FakeClock } from '../../sip/ports/fake-clock';
import { cryptoRandom } from '../../sip';
import { ContentIndirectionService } from './content-indirection.service';

const config = {
  http: { host: '127.0.0.1', port: 8080, corsOrigins: [], publicUrl: '', tlsCert: '', tlsKey: '' },
  sip: { advertisedHost: '' },
  pa: { contentUrlExpires: 60, contentUrlSecret: '' },
} as unknown as AppConfig;

describe('ContentIndirectionService', () => {
  const clock = new FakeClock(1_800_000_000_000);
  const svc = new ContentIndirectionService(config, clock, cryptoRandom);
  const body = { contentType: 'application/xml', body: Buffer.from('<cfg/>'), contentRef: 'e1', etag: 'e1' };

  it('points at the content with size, expiration and an access token (RFC 4483)', () => {
    expect(svc.wanted(['application/xml'], body)).toBe(false);
    expect(svc.wanted(['message/external-body'], body)).toBe(true);
    const ext = svc.externalBody('ua-profile', body);
    expect(ext.contentType).toMatch(
      /^message\/external-body;access-type="URL";expiration="[^"]+ GMT";URL="http:\/\/127\.0\.0\.1:8080\/api\/content\/ua-profile\/e1\?expires=1800000060&token=[\w-]+";size=6$/,
    );
    expect(ext.body).toBe('Content-Type: application/xml\r\nContent-ID: <e1@127.0.0.1>\r\n\r\n');
  });

  it('accepts its own token until it expires, and no other', () => {
    const url = new URL(svc.url({ event: 'ua-profile', ref: 'e1', expires: 1_800_000_010 }));
    const token = url.searchParams.get('token')!;
    expect(svc.verify({ event: 'ua-profile', ref: 'e1', expires: 1_800_000_010 }, token)).toBe(true);
    expect(svc.verify({ event: 'ua-profile', ref: 'e2', expires: 1_800_000_010 }, token)).toBe(false);
    expect(svc.verify({ event: 'ua-profile', ref: 'e1', expires: 1_800_000_011 }, token)).toBe(false);
    expect(svc.verify({ event: 'ua-profile', ref: 'e1', expires: 1_800_000_010 }, `${token}x`)).toBe(false);
    clock.advance(11_000);
    expect(svc.verify({ event: 'ua-profile', ref: 'e1', expires: 1_800_000_010 }, token)).toBe(false);
  });

  it('signs with pa.contentUrlSecret when set, so that another instance (or a restart) accepts the URL', () => {
    const shared = { ...config, pa: { contentUrlExpires: 60, contentUrlSecret: 'a-shared-secret-of-the-cluster' } };
    const a = new ContentIndirectionService(shared as AppConfig, clock, cryptoRandom);
    const b = new ContentIndirectionService(shared as AppConfig, clock, cryptoRandom);
    const grant = { event: 'ua-profile', ref: 'e1', expires: Math.floor(clock.now() / 1000) + 30 };
    const token = new URL(a.url(grant)).searchParams.get('token')!;
    expect(b.verify(grant, token)).toBe(true);
    expect(svc.verify(grant, token)).toBe(false);
  });
});
