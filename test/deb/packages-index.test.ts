import { expect } from 'chai';
import { parsePackagesIndex, parseRelations, parseProvides, MAX_FIELD_RELATIONS, MAX_INDEX_LINE } from '../../src/deb/packages-index.js';
import { parseDeb822, valueOf } from '../../src/root/deb822.js';
import { buildUniverse } from '../../src/deb/universe.js';
import { records } from '../support/deb-universe.js';

const SHA = 'ab'.repeat(32);
const RECORD = `Package: libfoo1
Source: foo (1.2-1)
Version: 1:1.2-1+b1
Installed-Size: 123
Maintainer: Someone <a@example.org>
Architecture: amd64
Multi-Arch: same
Priority: optional
Essential: yes
Provides: libfoo (= 1:1.2-1+b1), foo-abi-1
Pre-Depends: dpkg (>= 1.17)
Depends: libc6 (>= 2.34), libbar2 | libbaz1:any (>> 3~), python3:any,
 libqux:native
Recommends: foo-data
Conflicts: libfoo0 (<< 1)
Breaks: old-foo (<= 0.9)
Description: a library
 long text
Filename: pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb
Size: 4567
SHA256: ${SHA}
`;

describe('deb/packages-index', () => {
  it('reads a record: names, versions, Multi-Arch, priority, the relationship fields (folded lines too), the file', () => {
    const { records: [r], warnings } = parsePackagesIndex(RECORD, 'main');
    expect(warnings).to.deep.equal([]);
    expect(r).to.deep.include({ package: 'libfoo1', version: '1:1.2-1+b1', architecture: 'amd64', multiArch: 'same', essential: true, priority: 'optional',
      filename: 'pool/main/f/foo/libfoo1_1.2-1+b1_amd64.deb', size: 4567, sha256: SHA, installedSize: 123, source: 'foo', from: 'main' });
    expect(r.provides).to.deep.equal([{ name: 'libfoo', version: '1:1.2-1+b1' }, { name: 'foo-abi-1' }]);
    expect(r.preDepends).to.deep.equal([[{ name: 'dpkg', relation: '>=', version: '1.17' }]]);
    expect(r.depends).to.deep.equal([
      [{ name: 'libc6', relation: '>=', version: '2.34' }],
      [{ name: 'libbar2' }, { name: 'libbaz1', archQualifier: 'any', relation: '>>', version: '3~' }],
      [{ name: 'python3', archQualifier: 'any' }],
      [{ name: 'libqux', archQualifier: 'native' }],
    ]);
    expect(r.recommends).to.deep.equal([[{ name: 'foo-data' }]]);
    expect(r.conflicts).to.deep.equal([[{ name: 'libfoo0', relation: '<<', version: '1' }]]);
    expect(r.breaks).to.deep.equal([[{ name: 'old-foo', relation: '<=', version: '0.9' }]]);
  });

  it('architecture restrictions and build profiles (source indexes only) are read and dropped', () => {
    expect(parseRelations('a [amd64 !i386] <!nocheck> <cross>, b:any (>= 1) [linux-any]')).to.deep.equal([[{ name: 'a' }], [{ name: 'b', archQualifier: 'any', relation: '>=', version: '1' }]]);
  });

  it('the obsolete < and > relations are kept as written (version.ts reads them as <= and >=)', () => {
    expect(parseRelations('a (< 2), b (> 1)')).to.deep.equal([[{ name: 'a', relation: '<', version: '2' }], [{ name: 'b', relation: '>', version: '1' }]]);
  });

  it('a record missing a required field, or with a relation that does not parse, is left out and said; the rest is kept', () => {
    const bad = RECORD.replace(/^SHA256:.*\n/m, '') + '\n' + RECORD.replace('libfoo1\n', 'libfoo2\n').replace('Recommends: foo-data', 'Recommends: foo-data (>= )') + '\n' + RECORD.replace('libfoo1\n', 'libfoo3\n');
    const { records: rs, warnings } = parsePackagesIndex(bad, 'main');
    expect(rs.map((r) => r.package)).to.deep.equal(['libfoo3']);
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(/^main: line 1: libfoo1: no SHA256/);
    expect(warnings[1]).to.match(/libfoo2: not a relation: "foo-data \(>= \)": left out$/);
  });

  it('paragraphs are read as root/deb822.ts reads them: comments, CRLF, blank lines of spaces, folded fields, a field named twice, malformed paragraphs', () => {
    const rec = (name: string, extra = '') => RECORD.replace('libfoo1\n', `${name}\n`) + extra;
    const text = [
      '# a comment before anything\n' + rec('p-crlf').replace(/\n/g, '\r\n'),
      rec('p-twice', 'Depends: never-read\nPACKAGE: not-this\n'),
      rec('p-bad-line').replace('Priority: optional\n', 'Priority optional\n'),
      ' continuation first\n' + rec('p-cont'),
      rec('p-long', `X-Long: ${'x'.repeat(MAX_INDEX_LINE + 1)}\n`),
      rec('p-comment').replace('\nSize:', '\n# inside\nSize:'),
      rec('p-upper').replace('Depends: libc6', 'DEPENDS: libc6').replace('Description: a library\n long text\n', 'Description: a library\n \u00e9t\u00e9\n .\n'),
    ].join(' \t \n');
    const { records: rs, warnings } = parsePackagesIndex(text, 'main');
    expect(rs.map((r) => r.package)).to.deep.equal(['p-crlf', 'p-twice', 'p-comment', 'p-upper']);
    expect(rs[0]).to.deep.equal(parsePackagesIndex(rec('p-crlf'), 'main').records[0]);
    expect(rs[1].depends).to.deep.equal(rs[0].depends); // the first Depends, not the second
    expect(rs[3].depends[0]).to.deep.equal([{ name: 'libc6', relation: '>=', version: '2.34' }]);
    const deb822 = parseDeb822(text, 100, () => { throw new Error('too many'); }, MAX_INDEX_LINE);
    expect(deb822.paragraphs.map((p) => valueOf(p, 'Package'))).to.deep.equal(rs.map((r) => r.package));
    expect(warnings).to.deep.equal(deb822.malformed.map((m) => `main: ${m}: left out`));
    expect(warnings).to.have.length(3);
  });

  it('Provides allows only "=", and no alternatives', () => {
    expect(() => parseProvides('a (>= 1)', 'p')).to.throw('p: a Provides with ">=", not "="');
    expect(() => parseProvides('a | b', 'p')).to.throw('alternatives in Provides');
  });

  it(`more than ${MAX_FIELD_RELATIONS} relations in one field is an error, not a slow parse`, () => {
    expect(() => parseRelations(Array.from({ length: MAX_FIELD_RELATIONS + 1 }, (_, i) => `p${i}`).join(', '), 'big')).to.throw(`big: more than ${MAX_FIELD_RELATIONS} relations`);
  });

  it('indexes of several components and architectures combine; the same file in two indexes is one record', () => {
    const main = records(['Package: a\nVersion: 1\nProvides: v', 'Package: d\nArchitecture: all']);
    const updates = records(['Package: a\nVersion: 2']);
    const arm = records(['Package: a\nVersion: 1'], 'arm64');
    const u = buildUniverse([main, updates, arm, main]);
    expect(u.byName.get('a')!.map((r) => `${r.version}/${r.architecture}`)).to.deep.equal(['1/amd64', '2/amd64', '1/arm64']);
    expect(u.byName.get('d')).to.have.length(1);
    expect(u.providers.get('v')!.map((p) => p.record.package)).to.deep.equal(['a']);
  });
});
