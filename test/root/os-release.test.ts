import { expect } from 'chai';
import { DbReader } from '../../src/root/db-files.js';
import { parseOsRelease, readOsRelease } from '../../src/root/os-release.js';
import { makeRoot } from '../support/fake-root.js';

describe('root/os-release', () => {
  it('values in shell quoting: double quotes with escapes, single quotes, bare; comments ignored', () => {
    expect(parseOsRelease('# c\nNAME="Debian \\"GNU\\"/Linux"\nID=debian\nVERSION_ID=\'12\'\nbroken line\n')).to.deep.equal({ NAME: 'Debian "GNU"/Linux', ID: 'debian', VERSION_ID: '12' });
  });

  it('/etc/os-release first, else /usr/lib/os-release', () => {
    const r = makeRoot({ '/usr/lib/os-release': 'ID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME="Alpine Linux v3.20"\n' });
    try {
      expect(readOsRelease(new DbReader(r.root))).to.deep.equal({ id: 'alpine', versionId: '3.20.3', prettyName: 'Alpine Linux v3.20', path: '/usr/lib/os-release' });
      r.add({ '/etc/os-release': 'ID=wolfi\n' });
      expect(readOsRelease(new DbReader(r.root))).to.deep.equal({ id: 'wolfi', path: '/etc/os-release' });
    } finally {
      r.cleanup();
    }
  });
});
