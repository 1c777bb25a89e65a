/**
 * PUBLISH fan-out: W SIP watchers (UDP, spread over several local sockets) and W browser watchers (JSON
 * WebSocket at ws://host:HTTP_PORT/ws) all watch one presentity; then P PUBLISH requests, each changing the
 * PIDF note, are sent one after another (default: the next once every watcher got the previous one) or at a
 * fixed --rate. For every PUBLISH and watcher it measures PUBLISH sent → NOTIFY (SIP) / `state` push (WS)
 * received, and reports NOTIFY/s and p50/p99 latency for SIP and WS separately.
 *
 *   npx ts-node --transpile-only bench/load/fanout.ts --host 127.0.0.1 --port 5060 --http-port 8080 \
 *     --sip-watchers 1000 --ws-watchers 1000 --publishes 50
 *
 * Each NOTIFY is answered 200 (Via/From/To/Call-ID/CSeq echoed); dialogs are kept and ended at the end with
 * SUBSCRIBE Expires: 0, and the publication with PUBLISH Expires: 0 (--cleanup false keeps them).
 * In --rate mode a PUBLISH still waits for the previous one's 2xx, because it needs that SIP-ETag for
 * SIP-If-Match (RFC 3903 §4.4); such waits are counted in `publishesDelayed`.
 * Prints one JSON line.
 */
import type * as dgram from 'node:dgram';
import WebSocket from 'ws';
import {
  UdpRetransmitter,
  assertLoopback,
  callIdOf,
  headerValue,
  methodOf,
  now,
  openUdpSockets,
  parseArgs,
  perSecond,
  responseFor,
  runId,
  sleep,
  statusOf,
  summarize,
  tagOf,
  uriOf,
} from './common';

const args = parseArgs({
  host: '127.0.0.1',
  port: 5060,
  httpPort: 8080,
  wsPath: '/ws',
  sipWatchers: 1000,
  wsWatchers: 1000,
  /** Local UDP sockets the SIP watchers are spread over. */
  sockets: 8,
  publishes: 50,
  /** PUBLISH per second; 0 = one after another, each once all watchers got the previous one (or timed out). */
  rate: 0,
  aor: 'sip:alice@example.com',
  event: 'presence',
  domain: 'example.com',
  expires: 600,
  /** Outstanding SUBSCRIBEs / WS connects during setup. */
  window: 200,
  setupTimeout: 60,
  /** Seconds to wait for one PUBLISH's notifications (sequential mode) or for the last ones (rate mode). */
  publishTimeout: 5,
  /** Hard limit in seconds for the whole run; partial results are printed when it hits. */
  duration: 300,
  cleanup: true,
  t1: 500,
  localHost: '127.0.0.1',
});
assertLoopback(args.host);
assertLoopback(args.localHost);

const run = runId();
/** In PIDF notes only (`fanout fo<run>n<k>`); Call-IDs use `fo<run>-`, so they never contain it. */
const marker = `fo${run}n`;
const callIdPrefix = `fo${run}-`;

interface SipWatcher {
  i: number;
  sock: number;
  callId: string;
  fromTag: string;
  user: string;
  toTag: string;
  remoteTarget: string;
  cseq: number;
  ok: boolean;
  initial: boolean;
  ready: boolean;
  lastK: number;
  failed: boolean;
}

interface WsWatcher {
  ws?: WebSocket;
  ready: boolean;
  failed: boolean;
  lastK: number;
}

let sipSockets: dgram.Socket[] = [];
let sipPorts: number[] = [];
let pubSock: dgram.Socket;
let pubPort = 0;
const sipWatchers: SipWatcher[] = [];
const byCallId = new Map<string, SipWatcher>();
const wsWatchers: WsWatcher[] = [];

const subscribeStatuses: Record<string, number> = {};
const unsubscribeStatuses: Record<string, number> = {};
const publishStatuses: Record<string, number> = {};
let wsErrors = 0;
let notifiesAnswered = 0;
let unknownNotifies = 0;

