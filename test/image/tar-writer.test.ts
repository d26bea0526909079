// The layer tar: deterministic bytes (pinned digest), entries sorted parents first, uid/gid 0,
// one mtime, modes kept, files streamed from a root; GNU tar reads it back the same.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTree, comparePaths } from '../../src/image/file-tree.js';
import { writeLayer } from '../../src/image/tar-writer.js';
import { HostRoot } from '../../src/root/host-root.js';
import { createHash } from 'node:crypto';

function sampleTree(root: HostRoot): FileTree {
  const t = new FileTree();
  t.addFile('/usr/lib/libz.so.1.2', { root, path: '/lib.bin' }, 3000, 0o755);
  t.addSymlink('/usr/lib/libz.so.1', 'libz.so.1.2');
  t.addFile('/etc/passwd', { content: Buffer.from('root:x:0:0::/:/x\n') }, 17, 0o644);
  t.addDir('/tmp', 0o1777);
  t.addDir('/home/nonroot', 0o700, 65532);
  t.addSymlink('/lib', 'usr/lib');
  return t;
}

describe('tar-writer: the layer', () => {
  let dir: string;
  let root: HostRoot;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-layer-'));
    mkdirSync(join(dir, 'r'));
    writeFileSync(join(dir, 'r/lib.bin'), Buffer.alloc(3000, 7));
    root = new HostRoot(join(dir, 'r'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function write(name: string, mtime = 0) {
    const path = join(dir, name);
    const chunks: Buffer[] = [];
    const info = await writeLayer(sampleTree(root), (b) => { chunks.push(Buffer.from(b)); }, { mtime });
    writeFileSync(path, Buffer.concat(chunks));
    return { path, info };
  }

  it('has a pinned digest: the same tree always gives the same bytes', async () => {
    const { path, info } = await write('a.tar');
    const bytes = readFileSync(path);
    expect(info.size).to.equal(bytes.length);
    expect(info.digest).to.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    expect(info.digest).to.equal('sha256:7a859a409052196374e25d5c462f871d31819376625ff8651d17cb8ed0164e2c');
  });

  it('is listed by GNU tar: parents first, uid/gid 0 (nonroot home 65532), mtime fixed, modes kept', async () => {
    const { path } = await write('b.tar', 1700000000);
    const list = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', path], { encoding: 'utf8', env: { TZ: 'UTC' } }).trim().split('\n');
    const rows = list.map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[5])).to.deep.equal(['etc/', 'etc/passwd', 'home/', 'home/nonroot/', 'lib', 'tmp/', 'usr/', 'usr/lib/', 'usr/lib/libz.so.1', 'usr/lib/libz.so.1.2']);
    expect(rows.map((r) => r[0])).to.deep.equal(['drwxr-xr-x', '-rw-r--r--', 'drwxr-xr-x', 'drwx------', 'lrwxrwxrwx', 'drwxrwxrwt', 'drwxr-xr-x', 'drwxr-xr-x', 'lrwxrwxrwx', '-rwxr-xr-x']);
    expect(rows.map((r) => r[1])).to.deep.equal(rows.map((r) => (r[5] === 'home/nonroot/' ? '65532/65532' : '0/0')));
    expect(new Set(rows.map((r) => `${r[3]} ${r[4]}`))).to.deep.equal(new Set(['2023-11-14 22:13:20']));
    expect(list[4]).to.match(/lib -> usr\/lib$/);
  });

  it('orders paths component by component', () => {
    expect(['/a-b', '/a/b', '/a', '/'].sort(comparePaths)).to.deep.equal(['/', '/a', '/a/b', '/a-b']);
  });

  it('writes names past 100 bytes (ustar prefix) and past 255 (pax), and GNU tar reads them back', async () => {
    const t = new FileTree();
    const long = `/${'d'.repeat(90)}/${'e'.repeat(90)}/f`;
    const longer = `/${'g'.repeat(200)}/${'h'.repeat(120)}`;
    t.addFile(long, { content: Buffer.from('1') }, 1, 0o644);
    t.addSymlink(longer, `/${'t'.repeat(150)}`);
    const chunks: Buffer[] = [];
    await writeLayer(t, (b) => { chunks.push(Buffer.from(b)); });
    writeFileSync(join(dir, 'long.tar'), Buffer.concat(chunks));
    const names = execFileSync('tar', ['-tf', join(dir, 'long.tar')], { encoding: 'utf8' }).trim().split('\n');
    expect(names).to.include(long.slice(1)).and.include(longer.slice(1));
    const verbose = execFileSync('tar', ['-tvf', join(dir, 'long.tar')], { encoding: 'utf8' });
    expect(verbose).to.include(`-> /${'t'.repeat(150)}`);
  });

  it('refuses a file that changed size since it was chosen', async () => {
    const t = new FileTree();
    t.addFile('/x', { root, path: '/lib.bin' }, 10, 0o644);
    let err: Error | undefined;
    await writeLayer(t, () => undefined).catch((e: Error) => { err = e; });
    expect(err?.message).to.match(/changed size/);
  });
});
