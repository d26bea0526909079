// readDeb and debEntries against dpkg-deb on real packages (xz as Debian ships them; gzip, zstd
// and none as dpkg-deb -Z rebuilds them), and hostile .debs refused with one line.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { debEntries, readDeb, unpackDebData, type DebFile } from '../../src/deb/deb-file.js';
import type { DebEntry } from '../../src/deb/deb-entry.js';
import { ElfpackError } from '../../src/errors.js';
import { formatDeb822 } from '../../src/root/deb822.js';
import { CONTROL, downloadDebs, makeDeb, makeTar, removeDownloadedDebs } from '../support/debs.js';
import { needCommand } from '../support/helpers.js';

const REAL = ['jq', 'libjq1', 'libonig5', 'libc6'];

/** dpkg-deb -c's line for an entry: "-rwxr-xr-x root/root 30800 DATE TIME ./usr/bin/jq". */
function lsLine(e: DebEntry): string {
  const t = { file: '-', dir: 'd', symlink: 'l', hardlink: 'h', char: 'c', block: 'b', fifo: 'p' }[e.type];
  const bits = 'rwxrwxrwx'.split('').map((c, i) => (e.mode & (0o400 >> i) ? c : '-'));
  if (e.mode & 0o4000) bits[2] = bits[2] === 'x' ? 's' : 'S';
  if (e.mode & 0o2000) bits[5] = bits[5] === 'x' ? 's' : 'S';
  if (e.mode & 0o1000) bits[8] = bits[8] === 'x' ? 't' : 'T';
  const name = e.path === '/' ? './' : `.${e.path}${e.type === 'dir' ? '/' : ''}`;
  const tail = e.type === 'symlink' ? ` -> ${e.target}` : e.type === 'hardlink' ? ` link to .${e.target}` : '';
  return `${t}${bits.join('')} ${e.size} ${name}${tail}`;
}

/** dpkg-deb -c without owners (root/root in every package here, checked apart) and dates. */
function dpkgList(deb: string): string[] {
  return execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }).trimEnd().split('\n').map((l) => {
    const m = /^(\S{10}) (\S+)\s+(\d+) \S+ \S+ (.*)$/.exec(l)!;
    expect(m[2], l).to.equal('root/root');
    return `${m[1]} ${m[3]} ${m[4]}`;
  });
}

async function entriesOf(deb: DebFile): Promise<{ entries: DebEntry[]; contents: Map<string, Buffer> }> {
  const entries: DebEntry[] = [];
  const contents = new Map<string, Buffer>();
  for await (const { entry, content } of debEntries(deb)) {
    entries.push(entry);
    if (entry.type !== 'file' || entry.size > 1 << 20) continue;
    const chunks: Buffer[] = [];
    for await (const c of content) chunks.push(c as Buffer);
    contents.set(entry.path, Buffer.concat(chunks));
  }
  return { entries, contents };
}

async function refused(path: string, fn: (p: string) => Promise<unknown>): Promise<ElfpackError> {
  try {
    await fn(path);
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(ElfpackError);
    const line = (err as ElfpackError).describe();
    expect(line).to.not.include('\n');
    expect(line.startsWith(path), line).to.equal(true);
    return err as ElfpackError;
  }
  throw new Error(`${path}: not refused`);
}

