import { openSync, readSync } from 'node:fs';

/** What the kernel holds for a UDP socket: bytes waiting in its receive queue and datagrams it dropped. */
export interface UdpSocketStats {
  /** Bytes queued for reading (`rx_queue`). */
  readonly queued: number;
  /** Datagrams dropped since the socket was opened, mostly for a full receive buffer (`drops`). */
  readonly drops: number;
}

/** The /proc files, opened once: a read from position 0 gives the table anew. */
const procFiles = new Map<string, number | null>();
let readBuffer = Buffer.allocUnsafe(64 * 1024);

/** The whole text of a /proc file through a descriptor kept open (one system call for a short table). */
function readProc(path: string): string | undefined {
  let fd = procFiles.get(path);
  if (fd === undefined) {
    try {
      fd = openSync(path, 'r');
    } catch {
      fd = null;
    }
    procFiles.set(path, fd);
  }
  if (fd === null) return undefined;
  let length = 0;
  for (;;) {
    const n = readSync(fd, readBuffer, length, readBuffer.length - length, length);
    if (n === 0) break;
    length += n;
    if (length === readBuffer.length) {
      const grown = Buffer.allocUnsafe(readBuffer.length * 2);
      readBuffer.copy(grown, 0, 0, length);
      readBuffer = grown;
    }
  }
  return readBuffer.toString('latin1', 0, length);
}

/**
 * Reads the receive queue and drop count of the UDP sockets bound to `port` from Linux's /proc/net/udp (or
 * udp6): the columns `local_address` (`hex-ip:hex-port`), `tx_queue:rx_queue` (hex) and `drops` (last).
 * Undefined where there is no such file (another OS) or no such socket. A datagram the kernel drops never
 * reaches the process: these numbers are the only way to see that the socket is not drained fast enough.
 * The file is read synchronously through a descriptor kept open: about 30 µs, where opening and reading it
 * through the thread pool cost ten times the CPU several times a second.
 */
export function readUdpSocketStats(port: number, ipv6 = false): Promise<UdpSocketStats | undefined> {
  let text: string | undefined;
  try {
    text = readProc(ipv6 ? '/proc/net/udp6' : '/proc/net/udp');
  } catch {
    return Promise.resolve(undefined);
  }
  return Promise.resolve(text === undefined ? undefined : parseUdpSocketStats(text, port));
}

/**
 * Sums the rows of a /proc/net/udp text whose local port is `port`. Only the lines that hold the port are
 * split: the file lists every UDP socket of the machine, and it is read several times a second under load.
 */
export function parseUdpSocketStats(text: string, port: number): UdpSocketStats | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let found = false;
  let queued = 0;
  let drops = 0;
  let lineEnd = -1;
  for (let at = text.indexOf(`${hexPort} `); at >= 0; at = text.indexOf(`${hexPort} `, Math.max(at + 1, lineEnd))) {
    const lineStart = text.lastIndexOf('\n', at) + 1;
    lineEnd = text.indexOf('\n', at);
    if (lineEnd < 0) lineEnd = text.length;
    const cols = text.slice(lineStart, lineEnd).trim().split(/\s+/);
    if (cols.length < 13 || !cols[1].endsWith(hexPort)) continue;
    const rx = cols[4].split(':')[1];
    found = true;
    queued += parseInt(rx ?? '0', 16) || 0;
    drops += Number(cols[cols.length - 1]) || 0;
  }
  return found ? { queued, drops } : undefined;
}
