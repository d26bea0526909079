// The small fresh-install work of libc-bin's, tzdata's and nginx-common's postinst, made in a root
// of their real packages: the files their scripts would write, with the same bytes and modes.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDebRoot, type DebRoot } from '../../src/deb/deb-root.js';
import { downloadDebs, removeDownloadedDebs } from '../support/debs.js';
import { needCommand } from '../support/helpers.js';

const PACKAGES = ['libc-bin', 'tzdata', 'nginx-common'];

describe('deb/configure-effects: what common postinst scripts write on a fresh install', function () {
  this.timeout(300_000);
  let dir: string;
  let debs: Record<string, string>;
  let root: DebRoot;
  before(async function () {
    needCommand(this, 'dpkg-deb');
    debs = downloadDebs(this, PACKAGES);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-configure-'));
    root = await buildDebRoot(PACKAGES.map((n) => ({ path: debs[n] })), { cacheDir: join(dir, 'cache'), arch: 'amd64' });
  });
  after(() => {
    removeDownloadedDebs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A file of a package as dpkg-deb extracts it. */
  const shipped = (pkg: string, path: string) => execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2"', 'sh', debs[pkg], path]);
  const read = (path: string) => {
    const st = root.lstat(path)!;
    const src = root.open(path);
    try {
      return { bytes: Buffer.from(src.read(0, st.size, path)), mode: st.mode & 0o7777 };
    } finally {
      src.close();
    }
  };

  it('libc-bin: /etc/nsswitch.conf is its default, copied with its mode (cp -p)', () => {
    const got = read('/etc/nsswitch.conf');
    expect(got.bytes.equals(shipped('libc-bin', '/usr/share/libc-bin/nsswitch.conf'))).to.equal(true);
    expect(got.mode).to.equal(0o644);
  });

  it('tzdata: /etc/localtime links to Etc/UTC, the zone a noninteractive install picks, and /etc/timezone names it', () => {
    expect(root.readlink('/etc/localtime')).to.equal('/usr/share/zoneinfo/Etc/UTC');
    expect(root.lstat('/usr/share/zoneinfo/Etc/UTC')?.type).to.equal('file');
    expect(read('/etc/timezone')).to.deep.equal({ bytes: Buffer.from('Etc/UTC\n'), mode: 0o644 });
  });

  it('nginx-common: the default site is enabled, and the welcome page is where that site serves from', () => {
    expect(root.readlink('/etc/nginx/sites-enabled/default')).to.equal('/etc/nginx/sites-available/default');
    expect(shipped('nginx-common', '/etc/nginx/sites-available/default').toString()).to.match(/^\s*root \/var\/www\/html;$/m);
    const page = read('/var/www/html/index.nginx-debian.html');
    expect(page.bytes.equals(shipped('nginx-common', '/usr/share/nginx/html/index.html'))).to.equal(true);
    expect(page.mode).to.equal(0o644);
    expect(root.warnings).to.deep.equal([]);
  });
});
