import { createServer, type Server } from 'node:net';
import { loadConfig } from '../config/load-config';
import { assertTcpPortFree, listenFailure } from './listen-failure';

const config = loadConfig({ SIP_PORT: '5060', HTTP_PORT: '3000' });
const errno = (code: string, syscall: string, port: number, address = '0.0.0.0'): Error =>
  Object.assign(new Error(`${syscall} ${code} ${address}:${port}`), { code, syscall, address, port });

describe('listenFailure', () => {
  it('names the listener, the address and the setting in one line', () => {
    expect(listenFailure(errno('EADDRINUSE', 'bind', 5060), config)).toBe(
      'Cannot start: SIP UDP port 0.0.0.0:5060 is already in use; stop what listens there or set SIP_PORT (sip.port)',
    );
    expect(listenFailure(errno('EADDRINUSE', 'listen', 5060), config)).toMatch(
      /^Cannot start: SIP TCP port 0\.0\.0\.0:5060 /,
    );
    expect(listenFailure(errno('EADDRINUSE', 'listen', 3000), config)).toBe(
      'Cannot start: HTTP port 0.0.0.0:3000 is already in use; stop what listens there or set HTTP_PORT (http.port)',
    );
    expect(listenFailure(errno('EACCES', 'listen', 3000), config)).toMatch(
      /HTTP port 0\.0\.0\.0:3000 needs privileges/,
    );
    expect(listenFailure(errno('EADDRNOTAVAIL', 'bind', 5060, '192.0.2.1'), config)).toBe(
      'Cannot start: SIP UDP address 192.0.2.1:5060 is not an address of this machine; set SIP_HOST (sip.host)',
    );
  });

  it('names the SIP TLS listener and sip.tlsPort when TLS is configured', () => {
    const tls = loadConfig({ SIP_PORT: '5060', HTTP_PORT: '3000', SIP_TLS_CERT: 'c.pem', SIP_TLS_KEY: 'k.pem' });
    expect(listenFailure(errno('EADDRINUSE', 'listen', 5061), tls)).toBe(
      'Cannot start: SIP TLS port 0.0.0.0:5061 is already in use; stop what listens there or set SIP_TLS_PORT (sip.tlsPort)',
    );
    expect(listenFailure(errno('EADDRINUSE', 'listen', 5060), tls)).toMatch(/^Cannot start: SIP TCP port/);
  });

  it('leaves every other error alone', () => {
    expect(listenFailure(new Error('boom'), config)).toBeUndefined();
    expect(listenFailure(errno('ECONNREFUSED', 'connect', 3306), config)).toBeUndefined();
    expect(listenFailure(undefined, config)).toBeUndefined();
  });
});

describe('assertTcpPortFree', () => {
  it('fails as listen does when the port is taken, and passes once it is free', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    await expect(assertTcpPortFree('127.0.0.1', port)).rejects.toMatchObject({
      code: 'EADDRINUSE',
      syscall: 'listen',
      port,
    });
    await new Promise((resolve) => taken.close(resolve));
    await expect(assertTcpPortFree('127.0.0.1', port)).resolves.toBeUndefined();
    await expect(assertTcpPortFree('127.0.0.1', 0)).resolves.toBeUndefined();
  });
});
