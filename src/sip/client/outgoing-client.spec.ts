import { computeHa1, parseCredentials, verifyResponse } from '../auth/digest';
import { SipHeaders } from '../message/sip-headers';
import { SipRequest, SipResponse } from '../message/sip-message';
import { parseMessage } from '../message/parser';
import { serializeMessage } from '../message/serializer';
import { FakeClock } from '../ports/fake-clock';
import { noopLogger } from '../ports/logger';
import { SequenceRandom } from '../ports/random';
import { OutgoingClient } from './outgoing-client';
import type { ClientNotify, OutgoingClientOptions } from './outgoing-types';
import { parseSubscriptionState, refreshDelay, type OutgoingRecord } from './outgoing-record';

interface Answer {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}
type Reply = (req: SipRequest) => Answer | Promise<Answer>;

/** A fake server: each request is answered by the next reply (or the default), and recorded. */
function harness(extra: Partial<OutgoingClientOptions> = {}) {
  const clock = new FakeClock();
  const sent: SipRequest[] = [];
  const replies: Reply[] = [];
  let fallback: Reply = () => ({ status: 200, headers: { Expires: '600', 'SIP-ETag': 'e1' } });
  const saved = new Map<string, OutgoingRecord>();
  const client = new OutgoingClient({
    send: async (req) => {
      // Through the wire format, as the stack would send it.
      req.headers.prepend('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKc');
      const copy = parseMessage(serializeMessage(req)) as SipRequest;
      sent.push(copy);
      const r = await (replies.shift() ?? fallback)(copy);
      const h = new SipHeaders();
      h.append('Via', 'SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx');
      h.append('From', copy.headers.get('From')!);
      h.append('To', copy.to.tag ? copy.headers.get('To')! : `${copy.headers.get('To')!};tag=srv`);
      h.append('Call-ID', copy.callId);
      h.append('CSeq', copy.headers.get('CSeq')!);
      if (copy.method === 'SUBSCRIBE') h.append('Contact', '<sip:notifier@127.0.0.1:5070>');
      for (const [k, v] of Object.entries(r.headers ?? {})) h.append(k, v);
      return new SipResponse(r.status, r.reason ?? 'R', h);
    },
    contact: () => '<sip:127.0.0.1:5060>',
    store: {
      save: (rec) => {
        saved.set(rec.id, structuredClone(rec));
        return Promise.resolve();
      },
      remove: (id) => {
        saved.delete(id);
        return Promise.resolve();
      },
    },
    clock,
    random: new SequenceRandom(),
    logger: noopLogger,
    credentials: (realm) => (realm === 'example.com' ? { username: 'pua', password: 'secret' } : undefined),
    retryAfter: 30,
    waitForTermNotify: 5,
    ...extra,
  });
  const tick = async (ms: number) => {
    clock.advance(ms);
    for (let i = 0; i < 10; i++) await clock.flush();
  };
  return {
    clock,
    sent,
    replies,
    saved,
    client,
    tick,
    setDefault: (r: Reply) => (fallback = r),
  };
}

const PUB = {
  owner: 'test',
  key: 'sip:alice@example.com',
  uri: 'sip:alice@example.com',
  from: 'sip:hub@example.net',
  event: 'reg',
  contentType: 'application/reginfo+xml',
  body: '<reginfo/>',
  expires: 600,
};

function notifyFor(sub: SipRequest, state: string, cseq: number, body = ''): SipRequest {
  const h = new SipHeaders();
  h.append('Via', `SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKn${cseq}`);
  h.append('From', `${sub.headers.get('To')!.replace(/;tag=.*/, '')};tag=srv`);
  h.append('To', sub.headers.get('From')!);
  h.append('Call-ID', sub.callId);
  h.append('CSeq', `${cseq} NOTIFY`);
  h.append('Contact', '<sip:notifier@127.0.0.1:5070>');
  h.append('Event', 'reg');
  h.append('Subscription-State', state);
  return parseMessage(
    serializeMessage(new SipRequest('NOTIFY', 'sip:127.0.0.1:5060', h, Buffer.from(body))),
  ) as SipRequest;
}

