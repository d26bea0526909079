import { expect } from 'chai';
import { formatDeb822, MAX_DEB822_LINE, parseDeb822, valueOf } from '../../src/root/deb822.js';

const never = (): never => { throw new Error('too many'); };

describe('root/deb822', () => {
  it('reads fields with their continuation lines, paragraphs apart by blank lines', () => {
    const r = parseDeb822('Package: a\nDescription: short\n long line\n .\nVersion: 1\n\nPackage: b\nVersion: 2\n', 10, never);
    expect(r.malformed).to.deep.equal([]);
    expect(r.paragraphs.map((p) => valueOf(p, 'package'))).to.deep.equal(['a', 'b']);
    expect(valueOf(r.paragraphs[0], 'Description')).to.equal('short');
    expect(r.paragraphs[0].fields[1].lines).to.deep.equal(['Description: short', ' long line', ' .']);
  });

  it('writes a paragraph back as it was, without the fields asked to drop (any case)', () => {
    const text = 'Package: a\nStatus: install ok installed\nConffiles:\n /etc/a 0123\nVersion: 1\n';
    const [p] = parseDeb822(text, 10, never).paragraphs;
    expect(formatDeb822(p)).to.equal(text);
    expect(formatDeb822(p, ['status', 'CONFFILES'])).to.equal('Package: a\nVersion: 1\n');
  });

  it('a paragraph with a line that is not a field is left out and said with its line; the others are kept', () => {
    const r = parseDeb822('Package: a\nVersion: 1\n\nPackage: b\nthis is not a field\n\nPackage: c\n', 10, never);
    expect(r.paragraphs.map((p) => valueOf(p, 'Package'))).to.deep.equal(['a', 'c']);
    expect(r.malformed).to.have.length(1);
    expect(r.malformed[0]).to.match(/^line 4: not a "Name: value" line/);
  });

  it(`a line longer than ${MAX_DEB822_LINE} characters makes its paragraph malformed`, () => {
    const r = parseDeb822(`Package: a\nDescription: ${'x'.repeat(MAX_DEB822_LINE)}\n`, 10, never);
    expect(r.paragraphs).to.deep.equal([]);
    expect(r.malformed[0]).to.match(/longer than/);
  });

  it('past the paragraph bound, the caller decides (it throws)', () => {
    expect(() => parseDeb822('Package: a\n\nPackage: b\n\nPackage: c\n', 2, () => { throw new RangeError('bound'); })).to.throw(RangeError, 'bound');
  });
});
