import type { Setting } from './config-schema';

const pemFile = { kind: 'string' } as const;

/**
 * Settings of TLS: SIP over TLS on its own port, HTTPS and WSS on the HTTP port. Each listener is on only when
 * its certificate and key files are set; the files are PEM.
 */
export const TLS_SETTINGS: readonly Setting[] = [
  {
    key: 'sip.tlsPort',
    type: { kind: 'int', min: 0, max: 65535 },
    default: 5061,
    doc: 'Port of the SIP TLS listener (RFC 3261 §26.2, sips: URIs), on sip.host; only when sip.tlsCert and sip.tlsKey are set (0: any free port).',
  },
  {
    key: 'sip.tlsCert',
    type: pemFile,
    default: '',
    doc: 'PEM file of the SIP TLS certificate (chain). Empty: no SIP over TLS.',
  },
  { key: 'sip.tlsKey', type: pemFile, default: '', doc: 'PEM file of the private key of sip.tlsCert.' },
  {
    key: 'sip.tlsCa',
    type: pemFile,
    default: '',
    doc: "PEM file of CA certificates. Set: TLS peers are asked for a certificate, checked against it (a verified peer's subject/SAN is what trusted-peer rules read), and outgoing TLS verifies servers against it; empty: the system CAs verify outgoing TLS.",
  },
  {
    key: 'http.tlsCert',
    type: pemFile,
    default: '',
    doc: 'PEM file of the HTTPS certificate: set, the HTTP port serves HTTPS and WSS (/ws and SIP at /sip) only. Empty: plain HTTP and WS.',
  },
  { key: 'http.tlsKey', type: pemFile, default: '', doc: 'PEM file of the private key of http.tlsCert.' },
];