describe('OutgoingClient publications (RFC 3903 §4)', () => {
  it('publishes with the body, refreshes with SIP-If-Match only, modifies with both, removes with Expires 0', async () => {
    const h = harness();
    const rec = await h.client.publish(PUB);
    expect(rec).toMatchObject({ state: 'active', etag: 'e1', lastStatus: 200 });
    expect(h.sent[0].method).toBe('PUBLISH');
    expect(h.sent[0].headers.get('SIP-If-Match')).toBeUndefined();
    expect(h.sent[0].body.toString()).toBe('<reginfo/>');
    expect(h.sent[0].headers.get('From')).toMatch(/^<sip:hub@example.net>;tag=/);
    expect(h.saved.get(rec.id)).toMatchObject({ etag: 'e1', state: 'active' });

    await h.tick(refreshDelay(600, {}) - 1);
    expect(h.sent).toHaveLength(1);
    await h.tick(1);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1].headers.get('SIP-If-Match')).toBe('e1');
    expect(h.sent[1].body.length).toBe(0);
    expect(h.sent[1].cseq.seq).toBe(h.sent[0].cseq.seq + 1);

    await h.client.publish({ ...PUB, body: '<reginfo version="1"/>' });
    expect(h.sent[2].headers.get('SIP-If-Match')).toBe('e1');
    expect(h.sent[2].body.toString()).toBe('<reginfo version="1"/>');

    expect(await h.client.unpublish('test', PUB.key)).toBe(true);
    expect(h.sent[3].expires).toBe(0);
    expect(h.sent[3].headers.get('SIP-If-Match')).toBe('e1');
    expect(h.saved.size).toBe(0);
    expect(h.client.get('publish', 'test', PUB.key)).toBeUndefined();
  });

  it('publishes anew after 412 and takes Min-Expires after 423', async () => {
    const h = harness();
    await h.client.publish(PUB);
    h.replies.push(() => ({ status: 412 }));
    h.replies.push(() => ({ status: 423, headers: { 'Min-Expires': '900' } }));
    await h.tick(refreshDelay(600, {}));
    const [refresh, fresh, longer] = h.sent.slice(1);
    expect(refresh.headers.get('SIP-If-Match')).toBe('e1');
    expect(fresh.headers.get('SIP-If-Match')).toBeUndefined();
    expect(fresh.body.toString()).toBe('<reginfo/>');
    expect(longer.expires).toBe(900);
    expect(h.client.get('publish', 'test', PUB.key)).toMatchObject({ state: 'active', expires: 900 });
  });

  it('publishes anew after 500 to a conditional PUBLISH (Kamailio answers an unknown entity tag so)', async () => {
    const h = harness();
    await h.client.publish(PUB);
    h.replies.push(() => ({ status: 500 }));
    await h.tick(refreshDelay(600, {}));
    expect(h.sent.map((r) => r.headers.get('SIP-If-Match') ?? '-')).toEqual(['-', 'e1', '-']);
    expect(h.sent[2].body.toString()).toBe('<reginfo/>');
  });

  it('tries again after an error, waiting Retry-After or the configured time', async () => {
    const h = harness();
    h.replies.push(() => ({ status: 503, headers: { 'Retry-After': '7' } }));
    h.replies.push(() => ({ status: 408 }));
    const rec = await h.client.publish(PUB);
    expect(rec).toMatchObject({ state: 'retrying', lastStatus: 503 });
    await h.tick(7000);
    expect(h.sent).toHaveLength(2);
    expect(h.client.get('publish', 'test', PUB.key)).toMatchObject({ state: 'retrying', lastStatus: 408 });
    await h.tick(30_000);
    expect(h.sent).toHaveLength(3);
    expect(h.client.get('publish', 'test', PUB.key)).toMatchObject({ state: 'active' });
  });

  it('answers 401 and 407 challenges (MD5 and SHA-256) with the next CSeq', async () => {
    const h = harness();
    h.replies.push(() => ({
      status: 401,
      headers: { 'WWW-Authenticate': 'Digest realm="example.com", nonce="n1", qop="auth", algorithm=SHA-256' },
    }));
    h.replies.push((req) => {
      const creds = parseCredentials(req.headers.get('Authorization')!)!;
      const valid =
        creds.nonce === 'n1' && verifyResponse(creds, 'PUBLISH', computeHa1('SHA-256', 'pua', 'example.com', 'secret'));
      return valid
        ? { status: 407, headers: { 'Proxy-Authenticate': 'Digest realm="example.com", nonce="n2"' } }
        : { status: 403 };
    });
    const rec = await h.client.publish(PUB);
    expect(rec.state).toBe('active');
    expect(h.sent.map((r) => r.cseq.seq)).toEqual([1, 2, 3]);
    expect(h.sent[2].headers.get('Proxy-Authorization')).toMatch(
      /^Digest username="pua", realm="example.com", nonce="n2"/,
    );
    expect(h.sent[2].headers.get('Proxy-Authorization')).toContain('algorithm=MD5');
  });

  it('does not answer a challenge of a realm it has no credentials for', async () => {
    const h = harness();
    h.replies.push(() => ({ status: 401, headers: { 'WWW-Authenticate': 'Digest realm="other", nonce="n"' } }));
    const rec = await h.client.publish(PUB);
    expect(rec).toMatchObject({ state: 'retrying', lastStatus: 401 });
    expect(h.sent).toHaveLength(1);
  });

  it('sends initial requests through the outbound proxy as a loose Route', async () => {
    const h = harness();
    await h.client.publish({ ...PUB, route: 'sip:proxy.example.net:5070' });
    expect(h.sent[0].route).toEqual(['<sip:proxy.example.net:5070;lr>']);
    expect(h.sent[0].uriString).toBe('sip:alice@example.com');
  });
});

