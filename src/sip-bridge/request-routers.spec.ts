import { SipHeaders, SipRequest } from '../sip';
import { RequestRouters } from './request-routers';
import type { SipRequestHandler } from './sip-handler';

function request(toTag?: string): SipRequest {
  const h = new SipHeaders();
  h.append('From', '<sip:a@x>;tag=f');
  h.append('To', `<sip:b@y>${toTag ? `;tag=${toTag}` : ''}`);
  h.append('Call-ID', 'c1');
  h.append('CSeq', '1 NOTIFY');
  return new SipRequest('NOTIFY', 'sip:b@y', h);
}

describe('RequestRouters', () => {
  const handler: SipRequestHandler = () => undefined;

  it('asks dialog routers about in-dialog requests only, request routers about every request', () => {
    const routers = new RequestRouters();
    const seen: string[] = [];
    routers.addDialogRouter((req) => {
      seen.push(`dialog ${req.to.tag ?? '-'}`);
      return req.to.tag === 'mine' ? handler : undefined;
    });
    expect(routers.find(request())).toBeUndefined();
    expect(routers.find(request('other'))).toBeUndefined();
    expect(routers.find(request('mine'))).toBe(handler);
    expect(seen).toEqual(['dialog other', 'dialog mine']);

    const own: SipRequestHandler = () => undefined;
    routers.addRequestRouter((req) => (req.callId === 'c1' ? own : undefined));
    expect(routers.find(request())).toBe(own);
    expect(routers.find(request('mine'))).toBe(own);
  });
});