describe('deb/deb-file: real packages, as dpkg-deb reads them', function () {
  this.timeout(180_000);
  let debs: Record<string, string>;
  let dir: string;
  before(function () {
    needCommand(this, 'dpkg-deb');
    debs = downloadDebs(this, REAL);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-debfile-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    removeDownloadedDebs();
  });

  it('the control fields are what dpkg-deb -f prints, and md5sums, conffiles and scripts what dpkg-deb -e extracts', async () => {
    for (const name of REAL) {
      const deb = await readDeb(debs[name]);
      expect(deb.name).to.equal(name);
      expect(formatDeb822(deb.control.paragraph).trimEnd()).to.equal(execFileSync('dpkg-deb', ['-f', debs[name]], { encoding: 'utf8' }).trimEnd());
      const ex = join(dir, `ctl-${name}`);
      execFileSync('dpkg-deb', ['-e', debs[name], ex]);
      const files = execFileSync('ls', [ex], { encoding: 'utf8' }).trim().split('\n').sort();
      expect([...deb.control.files.keys()].sort()).to.deep.equal(files);
      if (files.includes('md5sums')) expect(deb.control.md5sums).to.equal(readFileSync(join(ex, 'md5sums'), 'utf8'));
      expect(deb.control.scripts).to.deep.equal(['preinst', 'postinst', 'prerm', 'postrm', 'config'].filter((s) => files.includes(s)));
      if (files.includes('conffiles')) expect(deb.control.conffiles).to.deep.equal(readFileSync(join(ex, 'conffiles'), 'utf8').trim().split('\n'));
    }
  });

  it('data.tar\'s entries (paths, types, modes, sizes, link targets, in order) are what dpkg-deb -c lists, and contents what dpkg-deb -x writes', async () => {
    for (const name of REAL) {
      const deb = await readDeb(debs[name]);
      expect(deb.dataCompression).to.equal('xz');
      const { entries, contents } = await entriesOf(deb);
      expect(entries.map(lsLine)).to.deep.equal(dpkgList(debs[name]));
      const x = join(dir, `x-${name}`);
      execFileSync('dpkg-deb', ['-x', debs[name], x]);
      for (const [p, bytes] of contents) expect(bytes.equals(readFileSync(join(x, p))), p).to.equal(true);
    }
  });

  it('gzip, zstd and uncompressed members (rebuilt with dpkg-deb -Z) read the same as xz', async function () {
    const ref = await entriesOf(await readDeb(debs.jq));
    const tree = join(dir, 'jq-tree');
    execFileSync('dpkg-deb', ['-R', debs.jq, tree]);
    for (const z of ['gzip', 'zstd', 'none'] as const) {
      const out = join(dir, `jq-${z}.deb`);
      const r = spawnSync('dpkg-deb', ['--root-owner-group', `-Z${z}`, '-b', tree, out], { encoding: 'utf8' });
      if (r.status !== 0 && z === 'zstd') {
        console.log(`      (dpkg-deb here cannot write zstd: ${r.stderr.trim()})`);
        continue;
      }
      expect(r.status, r.stderr).to.equal(0);
      const deb = await readDeb(out);
      expect(deb.dataCompression).to.equal(z);
      const got = await entriesOf(deb);
      expect(got.entries.map(lsLine)).to.deep.equal(dpkgList(out));
      expect(got.entries.filter((e) => e.type !== 'dir').map(lsLine)).to.deep.equal(ref.entries.filter((e) => e.type !== 'dir').map(lsLine));
      expect(got.contents.get('/usr/bin/jq')!.equals(ref.contents.get('/usr/bin/jq')!)).to.equal(true);
    }
  });

  it('a reader that stops early closes the stream and frees the xz decoder: the next read goes on', async () => {
    for (let i = 0; i < 3; i++) {
      for await (const e of debEntries(await readDeb(debs.libc6))) if (e.entry.type === 'file') break;
    }
    const { entries } = await entriesOf(await readDeb(debs.jq));
    expect(entries.map((e) => e.path)).to.include('/usr/bin/jq');
  });

  it('unpackDebData keeps the plain data.tar once under its digest and lists the same entries', async () => {
    const deb = await readDeb(debs.libonig5);
    const cache = join(dir, 'cache');
    const a = await unpackDebData(deb, cache);
    const b = await unpackDebData(deb, cache);
    expect(b.tar).to.deep.equal(a.tar);
    expect(a.tar.file).to.match(/\/deb-data\/sha256-[0-9a-f]{64}\.tar$/);
    expect(a.entries.map(lsLine)).to.deep.equal(dpkgList(debs.libonig5));
    expect(readFileSync(a.tar.file).equals(execFileSync('sh', ['-c', 'ar p "$1" data.tar.xz | xz -dc', 'sh', debs.libonig5], { maxBuffer: 64 << 20 }))).to.equal(true);
  });
});

