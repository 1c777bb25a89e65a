import { parseUdpSocketStats } from './udp-socket-stats';

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
});