const SUB = {
  owner: 'test',
  key: 'sip:bob@example.com',
  uri: 'sip:bob@example.com',
  from: 'sip:hub@example.net',
  event: 'reg',
  expires: 600,
  options: { accept: ['application/reginfo+xml'] },
};

describe('OutgoingClient subscriptions (RFC 6665 §4.1)', () => {
  it('creates the dialog from the 2xx, hands NOTIFYs to the owner, refreshes in the dialog', async () => {
    const h = harness();
    const got: ClientNotify[] = [];
    h.client.onNotify('test', (n) => {
      got.push(n);
    });
    const rec = await h.client.subscribe(SUB);
    const sub = h.sent[0];
    expect(sub.headers.get('Accept')).toBe('application/reginfo+xml');
    expect(sub.headers.get('Contact')).toBe('<sip:127.0.0.1:5060>');
    expect(rec.dialog).toMatchObject({ remoteTag: 'srv', remoteTarget: 'sip:notifier@127.0.0.1:5070' });

    const n = notifyFor(sub, 'active;expires=300', 1, '<doc/>');
    const e = h.client.match(n)!;
    expect(e).toBeDefined();
    expect(await h.client.notify(e, n)).toEqual({ status: 200, reason: 'OK' });
    expect(got[0]).toMatchObject({ body: '<doc/>', subscriptionState: { state: 'active', expires: 300 } });
    // The refresh follows the NOTIFY's shorter expiry, in the dialog (To tag, next CSeq, remote target).
    await h.tick(refreshDelay(300, {}));
    const refresh = h.sent[1];
    expect(refresh.uriString).toBe('sip:notifier@127.0.0.1:5070');
    expect(refresh.to.tag).toBe('srv');
    expect(refresh.cseq.seq).toBe(2);
    expect(refresh.callId).toBe(sub.callId);
    // A NOTIFY of someone else's dialog, or repeated, is refused.
    const other = notifyFor(sub, 'active', 2);
    other.headers.set('To', `${sub.headers.get('From')!.replace(/;tag=.*/, '')};tag=someone-else`);
    expect(h.client.match(other)).toBeUndefined();
    expect(await h.client.notify(e, notifyFor(sub, 'active', 1))).toMatchObject({ status: 500 });
  });

  it('creates the dialog from a NOTIFY that comes before the 2xx (RFC 6665 §4.1.2.4)', async () => {
    const h = harness();
    let release: () => void = () => undefined;
    h.replies.push(
      () =>
        new Promise<Answer>((resolve) => {
          release = () => {
            resolve({ status: 200, headers: { Expires: '600' } });
          };
        }),
    );
    const pending = h.client.subscribe(SUB);
    await h.clock.flush();
    const sub = h.sent[0];
    const n = notifyFor(sub, 'pending;expires=600', 1);
    const e = h.client.match(n)!;
    expect(await h.client.notify(e, n)).toMatchObject({ status: 200 });
    expect(h.client.get('subscribe', 'test', SUB.key)?.dialog?.remoteSeq).toBe(1);
    release();
    const rec = await pending;
    expect(rec.dialog?.remoteTag).toBe('srv');
    expect(rec.state).toBe('pending');
  });

  it('reacts to terminated by its reason: again now, later, or never', async () => {
    const h = harness();
    await h.client.subscribe(SUB);
    let sub = h.sent[0];
    let e = h.client.match(notifyFor(sub, 'active', 1))!;
    await h.client.notify(e, notifyFor(sub, 'terminated;reason=deactivated', 1));
    await h.tick(0);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1].callId).not.toBe(sub.callId);
    expect(h.sent[1].to.tag).toBeUndefined();

    sub = h.sent[1];
    e = h.client.match(notifyFor(sub, 'active', 1))!;
    await h.client.notify(e, notifyFor(sub, 'terminated;reason=probation;retry-after=20', 1));
    expect(h.client.get('subscribe', 'test', SUB.key)).toMatchObject({ state: 'retrying' });
    await h.tick(19_999);
    expect(h.sent).toHaveLength(2);
    await h.tick(1);
    expect(h.sent).toHaveLength(3);

    sub = h.sent[2];
    e = h.client.match(notifyFor(sub, 'active', 1))!;
    await h.client.notify(e, notifyFor(sub, 'terminated;reason=rejected', 1));
    expect(h.client.get('subscribe', 'test', SUB.key)).toMatchObject({
      state: 'terminated',
      lastReason: 'terminated;reason=rejected',
    });
    await h.tick(3_600_000);
    expect(h.sent).toHaveLength(3);
  });

  it('re-creates the subscription when a refresh gets 481', async () => {
    const h = harness();
    await h.client.subscribe(SUB);
    h.replies.push(() => ({ status: 481 }));
    await h.tick(refreshDelay(600, {}));
    expect(h.sent).toHaveLength(3);
    expect(h.sent[1].to.tag).toBe('srv');
    expect(h.sent[2].to.tag).toBeUndefined();
    expect(h.sent[2].callId).not.toBe(h.sent[0].callId);
    expect(h.client.get('subscribe', 'test', SUB.key)).toMatchObject({ state: 'active' });
  });

  it('counts a NOTIFY’s expires from its arrival and lets it shorten, never lengthen, what the 2xx granted', async () => {
    const h = harness();
    const options = { ...SUB.options, refreshBefore: 2 };
    h.setDefault(() => ({ status: 200, headers: { Expires: '4' } }));
    await h.client.subscribe({ ...SUB, expires: 4, options });
    const sub = h.sent[0];
    // Shorter than granted, handled in 0.5 s (a slow commit): the refresh is 1 s after the NOTIFY came, not
    // after its handler finished.
    h.client.onNotify('test', () => new Promise<void>((resolve) => h.clock.setTimeout(resolve, 500)));
    await h.tick(100);
    const first = notifyFor(sub, 'active;expires=3', 1);
    const handled = h.client.notify(h.client.match(first)!, first);
    await h.tick(500);
    expect(await handled).toMatchObject({ status: 200 });
    await h.tick(499);
    expect(h.sent).toHaveLength(1);
    await h.tick(1);
    expect(h.sent).toHaveLength(2);

    // Its seconds rounded up past the refreshed 2xx's expiry: the refresh stays where the 2xx put it (2 s).
    h.client.onNotify('test', () => undefined);
    await h.tick(300);
    const late = notifyFor(sub, 'active;expires=4', 2);
    await h.client.notify(h.client.match(late)!, late);
    await h.tick(1699);
    expect(h.sent).toHaveLength(2);
    await h.tick(1);
    expect(h.sent).toHaveLength(3);

    // Much shorter (the notifier may shorten it): the refresh comes forward.
    const shorter = notifyFor(sub, 'active;expires=1', 3);
    await h.client.notify(h.client.match(shorter)!, shorter);
    await h.tick(refreshDelay(1, options));
    expect(h.sent).toHaveLength(4);
    expect(h.sent.slice(1).map((r) => r.to.tag)).toEqual(['srv', 'srv', 'srv']);
  });

  it('answers with the status the owner throws and keeps the subscription', async () => {
    const h = harness();
    h.client.onNotify('test', () => {
      throw Object.assign(new Error('bad'), { status: 400, reason: 'Bad Request (malformed XML)' });
    });
    await h.client.subscribe(SUB);
    const n = notifyFor(h.sent[0], 'active;expires=600', 1, '<x');
    expect(await h.client.notify(h.client.match(n)!, n)).toEqual({
      status: 400,
      reason: 'Bad Request (malformed XML)',
    });
    expect(h.client.get('subscribe', 'test', SUB.key)?.state).toBe('active');
  });

  it('unsubscribes with Expires 0 and forgets the dialog after the terminating NOTIFY', async () => {
    const h = harness();
    await h.client.subscribe(SUB);
    expect(await h.client.unsubscribe('test', SUB.key)).toBe(true);
    const bye = h.sent[1];
    expect(bye.expires).toBe(0);
    expect(bye.to.tag).toBe('srv');
    const n = notifyFor(h.sent[0], 'terminated;reason=timeout', 1);
    const e = h.client.match(n)!;
    expect(await h.client.notify(e, n)).toMatchObject({ status: 200 });
    await h.tick(0);
    expect(h.client.get('subscribe', 'test', SUB.key)).toBeUndefined();
    expect(h.saved.size).toBe(0);
    expect(h.client.match(n)).toBeUndefined();
    await h.tick(3_600_000);
    expect(h.sent).toHaveLength(2);
  });

  it('resumes saved records after a restart: refreshes what is live, re-sends what is not', async () => {
    const h = harness();
    await h.client.subscribe(SUB);
    await h.client.publish(PUB);
    h.client.stop();
    const records = [...h.saved.values()];
    const h2 = harness();
    h2.clock.advance(h.clock.now() - h2.clock.now() + 1000);
    h2.client.restore(records);
    await h2.tick(0);
    const methods = h2.sent.map((r) => `${r.method} ${r.to.tag ?? '-'} ${r.headers.get('SIP-If-Match') ?? '-'}`);
    expect(methods.sort()).toEqual(['PUBLISH - e1', 'SUBSCRIBE srv -']);
    expect(h2.sent.find((r) => r.method === 'SUBSCRIBE')!.cseq.seq).toBe(2);
  });

  it('publishes a publication that ran out while down anew with its owner’s current body, or leaves it to the owner', async () => {
    const h = harness();
    await h.client.publish(PUB);
    await h.client.publish({ ...PUB, key: 'sip:bob@example.com', uri: 'sip:bob@example.com' });
    h.client.stop();
    const records = [...h.saved.values()];
    const asked: string[] = [];
    const h2 = harness({
      currentBody: (rec) => {
        asked.push(rec.key);
        return Promise.resolve(rec.key === PUB.key ? '<reginfo version="now"/>' : undefined);
      },
    });
    // Past the granted 600 s: the server no longer holds either publication.
    h2.clock.advance(h.clock.now() - h2.clock.now() + 601_000);
    h2.client.restore(records);
    await h2.tick(0);
    expect(asked.sort()).toEqual([PUB.key, 'sip:bob@example.com']);
    expect(h2.sent).toHaveLength(1);
    expect(h2.sent[0].headers.get('SIP-If-Match')).toBeUndefined();
    expect(h2.sent[0].body.toString()).toBe('<reginfo version="now"/>');
    // The owner's later change of the one left to it is a new publication, not a modification of a lost one.
    await h2.client.publish({ ...PUB, key: 'sip:bob@example.com', uri: 'sip:bob@example.com', body: '<ended/>' });
    expect(h2.sent[1].headers.get('SIP-If-Match')).toBeUndefined();
    expect(h2.sent[1].body.toString()).toBe('<ended/>');
  });
});

