import type { IncomingMessage } from 'node:http';
import { OriginPolicy } from './origin-policy';

const upgrade = (headers: { origin?: string; host?: string }): IncomingMessage =>
  ({ headers: { host: '127.0.0.1:3000', ...headers } }) as IncomingMessage;

describe('OriginPolicy', () => {
  it('by default (empty list) allows no cross origin, and requests of the same origin or without Origin', () => {
    const p = new OriginPolicy([]);
    expect(p.allowsCrossOrigin('https://evil.example')).toBe(false);
    expect(p.allowsRequest(upgrade({}))).toBe(true);
    expect(p.allowsRequest(upgrade({ origin: 'http://127.0.0.1:3000' }))).toBe(true);
    expect(p.allowsRequest(upgrade({ origin: 'https://127.0.0.1:3000' }))).toBe(true);
    expect(p.allowsRequest(upgrade({ origin: 'http://hub.example', host: 'HUB.example:80' }))).toBe(true);
    expect(p.allowsRequest(upgrade({ origin: 'http://127.0.0.1:3001' }))).toBe(false);
    expect(p.allowsRequest(upgrade({ origin: 'https://evil.example' }))).toBe(false);
    expect(p.allowsRequest(upgrade({ origin: 'null' }))).toBe(false);
    expect(p.allowsRequest(upgrade({ origin: 'http://127.0.0.1:3000', host: undefined }))).toBe(false);
  });

  it('allows the listed origins (case-insensitive), or any with *', () => {
    const p = new OriginPolicy(['https://board.example.com']);
    expect(p.allowsCrossOrigin('https://Board.example.com')).toBe(true);
    expect(p.allowsCrossOrigin('http://board.example.com')).toBe(false);
    expect(p.allowsRequest(upgrade({ origin: 'https://board.example.com' }))).toBe(true);
    const any = new OriginPolicy(['*']);
    expect(any.allowsCrossOrigin('https://evil.example')).toBe(true);
    expect(any.allowsRequest(upgrade({ origin: 'null' }))).toBe(true);
  });
});