// Per publish k: time sent, counts received, time of the last receipt.
const pubSentAt: number[] = [];
const pubDone: boolean[] = [];
const sipGot: number[] = [];
const wsGot: number[] = [];
const sipLast: number[] = [];
const wsLast: number[] = [];
const sipLatency: number[] = [];
/** PUBLISH sent → its final response received (RFC 3903: the 2xx comes after the commit). */
const publishAnswerLatency: number[] = [];
const wsLatency: number[] = [];
let firstPublishAt = 0;
let lastSipAt = 0;
let lastWsAt = 0;
let etag: string | undefined;
let publishesDelayed = 0;
let sipReadyCount = 0;
let wsReadyCount = 0;
let progress: () => void = () => undefined;
/** Off during cleanup, so that the terminating NOTIFYs do not count as deliveries. */
let measuring = true;

const rtx = new UdpRetransmitter(
  (key) => {
    const [kind, id] = key.split('|');
    if (kind === 'sub') {
      const w = byCallId.get(id);
      if (w && !w.ok) {
        w.failed = true;
        subscribeStatuses.timeout = (subscribeStatuses.timeout ?? 0) + 1;
      }
    } else if (kind === 'unsub') unsubscribeStatuses.timeout = (unsubscribeStatuses.timeout ?? 0) + 1;
    else {
      publishStatuses.timeout = (publishStatuses.timeout ?? 0) + 1;
      pubDone[Number(id)] = true;
    }
    progress();
  },
  args.t1,
  8 * args.t1,
);

function noteIndex(text: string): number {
  const at = text.indexOf(marker);
  if (at < 0) return -1;
  let end = at + marker.length;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  return end > at + marker.length ? Number(text.slice(at + marker.length, end)) : -1;
}

// ------------------------------------------------------------------------------------------------ SIP watchers

