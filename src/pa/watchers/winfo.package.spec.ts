import type { PresentityState, WatcherSession } from '../core/event-package';
import { createWinfoPackage, watcherinfoXml, WATCHERINFO_CONTENT_TYPE } from './winfo.package';

const ALICE = 'sip:alice@example.com';

describe('watcherinfoXml (RFC 3858 §5)', () => {
  it('lists each watcher with id, status, event and duration, escaped', () => {
    const xml = watcherinfoXml(
      ALICE,
      [
        { id: 'a1', uri: 'sip:bob@example.com', status: 'pending', event: 'subscribe', durationSubscribed: 3 },
        { id: 'waiting:sip:"x"@example.com', uri: 'sip:"x"<@example.com', status: 'waiting', event: 'subscribe' },
      ],
      2,
    );
    expect(xml).toContain('<watcherinfo xmlns="urn:ietf:params:xml:ns:watcherinfo" version="2" state="full">');
    expect(xml).toContain(`<watcher-list resource="${ALICE}" package="presence">`);
    expect(xml).toContain(
      '<watcher id="a1" status="pending" event="subscribe" duration-subscribed="3">sip:bob@example.com</watcher>',
    );
    expect(xml).toContain('id="waiting:sip:&quot;x&quot;@example.com"');
    expect(xml).toContain('>sip:"x"&lt;@example.com</watcher>');
  });
});

describe('presence.winfo package', () => {
  const pkg = createWinfoPackage({ default: 3600, min: 60, max: 3600 }, () => []);
  const state: PresentityState = { presentity: ALICE, event: 'presence.winfo', publications: [], contacts: [], now: 0 };

  it('lets only the presentity itself watch its watchers', () => {
    expect(pkg.authorize?.({ kind: 'sip', uri: ALICE, accept: [] }, ALICE)).toBe('active');
    expect(pkg.authorize?.({ kind: 'sip', uri: 'sip:bob@example.com', accept: [] }, ALICE)).toBe('terminated');
  });

  it('counts the version up with every document a subscription is sent', () => {
    const session: WatcherSession = {};
    const render = (): string => {
      const body = pkg.render({ ...state, document: [] }, { kind: 'sip', uri: ALICE, accept: [], session });
      expect(body?.contentType).toBe(WATCHERINFO_CONTENT_TYPE);
      return String(body?.body);
    };
    expect(render()).toContain('version="0"');
    expect(render()).toContain('version="1"');
  });
});
