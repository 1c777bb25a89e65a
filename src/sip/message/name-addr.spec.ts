import { NameAddr } from './name-addr';

describe('NameAddr (RFC 3261 §20.10)', () => {
  it('parses name-addr with a quoted display name and header params', () => {
    const a = NameAddr.parse('"Alice \\"A\\" Smith" <sip:alice@example.com;transport=tcp>;tag=abc;expires=60');
    expect(a.displayName).toBe('Alice "A" Smith');
    expect(a.uri.params.get('transport')).toBe('tcp');
    expect(a.tag).toBe('abc');
    expect(a.params.get('expires')).toBe('60');
    expect(NameAddr.parse(a.toString()).displayName).toBe('Alice "A" Smith');
  });

  it('parses token display names and bare <uri>', () => {
    expect(NameAddr.parse('Bob Smith <sip:bob@example.com>').displayName).toBe('Bob Smith');
    expect(NameAddr.parse('<sip:bob@example.com>').displayName).toBeUndefined();
  });

  it('addr-spec: parameters after the URI are header parameters', () => {
    const a = NameAddr.parse('sip:bob@example.com;tag=xyz;lr');
    expect(a.uri.params.size).toBe(0);
    expect(a.tag).toBe('xyz');
    expect(a.params.get('lr')).toBeNull();
    expect(a.toString()).toBe('<sip:bob@example.com>;tag=xyz;lr');
  });

  it('round-trips through toString', () => {
    for (const t of ['<sip:a@b>;tag=1', '"A B" <sips:a@b:5061;lr>;q=0.5', 'Bob <sip:bob@[::1]:5060>']) {
      const a = NameAddr.parse(t);
      expect(NameAddr.parse(a.toString()).toString()).toBe(a.toString());
    }
  });

  it('formats without one parameter, leaving the address as it was', () => {
    const a = NameAddr.parse('"Bob B" <sip:bob@example.com;transport=tcp>;tag=abc;expires=5');
    expect(a.format('tag')).toBe('Bob B <sip:bob@example.com;transport=tcp>;expires=5');
    expect(a.format('none')).toBe(a.toString());
    expect(a.toString()).toBe('Bob B <sip:bob@example.com;transport=tcp>;tag=abc;expires=5');
  });

  it('tag setter', () => {
    const a = NameAddr.parse('<sip:a@b>');
    a.tag = 't1';
    expect(a.toString()).toBe('<sip:a@b>;tag=t1');
    a.tag = undefined;
    expect(a.toString()).toBe('<sip:a@b>');
  });

  it.each(['"unterminated <sip:a@b>', '<sip:a@b', '< sip:a@b >', 'no uri here', '<sip:a@b> junk'])(
    'rejects %p',
    (t) => {
      expect(() => NameAddr.parse(t, 'Bad To header')).toThrow('Bad To header');
    },
  );
});