function subscribeRequest(w: SipWatcher, expires: number): Buffer {
  const port = sipPorts[w.sock];
  const to = w.toTag ? `<${args.aor}>;tag=${w.toTag}` : `<${args.aor}>`;
  const uri = w.cseq > 1 && w.remoteTarget ? w.remoteTarget : args.aor;
  return Buffer.from(
    `SUBSCRIBE ${uri} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${port};branch=z9hG4bK${run}w${w.i}c${w.cseq};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:${w.user}@${args.domain}>;tag=${w.fromTag}\r\n` +
      `To: ${to}\r\n` +
      `Call-ID: ${w.callId}\r\n` +
      `CSeq: ${w.cseq} SUBSCRIBE\r\n` +
      `Contact: <sip:${w.user}@${args.localHost}:${port}>\r\n` +
      `Event: ${args.event}\r\n` +
      `Accept: application/pidf+xml\r\n` +
      `Expires: ${expires}\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}

function onWatcherMessage(data: Buffer, sockIndex: number): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  const callId = callIdOf(msg);
  const w = callId === undefined ? undefined : byCallId.get(callId);
  if (status > 0) {
    if (!w) return;
    const cseq = headerValue(msg, 'CSeq') ?? '';
    const unsub = !cseq.startsWith('1 ');
    const key = `${unsub ? 'unsub' : 'sub'}|${w.callId}`;
    if (status < 200) {
      rtx.provisional(key);
      return;
    }
    if (!rtx.final(key)) return;
    const table = unsub ? unsubscribeStatuses : subscribeStatuses;
    table[status] = (table[status] ?? 0) + 1;
    if (unsub) return;
    if (status < 300) {
      w.ok = true;
      w.toTag = tagOf(headerValue(msg, 'To', 't')) ?? w.toTag;
      const contact = headerValue(msg, 'Contact', 'm');
      if (contact) w.remoteTarget = uriOf(contact);
      markSipReady(w);
    } else w.failed = true;
    progress();
    return;
  }
  const sock = sipSockets[sockIndex];
  if (methodOf(msg) !== 'NOTIFY') {
    sock.send(responseFor(msg, 501, 'Not Implemented'), args.port, args.host);
    return;
  }
  if (!w) {
    unknownNotifies++;
    sock.send(responseFor(msg, 481, 'Subscription Does Not Exist'), args.port, args.host);
    return;
  }
  const t = now();
  sock.send(responseFor(msg), args.port, args.host);
  notifiesAnswered++;
  const k = noteIndex(msg);
  if (k >= 0 && measuring && k > w.lastK && pubSentAt[k] !== undefined) {
    w.lastK = k;
    sipLatency.push(t - pubSentAt[k]);
    sipGot[k] = (sipGot[k] ?? 0) + 1;
    sipLast[k] = t;
    lastSipAt = t;
    progress();
  } else if (!w.initial) {
    if (!w.toTag) w.toTag = tagOf(headerValue(msg, 'From', 'f')) ?? '';
    w.initial = true;
    markSipReady(w);
    progress();
  }
}

function markSipReady(w: SipWatcher): void {
  if (w.ok && w.initial && !w.ready && !w.failed) {
    w.ready = true;
    sipReadyCount++;
  }
}

async function setupSipWatchers(deadline: number): Promise<void> {
  let next = 0;
  const inFlight = (): number => sipWatchers.filter((w) => !w.ok && !w.failed).length;
  while (next < args.sipWatchers && now() < deadline) {
    let budget = args.window - inFlight();
    while (budget-- > 0 && next < args.sipWatchers) {
      const i = next++;
      const w: SipWatcher = {
        i,
        sock: i % sipSockets.length,
        callId: `${callIdPrefix}w${i}@${args.localHost}`,
        fromTag: `${run}t${i}`,
        user: `fw${run}-${i}`,
        toTag: '',
        remoteTarget: '',
        cseq: 1,
        ok: false,
        initial: false,
        ready: false,
        lastK: -1,
        failed: false,
      };
      sipWatchers.push(w);
      byCallId.set(w.callId, w);
      rtx.send(`sub|${w.callId}`, sipSockets[w.sock], subscribeRequest(w, args.expires), args.host, args.port);
    }
    await sleep(2);
  }
  while (now() < deadline && sipWatchers.some((w) => !w.failed && !(w.ok && w.initial))) await sleep(10);
}

// ------------------------------------------------------------------------------------------------- WS watchers

function openWsWatcher(index: number): Promise<void> {
  const watcher: WsWatcher = { ready: false, failed: false, lastK: -1 };
  wsWatchers.push(watcher);
  return new Promise<void>((resolve) => {
    const ws = new WebSocket(`ws://${args.host}:${args.httpPort}${args.wsPath}`, { localAddress: args.localHost });
    watcher.ws = ws;
    const fail = (): void => {
      if (!watcher.ready && !watcher.failed) {
        watcher.failed = true;
        wsErrors++;
      }
      resolve();
    };
    ws.on('error', fail);
    ws.on('close', fail);
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'subscribe', id: String(index + 1), aor: args.aor, event: args.event }));
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const t = now();
      const text = (
        Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)
      ).toString('utf8');
      const k = noteIndex(text);
      if (k >= 0 && watcher.ready) {
        if (measuring && k > watcher.lastK && pubSentAt[k] !== undefined) {
          watcher.lastK = k;
          wsLatency.push(t - pubSentAt[k]);
          wsGot[k] = (wsGot[k] ?? 0) + 1;
          wsLast[k] = t;
          lastWsAt = t;
          progress();
        }
        return;
      }
      if (watcher.ready) return;
      let type: unknown;
      try {
        type = (JSON.parse(text) as { type?: unknown }).type;
      } catch {
        type = undefined;
      }
      if (type === 'state') {
        watcher.ready = true;
        wsReadyCount++;
        resolve();
      } else if (type === 'error') {
        watcher.failed = true;
        wsErrors++;
        resolve();
      }
    });
  });
}

async function setupWsWatchers(deadline: number): Promise<void> {
  let next = 0;
  const running = new Set<Promise<void>>();
  while (next < args.wsWatchers && now() < deadline) {
    while (running.size < args.window && next < args.wsWatchers) {
      const p = openWsWatcher(next++).finally(() => running.delete(p));
      running.add(p);
    }
    await Promise.race([...running, sleep(Math.max(1, deadline - now()))]);
  }
  while (running.size > 0 && now() < deadline) await Promise.race([...running, sleep(50)]);
}

// ------------------------------------------------------------------------------------------------------ PUBLISH

