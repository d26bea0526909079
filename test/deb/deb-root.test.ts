// buildDebRoot on real packages: the resolver finds jq's libraries in it, dpkg's database reads
// back with the packages' versions, ld.so.cache is what ldconfig -r writes, update-alternatives'
// links are there, the same debs give the same root, and jq packed from it runs in the engine.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ldd } from '../../src/commands/ldd.js';
import { pack } from '../../src/commands/pack.js';
import { DbReader } from '../../src/root/db-files.js';
import { buildDebRoot, type DebRoot } from '../../src/deb/deb-root.js';
import { readDpkgDb } from '../../src/root/dpkg-db.js';
import { unpackRoot } from '../../src/root/unpack-root.js';
import { resolveInRoot } from '../../src/root/resolve-path.js';
import type { Root } from '../../src/root/root.js';
import { downloadDebs, makeDeb, makeTar, removeDownloadedDebs } from '../support/debs.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { haveCommand, needCommand, skipOrFail } from '../support/helpers.js';

// Dependencies first, as apt unpacks them.
const CLOSURE = ['libgcc-s1', 'libc6', 'libonig5', 'libjq1', 'jq'];

/** Every path of a root with its type, mode and link target or content digest: equal listings, equal roots. */
function listing(root: Root): string[] {
  const out: string[] = [];
  const todo = ['/'];
  while (todo.length) {
    const dir = todo.pop()!;
    for (const name of (root.readdir(dir) ?? []).sort()) {
      const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = root.lstat(p)!;
      let what = '';
      if (st.type === 'dir') todo.push(p);
      else if (st.type === 'symlink') what = `-> ${root.readlink(p)}`;
      else if (st.type === 'file') {
        const src = root.open(p);
        what = createHash('sha256').update(src.read(0, st.size, p)).digest('hex');
        src.close();
      }
      out.push(`${p} ${st.type} ${st.mode.toString(8)} ${what}`);
    }
  }
  return out.sort();
}

