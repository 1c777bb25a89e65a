import { startReport } from './start-report';

describe('startReport', () => {
  it('names every SIP listener, HTTP with what it serves, and the database', () => {
    const report = startReport(
      [
        { protocol: 'udp', address: '0.0.0.0', port: 5060 },
        { protocol: 'tcp', address: '0.0.0.0', port: 5060 },
        { protocol: 'ws', address: '::', port: 3000, path: '/sip' },
      ],
      { address: '::', port: 3000 },
      'SQLite /srv/data/presence-hub.sqlite',
    );
    expect(report.message).toBe(
      'listening: SIP udp 0.0.0.0:5060, tcp 0.0.0.0:5060, ws [::]:3000/sip; ' +
        'HTTP [::]:3000 (REST /api, OpenAPI /docs, health /health, browser WebSocket /ws); ' +
        'database SQLite /srv/data/presence-hub.sqlite',
    );
    expect(report.fields).toEqual({
      sip: ['udp 0.0.0.0:5060', 'tcp 0.0.0.0:5060', 'ws [::]:3000/sip'],
      http: '[::]:3000',
      database: 'SQLite /srv/data/presence-hub.sqlite',
    });
  });

  it('says HTTPS, and names the TLS and WSS listeners, when certificates are configured', () => {
    const report = startReport(
      [
        { protocol: 'tls', address: '0.0.0.0', port: 5061 },
        { protocol: 'wss', address: '0.0.0.0', port: 3000, path: '/sip' },
      ],
      { address: '0.0.0.0', port: 3000, secure: true },
      'SQLite x',
    );
    expect(report.message).toMatch(
      /^listening: SIP tls 0\.0\.0\.0:5061, wss 0\.0\.0\.0:3000\/sip; HTTPS 0\.0\.0\.0:3000 /,
    );
  });
});