describe('OutgoingClient options of B2B', () => {
  it('spreads resumption over resumeSpread and waits the waitForTermNotify of the record', async () => {
    const h = harness();
    await h.client.subscribe({ ...SUB, options: { resumeSpread: 10, waitForTermNotify: 2 } });
    h.client.stop();
    // Half of the spread: the random fraction is 0x80000000 / 2^32.
    const seq = new SequenceRandom('s');
    const h2 = harness({
      random: {
        tag: () => seq.tag(),
        branch: () => seq.branch(),
        callId: () => seq.callId(),
        hex: (n) => (n === 4 ? '80000000' : seq.hex(n)),
      },
    });
    h2.clock.advance(h.clock.now() - h2.clock.now());
    h2.client.restore([...h.saved.values()]);
    await h2.tick(4999);
    expect(h2.sent).toHaveLength(0);
    await h2.tick(1);
    expect(h2.sent).toHaveLength(1);
    expect(await h2.client.unsubscribe('test', SUB.key)).toBe(true);
    await h2.tick(1999);
    expect(h2.client.get('subscribe', 'test', SUB.key)?.state).toBe('removing');
    await h2.tick(1);
    expect(h2.client.get('subscribe', 'test', SUB.key)).toBeUndefined();
  });
});

describe('Subscription-State', () => {
  it('reads state, expires, reason and retry-after', () => {
    expect(parseSubscriptionState('Terminated;reason=Probation;retry-after=30')).toEqual({
      state: 'terminated',
      reason: 'probation',
      retryAfter: 30,
    });
    expect(parseSubscriptionState('active ; expires=60')).toEqual({ state: 'active', expires: 60 });
    expect(parseSubscriptionState('')).toBeUndefined();
  });
});
