// The extras: users with homes that match passwd, gid 65534 by both of its names, the user's own
// passwd kept, all of it small; and, in the engine, real Debian programs that need them as root:
// gpg (HOME=/root must be writable) and nginx -t (getgrnam("nogroup")).
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addExtras, GROUP, PASSWD, USERS } from '../../src/image/extras.js';
import { ImageTreeBuilder } from '../../src/image/image-tree.js';
import { writeLayer } from '../../src/image/tar-writer.js';
import { HostRoot } from '../../src/root/host-root.js';
import { dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { skipOrFail } from '../support/helpers.js';
import { packAndLoad as packAndLoadIn } from '../support/pack-and-load.js';

describe('extras: what a scratch image lacks', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-extras-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every home passwd names exists, 0700 and owned by its user; nobody\'s /nonexistent does not', () => {
    const b = new ImageTreeBuilder(new HostRoot(dir));
    addExtras(b, { users: true });
    const passwd = PASSWD.trim().split('\n').map((l) => l.split(':'));
    expect(passwd.map((f) => f[0])).to.deep.equal(['root', 'nobody', 'nonroot']);
    for (const [name, , uid, , , home] of passwd) {
      if (home === '/nonexistent') {
        expect(b.tree.get(home), name).to.equal(undefined);
        continue;
      }
      expect(b.tree.get(home), `${name}'s home ${home}`).to.deep.include({ type: 'dir', mode: 0o700 });
      expect(b.tree.get(home)!.type === 'dir' && (b.tree.get(home) as { uid?: number }).uid, name).to.equal(Number(uid) || undefined);
    }
    expect(passwd.find((f) => f[0] === 'root')![5]).to.equal('/root');
    expect(b.tree.get('/tmp')).to.deep.include({ type: 'dir', mode: 0o1777 });
  });

  it('gid 65534 answers to nobody and to nogroup; getgrgid finds nobody first', () => {
    const groups = GROUP.trim().split('\n').map((l) => l.split(':'));
    const byName = new Map(groups.map((g) => [g[0], Number(g[2])]));
    expect(byName.get('nobody')).to.equal(65534);
    expect(byName.get('nogroup')).to.equal(65534);
    expect(groups.find((g) => g[2] === '65534')![0]).to.equal('nobody');
    // Every user's primary group exists.
    for (const u of USERS) expect(groups.some((g) => Number(g[2]) === u.uid), u.name).to.equal(true);
  });

  it('the extras without CA bundle and tzdata stay under 250 KB as layer bytes', async () => {
    const b = new ImageTreeBuilder(new HostRoot(dir));
    addExtras(b, { users: true, caBundle: undefined, tzdata: false });
    let bytes = 0;
    await writeLayer(b.tree, (chunk) => { bytes += chunk.length; });
    // A tar's end is 1 KB of zeros and each entry at least a 512-byte header: the count is real.
    expect(bytes).to.be.above(1024 + 512 * 6);
    expect(bytes).to.be.below(250 * 1024);
  });

  it('a passwd and group the image already has (--include, --add) are kept, and said', () => {
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
    const b = new ImageTreeBuilder(new HostRoot(dir));
    b.addPath(new HostRoot(dir), '/passwd', '/etc/passwd', 'add');
    const notes: string[] = [];
    const added = addExtras(b, { users: true, onNote: (l) => notes.push(l) });
    const e = b.tree.get('/etc/passwd');
    expect(e?.type === 'file' && 'root' in e.source && e.source.path).to.equal('/passwd');
    expect(b.tree.get('/etc/group')?.type).to.equal('file');
    expect(notes).to.deep.equal(["elfpack's users are not in /etc/passwd: the image's own (from --include or --add) is kept as it is"]);
    expect(added[0]).to.match(/^\/etc\/group \(root, nobody/);
    expect(b.tree.get('/root')).to.deep.include({ type: 'dir', mode: 0o700 });
  });

  it('a passwd that is not the user\'s choice (a traced run read the root\'s) is replaced by elfpack\'s', () => {
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n');
    const b = new ImageTreeBuilder(new HostRoot(dir));
    b.addRootFile('/etc/passwd', 'trace');
    const notes: string[] = [];
    addExtras(b, { users: true, onNote: (l) => notes.push(l) });
    const e = b.tree.get('/etc/passwd');
    expect(e?.type === 'file' && 'content' in e.source && e.source.content.toString()).to.equal(PASSWD);
    expect(notes).to.deep.equal([]);
  });
});