function publishRequest(k: number, expires: number, withBody: boolean): Buffer {
  const body = withBody
    ? `<?xml version="1.0" encoding="UTF-8"?>\r\n` +
      `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${args.aor}">` +
      `<tuple id="fanout"><status><basic>open</basic></status><note>fanout ${marker}${k}</note></tuple>` +
      `</presence>\r\n`
    : '';
  const ifMatch = etag === undefined ? '' : `SIP-If-Match: ${etag}\r\n`;
  const type = withBody ? 'Content-Type: application/pidf+xml\r\n' : '';
  return Buffer.from(
    `PUBLISH ${args.aor} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP ${args.localHost}:${pubPort};branch=z9hG4bK${run}p${k};rport\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <${args.aor}>;tag=${run}pub\r\n` +
      `To: <${args.aor}>\r\n` +
      `Call-ID: ${callIdPrefix}p${k}@${args.localHost}\r\n` +
      `CSeq: 1 PUBLISH\r\n` +
      `Event: ${args.event}\r\n` +
      `Expires: ${expires}\r\n` +
      ifMatch +
      type +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function onPublisherMessage(data: Buffer): void {
  const msg = data.toString('latin1');
  const status = statusOf(msg);
  if (status === 0) {
    pubSock.send(responseFor(msg, 501, 'Not Implemented'), args.port, args.host);
    return;
  }
  const callId = callIdOf(msg) ?? '';
  const m = /^p(\d+)@/.exec(callId.slice(callIdPrefix.length));
  if (!callId.startsWith(callIdPrefix) || !m) return;
  const k = Number(m[1]);
  if (status < 200) {
    rtx.provisional(`pub|${k}`);
    return;
  }
  if (!rtx.final(`pub|${k}`)) return;
  publishStatuses[status] = (publishStatuses[status] ?? 0) + 1;
  if (pubSentAt[k] !== undefined) publishAnswerLatency.push(now() - pubSentAt[k]);
  if (status < 300) etag = headerValue(msg, 'SIP-ETag') ?? etag;
  else if (status === 412) etag = undefined; // RFC 3903 §6: the next one starts a new publication
  pubDone[k] = true;
  progress();
}

function sendPublish(k: number): void {
  const t = now();
  if (firstPublishAt === 0) firstPublishAt = t;
  pubSentAt[k] = t;
  sipGot[k] = 0;
  wsGot[k] = 0;
  rtx.send(`pub|${k}`, pubSock, publishRequest(k, args.expires, true), args.host, args.port);
}

function fullyDelivered(k: number): boolean {
  return pubDone[k] && (sipGot[k] ?? 0) >= sipReadyCount && (wsGot[k] ?? 0) >= wsReadyCount;
}

/** Resolves when `cond` holds or at the deadline; re-checked on every receipt. */
function until(cond: () => boolean, deadline: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const check = (): void => {
      if (cond() || now() >= deadline) {
        clearInterval(timer);
        progress = () => undefined;
        resolve();
      }
    };
    const timer = setInterval(check, 20);
    progress = check;
    check();
  });
}

async function publishAll(hardDeadline: number): Promise<void> {
  if (args.rate <= 0) {
    for (let k = 0; k < args.publishes && now() < hardDeadline; k++) {
      sendPublish(k);
      await until(() => fullyDelivered(k), Math.min(hardDeadline, now() + args.publishTimeout * 1000));
    }
    return;
  }
  const interval = 1000 / args.rate;
  const start = now();
  for (let k = 0; k < args.publishes && now() < hardDeadline; k++) {
    const due = start + k * interval;
    if (due > now()) await sleep(due - now());
    if (k > 0 && !pubDone[k - 1]) {
      publishesDelayed++;
      await until(() => pubDone[k - 1], Math.min(hardDeadline, now() + args.publishTimeout * 1000));
    }
    sendPublish(k);
  }
  const last = args.publishes - 1;
  await until(
    () => {
      for (let k = 0; k <= last; k++) if (pubSentAt[k] !== undefined && !fullyDelivered(k)) return false;
      return true;
    },
    Math.min(hardDeadline, now() + args.publishTimeout * 1000),
  );
}

// ------------------------------------------------------------------------------------------------------ cleanup

