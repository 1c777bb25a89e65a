import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load-config';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults of every module', () => {
    const c = loadConfig({});
    expect(c.http.port).toBe(3000);
    expect(c.sip.port).toBe(5060);
    expect(c.db.dataDir).toBe('./data');
    expect(c.pa.defaultExpires).toBe(3600);
    expect(c.presenceReginfo).toEqual({ defaultExpires: 3600, aggregatePresentities: false, trustedWatchers: [] });
    expect(c.puaReginfo.publishReginfo).toBe(true);
    expect(c.presenceProfile.defaultExpires).toBe(3600);
    expect(c.b2b.maxSubscribeDelay).toBe(0);
    expect(c.b2b.defaultExpiration).toBe(3600);
    expect(Object.isFrozen(c.sip)).toBe(true);
  });

  it('reads the short and the derived environment names', () => {
    const c = loadConfig({
      HTTP_PORT: '8080',
      SIP_PORT: '5070',
      SIP_HOST: '127.0.0.1',
      DATA_DIR: '/tmp/x',
      DB_URL: 'mysql://root@127.0.0.1:3306/test',
      LOG_LEVEL: 'warn',
      PA_DEFAULT_EXPIRES: '600',
      PRESENCE_REGINFO_AGGREGATE_PRESENTITIES: 'true',
      SIP_DOMAINS: 'Example.com, example.org',
    });
    expect(c.http.port).toBe(8080);
    expect(c.sip.port).toBe(5070);
    expect(c.sip.host).toBe('127.0.0.1');
    expect(c.db.dataDir).toBe('/tmp/x');
    expect(c.db.url).toBe('mysql://root@127.0.0.1:3306/test');
    expect(c.log.level).toBe('warn');
    expect(c.pa.defaultExpires).toBe(600);
    expect(c.presenceReginfo.aggregatePresentities).toBe(true);
    expect(c.sip.domains).toEqual(['example.com', 'example.org']);
  });

  it('reads allowed browser origins: empty by default (same origin only), a list, or *', () => {
    expect(loadConfig({}).http.corsOrigins).toEqual([]);
    const c = loadConfig({ HTTP_CORS_ORIGINS: 'https://App.example.com, http://localhost:8080' });
    expect(c.http.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:8080']);
    expect(loadConfig({ HTTP_CORS_ORIGINS: '*' }).http.corsOrigins).toEqual(['*']);
    const e = errorOf(() => loadConfig({ HTTP_CORS_ORIGINS: 'https://app.example.com/page' }));
    expect(e.problems).toEqual([
      'http.corsOrigins (HTTP_CORS_ORIGINS) must be a comma-separated list of origins such as ' +
        'https://app.example.com, or *, got "https://app.example.com/page"',
    ]);
  });

  it('refuses one TCP port for SIP and HTTP', () => {
    expect(errorOf(() => loadConfig({ SIP_PORT: '3000', HTTP_PORT: '3000' })).problems).toEqual([
      'sip.port and http.port (3000) must differ: SIP over TCP and HTTP both listen on TCP',
    ]);
    expect(loadConfig({ SIP_PORT: '3000', HTTP_PORT: '3000', SIP_TCP: 'false' }).sip.port).toBe(3000);
  });

  it('names the key, the variable and what is allowed when a value is bad', () => {
    const e = errorOf(() => loadConfig({ SIP_PORT: 'abc', LOG_LEVEL: 'loud', DB_URL: 'postgres://x' }));
    expect(e.problems).toEqual(
      expect.arrayContaining([
        'sip.port (SIP_PORT) must be an integer from 0 to 65535, got "abc"',
        expect.stringMatching(/^log\.level \(LOG_LEVEL\) must be one of trace, debug/),
        expect.stringMatching(/^db\.url \(DB_URL\) must be mysql:\/\//),
      ]),
    );
  });

  it('reads a JSON file, lets the environment win, and rejects unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ph-config-'));
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({ pa: { defaultExpires: 120 }, b2b: { resubscribeDelta: 10 }, http: { port: 1 } }),
    );
    const c = loadConfig({ CONFIG_FILE: good, HTTP_PORT: '2' });
    expect(c.pa.defaultExpires).toBe(120);
    expect(c.b2b.resubscribeDelta).toBe(10);
    expect(c.http.port).toBe(2);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ pa: { defaultExpire: 1 }, nope: {} }));
    const e = errorOf(() => loadConfig({ CONFIG_FILE: bad }));
    expect(e.problems).toContain('pa.defaultExpire is not a known setting');
    expect(e.problems).toContainEqual(expect.stringMatching(/^nope is not a configuration section/));
  });

  it('rejects inconsistent expires bounds', () => {
    const e = errorOf(() => loadConfig({ PA_MIN_EXPIRES: '4000', PA_MAX_EXPIRES: '3600' }));
    expect(e.problems).toContain('pa.minExpires (4000) must not exceed pa.maxExpires (3600)');
  });
});

describe('TLS settings', () => {
  it('take a certificate and its key together, on a port of their own', () => {
    const ok = loadConfig({
      SIP_TLS_CERT: 'c.pem',
      SIP_TLS_KEY: 'k.pem',
      HTTP_TLS_CERT: 'h.pem',
      HTTP_TLS_KEY: 'hk.pem',
    });
    expect(ok.sip).toMatchObject({ tlsPort: 5061, tlsCert: 'c.pem', tlsKey: 'k.pem', tlsCa: '' });
    expect(ok.http).toMatchObject({ tlsCert: 'h.pem', tlsKey: 'hk.pem' });
    expect(() => loadConfig({ SIP_TLS_CERT: 'c.pem' })).toThrow(/sip\.tlsCert and sip\.tlsKey must be set together/);
    expect(() => loadConfig({ HTTP_TLS_KEY: 'k.pem' })).toThrow(/http\.tlsCert and http\.tlsKey must be set together/);
    expect(() => loadConfig({ SIP_TLS_CA: 'ca.pem' })).toThrow(/sip\.tlsCa needs sip\.tlsCert/);
    expect(() => loadConfig({ SIP_TLS_CERT: 'c.pem', SIP_TLS_KEY: 'k.pem', SIP_TLS_PORT: '5060' })).toThrow(
      /sip\.tlsPort and sip\.port \(5060\) must differ/,
    );
  });

  it('watchers.defaultPolicy is allow unless set, and one of its values', () => {
    expect(loadConfig({}).watchers.defaultPolicy).toBe('allow');
    expect(loadConfig({ WATCHERS_DEFAULT_POLICY: 'same-domain' }).watchers.defaultPolicy).toBe('same-domain');
    expect(() => loadConfig({ WATCHERS_DEFAULT_POLICY: 'maybe' })).toThrow(/watchers\.defaultPolicy/);
  });
});