describe('extras: real programs that need them, as root, in the engine', function () {
  this.timeout(300_000);
  let dir: string;
  const loaded: string[] = [];
  before(function () {
    needEngine(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-extras-run-'));
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const packAndLoad = (name: string, args: string[]) => packAndLoadIn({ dir, loaded, prefix: 'elfpack-lean-extras' }, name, args);

  it("Debian's gpg encrypts and decrypts as root: /root is there for ~/.gnupg (gpg-agent included, gpg 2 needs it)", async function () {
    if (!existsSync('/usr/bin/gpg') || !existsSync('/usr/bin/gpg-agent')) skipOrFail(this, 'gnupg is not installed (make deps installs it)');
    const { tag } = await packAndLoad('gpg', ['/usr/bin/gpg', '--include', '/usr/bin/gpg-agent']);
    const batch = ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'x'];
    const enc = dockerRun(tag, [...batch, '--symmetric', '--armor'], { input: 'a secret\n' });
    expect(enc.status, enc.stderr).to.equal(0);
    const armored = enc.stdout.toString();
    expect(armored).to.match(/^-----BEGIN PGP MESSAGE-----\n[\s\S]+\n-----END PGP MESSAGE-----\n$/);
    const dec = dockerRun(tag, [...batch, '--decrypt'], { input: armored });
    expect(dec.status, dec.stderr).to.equal(0);
    expect(dec.stdout.toString()).to.equal('a secret\n');
    // With a HOME that is not there, the same run as root fails: the home directory is needed.
    const noHome = dockerRun(tag, [...batch, '--symmetric', '--armor'], { input: 'x', flags: ['-e', 'HOME=/nohome'] });
    expect(noHome.status).to.not.equal(0);
    expect(noHome.stderr).to.match(/can't create directory '\/nohome\/\.gnupg'/);
  });

  // What a user passes: the config tree, the modules its modules-enabled link leads to, and the
  // empty directories nginx writes into (/var/lib/nginx for temp paths, /var/log/nginx for the
  // logs Debian's config names, /run for the pid file nginx -t opens); elfpack has no flag for an
  // empty directory, so --include with --exclude of what is in it.
  const nginxArgs = ['--include', '/etc/nginx', '--include', '/usr/share/nginx/modules', '--include', '/var/lib/nginx',
    '--include', '/var/log/nginx', '--exclude', '/var/log/nginx/*', '--include', '/run', '--exclude', '/run/*'];

  it("Debian's nginx -t passes as root without a user directive: nobody and nogroup resolve", async function () {
    if (!existsSync('/usr/sbin/nginx') || !existsSync('/etc/nginx/nginx.conf')) skipOrFail(this, 'nginx-light is not installed (make deps installs it)');
    // Debian's config, but without `user www-data;`: nginx then runs as its built-in nobody:nogroup.
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, readFileSync('/etc/nginx/nginx.conf', 'utf8').replace(/^user\s+[^;]*;\s*$/m, ''));
    const { tag, stderr } = await packAndLoad('nginx', ['/usr/sbin/nginx', ...nginxArgs, '--add', `${conf}:/etc/nginx/nginx.conf`, '--', '-t']);
    if (existsSync('/etc/nginx/modules-enabled/50-mod-http-echo.conf')) {
      expect(stderr).to.match(/50-mod-http-echo\.conf → \/usr\/share\/nginx\/modules-available\/mod-http-echo\.conf/);
    }
    const r = dockerRun(tag);
    expect(r.stderr).to.match(/test is successful/);
    expect(r.status).to.equal(0);
    // The group file of before (no nogroup) fails the same test: the name is needed.
    const old = join(dir, 'group.old');
    writeFileSync(old, 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n');
    const without = dockerRun(tag, [], { flags: ['-v', `${old}:/etc/group:ro`] });
    expect(without.status).to.not.equal(0);
    expect(without.stderr).to.match(/getgrnam\("nogroup"\) failed/);
  });

  it("Debian's own nginx.conf (user www-data) passes nginx -t with the host's passwd and group included", async function () {
    if (!existsSync('/usr/sbin/nginx')) skipOrFail(this, 'nginx-light is not installed (make deps installs it)');
    if (!/^user\s+www-data;/m.test(readFileSync('/etc/nginx/nginx.conf', 'utf8'))) skipOrFail(this, "/etc/nginx/nginx.conf is not Debian's (no 'user www-data;')");
    const { tag, stderr } = await packAndLoad('nginx-own', ['/usr/sbin/nginx', ...nginxArgs, '--include', '/etc/passwd', '--include', '/etc/group', '--', '-t']);
    expect(stderr).to.match(/note: elfpack's users are not in \/etc\/passwd, \/etc\/group: the image's own/);
    const r = dockerRun(tag);
    expect(r.stderr).to.match(/test is successful/);
    expect(r.status).to.equal(0);
  });
});