describe('root/deb-root: a root from real Debian packages', function () {
  this.timeout(300_000);
  let debs: Record<string, string>;
  let dir: string;
  let root: DebRoot;
  before(async function () {
    needCommand(this, 'dpkg-deb');
    debs = downloadDebs(this, [...CLOSURE, 'mawk']);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-debroot-'));
    root = await buildDebRoot([...CLOSURE, 'mawk'].map((n) => ({ path: debs[n] })), { cacheDir: join(dir, 'cache'), arch: 'amd64' });
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    removeDownloadedDebs();
  });

  it('the resolver finds jq\'s libraries in it, through the root\'s own ld.so.cache', () => {
    const r = ldd(root, ['/usr/bin/jq']);
    expect(r.ok).to.equal(true);
    const objects = r.reports[0].load!.objects.map((o) => `${o.path} ${o.via}`);
    expect(objects).to.include.members([
      '/usr/lib/x86_64-linux-gnu/libjq.so.1 ld_so_cache', '/usr/lib/x86_64-linux-gnu/libonig.so.5 ld_so_cache',
      '/lib/x86_64-linux-gnu/libc.so.6 ld_so_cache', '/lib64/ld-linux-x86-64.so.2 interp',
    ]);
    expect(root.warnings).to.deep.equal([]);
  });

  it('readDpkgDb lists every package with the version dpkg-deb -f gives, and owns its files with their md5sums', () => {
    const db = readDpkgDb(new DbReader(root))!;
    expect(db.warnings).to.deep.equal([]);
    const want = [...CLOSURE, 'mawk'].map((n) => `${n} ${execFileSync('dpkg-deb', ['-f', debs[n], 'Version'], { encoding: 'utf8' }).trim()}`);
    expect(db.packages.map((p) => `${p.name} ${p.version}`).sort()).to.deep.equal(want.sort());
    const onig = resolveInRoot(root, '/usr/lib/x86_64-linux-gnu/libonig.so.5').path;
    const owners = db.owners(new Set(['/usr/bin/jq', onig]));
    expect(owners.get('/usr/bin/jq')!.map((o) => o.pkg.name)).to.deep.equal(['jq']);
    const sums = execFileSync('sh', ['-c', 'dpkg-deb --ctrl-tarfile "$1" | tar -xO ./md5sums', 'sh', debs.jq], { encoding: 'utf8' });
    expect(sums).to.include(`${owners.get('/usr/bin/jq')![0].checksum}  usr/bin/jq`);
    expect(owners.get(onig)!.map((o) => o.pkg.name)).to.deep.equal(['libonig5']);
  });

  it('/etc/ld.so.cache lists what ldconfig -r writes for the same tree', function () {
    const ldconfig = ['/sbin/ldconfig', '/usr/sbin/ldconfig'].find((p) => haveCommand(p));
    if (!ldconfig) skipOrFail(this, 'ldconfig is not installed');
    const tree = join(dir, 'tree');
    execFileSync('mkdir', [tree]);
    unpackRoot(root, tree);
    execFileSync(ldconfig!, ['-X', '-r', tree, '-C', '/etc/ld.so.cache.ldconfig']);
    const entries = (cache: string) => execFileSync(ldconfig!, ['-p', '-C', join(tree, cache)], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('=>')).sort();
    const ours = entries('etc/ld.so.cache');
    expect(ours.length).to.be.greaterThan(10);
    expect(ours).to.deep.equal(entries('etc/ld.so.cache.ldconfig'));
  });

  it('update-alternatives\' links from postinst: awk → /etc/alternatives/awk → mawk, with its slaves', () => {
    expect(root.readlink('/usr/bin/awk')).to.equal('/etc/alternatives/awk');
    expect(root.readlink('/etc/alternatives/awk')).to.equal('/usr/bin/mawk');
    expect(root.readlink('/usr/bin/nawk')).to.equal('/etc/alternatives/nawk');
    expect(root.readlink('/etc/alternatives/nawk')).to.equal('/usr/bin/mawk');
  });

  it('distroFiles: os-release and debian_version as base-files ships them, nothing else of it, and base-files not recorded as installed', async function () {
    const { 'base-files': bf } = downloadDebs(this, ['base-files']);
    const withDistro = await buildDebRoot(CLOSURE.map((n) => ({ path: debs[n] })), { cacheDir: join(dir, 'cache3'), arch: 'amd64', distroFiles: { path: bf } });
    const shipped = (p: string) => execFileSync('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO ".$2"', 'sh', bf, p]);
    const read = (p: string) => {
      const src = withDistro.open(p);
      try {
        return Buffer.from(src.read(0, withDistro.lstat(p)!.size, p));
      } finally {
        src.close();
      }
    };
    expect(withDistro.readlink('/etc/os-release')).to.equal('../usr/lib/os-release');
    for (const p of ['/usr/lib/os-release', '/etc/debian_version']) expect(read(p).equals(shipped(p)), p).to.equal(true);
    expect(withDistro.lstat('/etc/issue')).to.equal(undefined);
    expect(readDpkgDb(new DbReader(withDistro))!.packages.map((p) => p.name)).to.not.include('base-files');
    // Without the option, the root is the packages' own.
    expect(root.lstat('/usr/lib/os-release')).to.equal(undefined);
  });

  it('the same debs give the same root, byte for byte (another cache, another run)', async () => {
    const again = await buildDebRoot([...CLOSURE, 'mawk'].map((n) => ({ path: debs[n] })), { cacheDir: join(dir, 'cache2'), arch: 'amd64' });
    expect(listing(again)).to.deep.equal(listing(root));
  });

  it('a .deb that disagrees with its index record, or is of another architecture, is refused', async () => {
    const control = { fields: [{ name: 'Package', value: 'jq', lines: ['Package: jq'] }, { name: 'Version', value: '9.9-1', lines: ['Version: 9.9-1'] }], line: 1 };
    try {
      await buildDebRoot([{ path: debs.jq, control }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
      expect.fail('not refused');
    } catch (err) {
      expect(String((err as Error).message)).to.match(/holds jq .*, not the package the index describes/);
    }
    try {
      await buildDebRoot([{ path: debs.jq }], { cacheDir: join(dir, 'cache'), arch: 'arm64' });
      expect.fail('not refused');
    } catch (err) {
      expect(String((err as Error).message)).to.equal('jq is for amd64, not arm64');
    }
  });

  it('a later package putting a file where an earlier one has a directory wins, and is warned about', async function () {
    needCommand(this, 'ar');
    const a = await makeDeb(join(dir, 'a.deb'), { name: 'data.tar.gz', bytes: gzipSync(await makeTar([{ name: './opt/thing/', type: 'directory' }, { name: './opt/thing/x', content: 'x' }])) }, { name: 'pkg-a' });
    const b = await makeDeb(join(dir, 'b.deb'), { name: 'data.tar.gz', bytes: gzipSync(await makeTar([{ name: './opt/', type: 'directory' }, { name: './opt/thing', content: 'file' }])) }, { name: 'pkg-b' });
    const r = await buildDebRoot([{ path: a }, { path: b }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
    expect(r.kind('/opt/thing')).to.equal('file');
    expect(r.warnings).to.deep.equal(['pkg-b: /opt/thing: a file replaces the directory of pkg-a (dpkg would refuse)']);
  });

  it('links to directories are followed as dpkg follows them (merged /usr), and kept; a link loop leaves the entry out, said', async function () {
    needCommand(this, 'ar');
    const tar = async (items: Parameters<typeof makeTar>[0]) => ({ name: 'data.tar.gz', bytes: gzipSync(await makeTar(items)) });
    const base = await makeDeb(join(dir, 'base.deb'), await tar([{ name: './usr/', type: 'directory' }, { name: './usr/lib/', type: 'directory' }, { name: './lib', type: 'symlink', linkname: 'usr/lib' }, { name: './a', type: 'symlink', linkname: 'b' }, { name: './b', type: 'symlink', linkname: '/a' }]), { name: 'base' });
    const lib = await makeDeb(join(dir, 'lib.deb'), await tar([{ name: './lib/', type: 'directory' }, { name: './lib/x86_64-linux-gnu/', type: 'directory' }, { name: './lib/x86_64-linux-gnu/libfoo.so.1', content: 'not really' }, { name: './a/x', content: 'x' }]), { name: 'libfoo' });
    const r = await buildDebRoot([{ path: base }, { path: lib }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
    expect(r.kind('/lib')).to.equal('symlink');
    expect(r.kind('/usr/lib/x86_64-linux-gnu/libfoo.so.1')).to.equal('file');
    expect(r.warnings).to.deep.equal(['libfoo: /a/x: left out: placed through a symlink or a file']);
    const list = readDpkgDb(new DbReader(r))!;
    expect(list.owners(new Set(['/usr/lib/x86_64-linux-gnu/libfoo.so.1'])).get('/usr/lib/x86_64-linux-gnu/libfoo.so.1')!.map((o) => o.pkg.name)).to.deep.equal(['libfoo']);
  });

  it('jq packed from the root runs in the engine', async function () {
    needEngine(this);
    const out = join(dir, 'jq.tar');
    const tag = `elfpack-test-debroot-jq:${process.pid}`;
    const result = await pack({ root, program: '/usr/bin/jq', out, tag });
    const files = result.files.map((f) => f.path);
    for (const want of [/^\/usr\/bin\/jq$/, /^\/usr\/lib\/x86_64-linux-gnu\/libjq\.so\.1/, /^\/usr\/lib\/x86_64-linux-gnu\/libonig\.so\.5/, /^\/lib\/x86_64-linux-gnu\/libc\.so\.6$/, /^\/var\/lib\/dpkg\/status\.d\/jq$/]) {
      expect(files.some((f) => want.test(f)), `${want} in ${files.join(' ')}`).to.equal(true);
    }
    try {
      expect(dockerLoad(out)).to.equal(tag);
      const r = dockerRun(tag, ['-c', '.a'], { input: '{"a":[1,"two"]}' });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.toString()).to.equal('[1,"two"]\n');
    } finally {
      dockerRmi(tag);
    }
    expect(readFileSync(out).length).to.be.greaterThan(0);
  });
});