describe('deb/deb-file: hostile .debs are refused with one line naming the file', function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    needCommand(this, 'ar');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-hostile-deb-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const dataTar = async (items: Parameters<typeof makeTar>[0]) => ({ name: 'data.tar.gz', bytes: gzipSync(await makeTar(items)) });
  const unpack = async (p: string) => unpackDebData(await readDeb(p), join(dir, 'cache'));
  const stream = async (p: string) => {
    for await (const e of debEntries(await readDeb(p))) void e;
  };

  it('a "../" path', async () => {
    const p = await makeDeb(join(dir, 'dotdot.deb'), await dataTar([{ name: './usr/', type: 'directory' }, { name: './usr/../../etc/cron.d/evil', content: 'x' }]));
    for (const read of [unpack, stream]) expect((await refused(p, read)).describe()).to.match(/a path with "\.\."/);
  });

  it('an absolute name', async () => {
    const p = await makeDeb(join(dir, 'absolute.deb'), await dataTar([{ name: '/etc/passwd', content: 'root::0:0::/:/bin/sh\n' }]));
    expect((await refused(p, unpack)).describe()).to.match(/an absolute path: \/etc\/passwd/);
  });

  it('symbolic links that point out of the root, relative or absolute', async () => {
    const rel = await makeDeb(join(dir, 'link-out.deb'), await dataTar([{ name: './usr/lib/x', type: 'symlink', linkname: '../../../../etc/shadow' }]));
    expect((await refused(rel, unpack)).describe()).to.match(/a symbolic link out of the root \(to \.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow\)/);
    const abs = await makeDeb(join(dir, 'abs-link-out.deb'), await dataTar([{ name: './usr/lib/y', type: 'symlink', linkname: '/../../etc/shadow' }]));
    expect((await refused(abs, unpack)).describe()).to.match(/a symbolic link out of the root/);
    // An absolute link is a path of the root: kept.
    const ok = await makeDeb(join(dir, 'abs-link-in.deb'), await dataTar([{ name: './usr/bin/awk', type: 'symlink', linkname: '/etc/alternatives/awk' }]));
    expect((await unpack(ok)).entries.map((e) => e.target)).to.deep.equal(['/etc/alternatives/awk']);
  });

  it('a data.tar bomb (more bytes than its Installed-Size can explain)', async () => {
    // 128 MiB of zeros in 128 KiB of gzip; the control file says 1 KiB.
    const zeros = Buffer.alloc(128 << 20);
    const tar = await makeTar([{ name: './usr/share/bomb', content: zeros }]);
    const p = await makeDeb(join(dir, 'bomb.deb'), { name: 'data.tar.gz', bytes: gzipSync(tar, { level: 1 }) });
    const e = await refused(p, unpack);
    expect(e.code).to.equal('DEB_LIMIT');
    expect(e.describe()).to.match(/data\.tar\.gz: unpacks to more than \d+ bytes: refused/);
    expect(execFileSync('ls', [join(dir, 'cache', 'deb-data')], { encoding: 'utf8' })).to.not.include('.elfpack-tmp');
  });

  it('a truncated member, a truncated xz stream, a damaged tar, a wrong format version', async () => {
    const good = await makeDeb(join(dir, 'good.deb'), await dataTar([{ name: './usr/bin/x', content: 'x'.repeat(5000) }]));
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.deb');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
    expect((await refused(cut, readDeb)).describe()).to.match(/truncated/);
    const xz = execFileSync('xz', ['-c'], { input: await makeTar([{ name: './usr/bin/x', content: Buffer.alloc(200_000, 7) }]) });
    const cutXz = await makeDeb(join(dir, 'cut-xz.deb'), { name: 'data.tar.xz', bytes: xz.subarray(0, xz.length - 30) });
    expect((await refused(cutXz, unpack)).describe()).to.match(/data\.tar\.xz: the xz stream is (truncated|damaged)/);
    const notTar = await makeDeb(join(dir, 'not-tar.deb'), { name: 'data.tar.gz', bytes: gzipSync(Buffer.alloc(2048, 0x41)) });
    expect((await refused(notTar, unpack)).describe()).to.match(/data\.tar\.gz: not a readable tar/);
    const v3 = await makeDeb(join(dir, 'v3.deb'), await dataTar([]), { binary: '3.0\n' });
    expect((await refused(v3, readDeb)).code).to.equal('DEB_UNSUPPORTED');
  });
});
