import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** Strips the IPv4-mapped prefix (`::ffff:10.0.0.1`) that dual-stack sockets report. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The test of auth.trustedPeers: source addresses and CIDR blocks whose requests skip digest. Throws at start
 * on an entry that is not an address or block, naming it.
 */
export function trustedPeers(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    const bits = prefix === undefined ? undefined : Number(prefix);
    const max = type === 'ipv4' ? 32 : 128;
    if (type === undefined || (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > max))) {
      throw new Error(`auth.trustedPeers: ${entry} is not an IP address or CIDR block`);
    }
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, bits, type);
  }
  return (address) => {
    const a = plain(address);
    if (isIPv4(a)) return list.check(a, 'ipv4');
    if (isIPv6(a)) return list.check(a, 'ipv6');
    return false;
  };
}
