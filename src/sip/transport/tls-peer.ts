import type { PeerCertificate, TLSSocket } from 'node:tls';

/**
 * The identity a TLS peer proved with its certificate (RFC 5922 §7.1: the subjectAltName URI and DNS entries,
 * else the subject's Common Name). A trusted-peer rule compares `sipDomains` (or `subject`) with its list, and
 * only when `authorized` is true: a certificate that does not chain to the configured CA proves nothing.
 */
export interface TlsPeer {
  /** Subject Common Name, when there is one. */
  readonly subject?: string;
  /** subjectAltName entries as the certificate lists them, e.g. `DNS:proxy.example.com`, `URI:sip:example.com`. */
  readonly altNames: readonly string[];
  /**
   * The domains the certificate stands for, lower case: the host of each `URI:sip:`/`sips:` entry, each `DNS:`
   * entry, or the Common Name when there are no such entries (RFC 5922 §7.1).
   */
  readonly sipDomains: readonly string[];
  /** Whether the chain was verified against the configured CA. */
  readonly authorized: boolean;
}

/** Splits a Node subjectaltname string (`DNS:a, URI:sip:b`) into its entries. */
function altNamesOf(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname;
  if (!raw) return [];
  return raw
    .split(/,\s*/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The domains a certificate stands for (RFC 5922 §7.1). */
function domainsOf(altNames: readonly string[], cn: string | undefined): string[] {
  const out = new Set<string>();
  for (const entry of altNames) {
    const m = /^URI:sips?:(?:[^@]*@)?([^;:?>]+)/i.exec(entry);
    if (m) out.add(m[1].toLowerCase());
    else if (/^DNS:/i.test(entry)) out.add(entry.slice(4).toLowerCase());
  }
  if (out.size === 0 && cn) out.add(cn.toLowerCase());
  return [...out];
}

/** The identity of the peer of a TLS socket, or undefined when it presented no certificate. */
export function tlsPeerOf(socket: TLSSocket): TlsPeer | undefined {
  const cert = socket.getPeerCertificate();
  // Without a certificate Node returns an empty object.
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return undefined;
  const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
  const altNames = altNamesOf(cert);
  return {
    ...(cn !== undefined && { subject: cn }),
    altNames,
    sipDomains: domainsOf(altNames, cn),
    authorized: socket.authorized,
  };
}
