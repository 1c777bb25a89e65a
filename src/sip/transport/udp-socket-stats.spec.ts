import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { parseUdpSocketStats, readUdpSocketStats } from './udp-socket-stats';

const PROC_NET_UDP = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  123: 0100007F:13C4 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 4242 2 0000000000000000 17',
  '  124: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0',
  '',
].join('\n');

describe('parseUdpSocketStats', () => {
  it('reads the receive queue (hex) and drops of the socket on a port', () => {
    expect(parseUdpSocketStats(PROC_NET_UDP, 5060)).toEqual({ queued: 0xa00, drops: 17 });
    expect(parseUdpSocketStats(PROC_NET_UDP, 53)).toEqual({ queued: 0, drops: 0 });
    expect(parseUdpSocketStats(PROC_NET_UDP, 5061)).toBeUndefined();
  });

  it('sums every socket on the port and ignores the port as a remote address', () => {
    const text = [
      PROC_NET_UDP.trimEnd(),
      '  125: 0200007F:13C4 00000000:0000 07 00000000:00000010 00:00000000 00000000     0        0 4244 2 0000000000000000 3',
      '  126: 0100007F:9C40 0100007F:13C4 01 00000000:00000100 00:00000000 00000000     0        0 4245 2 0000000000000000 5',
    ].join('\n');
    expect(parseUdpSocketStats(text, 5060)).toEqual({ queued: 0xa10, drops: 20 });
    expect(parseUdpSocketStats(text, 40000)).toEqual({ queued: 0x100, drops: 5 });
  });
});

describe('readUdpSocketStats', () => {
  const linux = existsSync('/proc/net/udp');

  it('finds a bound socket on every read of the descriptor it keeps open, and no socket on a free port', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    try {
      for (let i = 0; i < 3; i++) {
        const stats = await readUdpSocketStats(port);
        if (linux) expect(stats).toEqual({ queued: expect.any(Number), drops: 0 });
        else expect(stats).toBeUndefined();
      }
    } finally {
      await new Promise<void>((resolve) => socket.close(resolve));
    }
    expect(await readUdpSocketStats(port)).toBeUndefined();
  });
});