async function cleanup(): Promise<void> {
  for (const w of sipWatchers) {
    if (!w.ok) continue;
    w.cseq = 2;
    rtx.send(`unsub|${w.callId}`, sipSockets[w.sock], subscribeRequest(w, 0), args.host, args.port);
  }
  if (etag !== undefined) {
    const k = args.publishes + 1;
    rtx.send(`pub|${k}`, pubSock, publishRequest(k, 0, false), args.host, args.port);
  }
  for (const w of wsWatchers) w.ws?.close();
  const deadline = now() + 5000;
  while (rtx.size > 0 && now() < deadline) await sleep(20);
  await sleep(200); // answer the final NOTIFYs (Subscription-State: terminated)
}

// ----------------------------------------------------------------------------------------------------- reporting

function report(aborted: boolean): void {
  const published = pubSentAt.length;
  const spanSip = lastSipAt - firstPublishAt;
  const spanWs = lastWsAt - firstPublishAt;
  const sipNotifies = sipLatency.length;
  const wsPushes = wsLatency.length;
  const fanoutSip: number[] = [];
  const fanoutWs: number[] = [];
  for (let k = 0; k < published; k++) {
    if (sipLast[k] !== undefined && sipGot[k] >= sipReadyCount) fanoutSip.push(sipLast[k] - pubSentAt[k]);
    if (wsLast[k] !== undefined && wsGot[k] >= wsReadyCount) fanoutWs.push(wsLast[k] - pubSentAt[k]);
  }
  console.log(
    JSON.stringify({
      script: 'fanout',
      command: `ts-node --transpile-only bench/load/fanout.ts ${process.argv.slice(2).join(' ')}`.trim(),
      aborted,
      host: args.host,
      sipPort: args.port,
      httpPort: args.httpPort,
      aor: args.aor,
      mode: args.rate > 0 ? `rate ${args.rate}/s` : 'sequential',
      publishes: published,
      publishStatuses,
      publishesDelayed,
      publishToAnswerMs: summarize(publishAnswerLatency),
      sip: {
        watchers: args.sipWatchers,
        ready: sipReadyCount,
        sockets: sipSockets.length,
        subscribeStatuses,
        notifies: sipNotifies,
        expected: sipReadyCount * published,
        missing: sipReadyCount * published - sipNotifies,
        notifiesAnswered,
        unknownNotifies,
        notifiesPerSec: perSecond(sipNotifies, spanSip),
        publishToNotifyMs: summarize(sipLatency),
        publishToLastWatcherMs: summarize(fanoutSip),
        unsubscribeStatuses,
      },
      ws: {
        watchers: args.wsWatchers,
        ready: wsReadyCount,
        errors: wsErrors,
        pushes: wsPushes,
        expected: wsReadyCount * published,
        missing: wsReadyCount * published - wsPushes,
        pushesPerSec: perSecond(wsPushes, spanWs),
        publishToStateMs: summarize(wsLatency),
        publishToLastWatcherMs: summarize(fanoutWs),
      },
      retransmissions: rtx.retransmissions,
      totalNotificationsPerSec: perSecond(sipNotifies + wsPushes, Math.max(spanSip, spanWs)),
    }),
  );
}

async function main(): Promise<void> {
  const hardDeadline = now() + args.duration * 1000;
  const hardTimer = setTimeout(
    () => {
      report(true);
      process.exit(2);
    },
    args.duration * 1000 + 10_000,
  );
  ({ sockets: sipSockets, ports: sipPorts } = await openUdpSockets(args.sockets, args.localHost, onWatcherMessage));
  const publisher = await openUdpSockets(1, args.localHost, onPublisherMessage);
  pubSock = publisher.sockets[0];
  pubPort = publisher.ports[0];

  const setupDeadline = Math.min(hardDeadline, now() + args.setupTimeout * 1000);
  await setupSipWatchers(setupDeadline);
  await setupWsWatchers(setupDeadline);
  await publishAll(hardDeadline);
  measuring = false;
  if (args.cleanup) await cleanup();
  report(false);
  clearTimeout(hardTimer);
  rtx.stop();
  for (const s of sipSockets) s.close();
  pubSock.close();
  for (const w of wsWatchers) w.ws?.terminate();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
