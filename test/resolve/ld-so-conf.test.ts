import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLdSoConf } from '../../src/resolve/ld-so-conf.js';
import { RecordingRoot } from '../support/recording-root.js';

describe('resolve/ld-so-conf', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-conf-'));
    mkdirSync(join(dir, 'etc/ld.so.conf.d'), { recursive: true });
    writeFileSync(join(dir, 'etc/ld.so.conf'), '# comment\ninclude /etc/ld.so.conf.d/*.conf\n/usr/local/lib\n');
    writeFileSync(join(dir, 'etc/ld.so.conf.d/b.conf'), '/opt/b/lib/  # trailing slash and comment\nhwcap 0 nosegneg\n');
    writeFileSync(join(dir, 'etc/ld.so.conf.d/a.conf'), '/opt/a/lib\ninclude ../ld.so.conf\n'); // a cycle
    writeFileSync(join(dir, 'etc/ld.so.conf.d/.hidden.conf'), '/opt/hidden\n');
    writeFileSync(join(dir, 'etc/ld.so.conf.d/c.notconf'), '/opt/c\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('follows include globs in sorted order, once each, and ignores comments and hwcap lines', () => {
    const root = new RecordingRoot(dir);
    const conf = readLdSoConf(root);
    expect(conf.dirs).to.deep.equal(['/opt/a/lib', '/opt/b/lib', '/usr/local/lib']);
    expect(conf.files).to.deep.equal(['/etc/ld.so.conf', '/etc/ld.so.conf.d/a.conf', '/etc/ld.so.conf.d/b.conf']);
    expect(root.escapes()).to.deep.equal([]);
  });

  it('a root without ld.so.conf has no directories', () => {
    expect(readLdSoConf(new RecordingRoot(join(dir, 'etc/ld.so.conf.d'))).dirs).to.deep.equal([]);
  });
});
