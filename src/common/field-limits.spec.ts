import { checkLength, FieldTooLongError, fits } from './field-limits';

describe('checkLength', () => {
  it('counts characters for VARCHAR columns and UTF-8 bytes for TEXT columns', () => {
    expect(fits('a'.repeat(255), { max: 255, unit: 'characters' })).toBe(true);
    expect(fits('a'.repeat(256), { max: 255, unit: 'characters' })).toBe(false);
    expect(fits('é'.repeat(30_000), { max: 65_535, unit: 'bytes' })).toBe(true);
    expect(fits('é'.repeat(40_000), { max: 65_535, unit: 'bytes' })).toBe(false);
    expect(fits('a'.repeat(65_535), { max: 65_535, unit: 'bytes' })).toBe(true);
  });

  it('names the field: 400 for a header or JSON field, 413 for a body', () => {
    expect(() => {
      checkLength('callId', 'x'.repeat(300), 'Call-ID');
    }).toThrow(new FieldTooLongError('Call-ID', { max: 255, unit: 'characters' }));
    try {
      checkLength('callId', 'x'.repeat(300), 'Call-ID');
    } catch (e) {
      expect(e).toMatchObject({
        status: 400,
        field: 'Call-ID',
        message: 'Call-ID is too long: at most 255 characters',
      });
    }
    try {
      checkLength('body', 'x'.repeat(70_000));
    } catch (e) {
      expect(e).toMatchObject({ status: 413, field: 'body' });
    }
    expect(() => {
      checkLength('aor', undefined);
    }).not.toThrow();
  });
});
