import { escapeAttr, escapeText, parseXml, serializeNode, textOf, XmlError } from './xml-tree';

describe('xml-tree', () => {
  it('reads namespaces and the predefined entities, and writes the tree back', () => {
    const root = parseXml('<r xmlns="urn:x" xmlns:p="urn:p"><p:a k="1 &amp; 2">x &lt; y</p:a></r>');
    expect(root).toMatchObject({ local: 'r', ns: 'urn:x' });
    const a = root.children[0];
    expect(a).toMatchObject({ kind: 'element', local: 'a', ns: 'urn:p' });
    expect(a.kind === 'element' && textOf(a)).toBe('x < y');
    expect(serializeNode(root)).toBe('<r xmlns="urn:x" xmlns:p="urn:p"><p:a k="1 &amp; 2">x &lt; y</p:a></r>');
  });

  it.each([
    ['a DTD', '<!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>', /DTD/],
    ['an undefined entity', '<r>&e;</r>', /undefined entity/],
    ['an unbound prefix', '<p:r/>', /unbound namespace prefix/],
    ['two roots', '<a/><b/>', /malformed|more than one root/],
    ['another encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><r/>', /only UTF-8/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseXml(text)).toThrow(XmlError);
    expect(() => parseXml(text)).toThrow(message);
  });

  it('escapes text and attribute values', () => {
    expect(escapeText('a<b&c>]]>')).toBe('a&lt;b&amp;c&gt;]]&gt;');
    expect(escapeAttr('"\t\n')).toBe('&quot;&#9;&#10;');
  });
});
