import { expect } from 'chai';
import { dep5Licenses } from '../../src/root/debian-copyright.js';

describe('root/debian-copyright', () => {
  it('a machine-readable file gives the distinct License names of its header and Files paragraphs, in order', () => {
    const text = [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      'Upstream-Name: foo',
      '',
      'Files: *',
      'Copyright: 2020 Someone',
      'License: GPL-2+',
      '',
      'Files: lib/*',
      'Copyright: 2021 Else',
      'License: LGPL-2.1+ or MIT',
      '',
      'Files: debian/*',
      'License: GPL-2+',
      '',
      'License: GPL-2+',
      ' This program is free software… (a stand-alone license text: not a Files paragraph)',
      '',
      'License: Unused-Text',
      ' never named by a Files paragraph',
    ].join('\n');
    expect(dep5Licenses(text)).to.deep.equal(['GPL-2+', 'LGPL-2.1+ or MIT']);
  });

  it('a free-form copyright file gives nothing (best effort: no guessing from prose)', () => {
    expect(dep5Licenses('This is the Debian prepackaged version of foo.\n\nIt is GPL.\n')).to.equal(undefined);
    expect(dep5Licenses('Format-Specification: http://svn.debian.org/wsvn/dep/web/deps/dep5.mdwn?op=file&rev=135\nLicense: BSD\n')).to.equal(undefined);
  });
});
