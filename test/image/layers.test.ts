// The layer split: a base shared by programs of one root, libraries by package or directory, the
// top; every file in one layer, parents in each, the count capped, one layer on request.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { FileTree, type TreeEntry } from '../../src/image/file-tree.js';
import { DEFAULT_MAX_LAYERS, MIN_GROUP_BYTES, parseLayers, splitLayers, type ImageLayer, type LayerFacts } from '../../src/image/layers.js';
import { writeLayer } from '../../src/image/tar-writer.js';
import { planPack, type PackOptions } from '../../src/commands/pack.js';
import { HostRoot } from '../../src/root/host-root.js';
import { ElfpackError } from '../../src/errors.js';
import { skipOrFail } from '../support/helpers.js';

const LIB = '/usr/lib/x86_64-linux-gnu';
const bytes = (n: number) => Buffer.alloc(n, 1);

/** A merged-/usr image: loader and libc behind links, libraries of three packages, the program and extras. */
function sampleTree(): { tree: FileTree; facts: LayerFacts } {
  const t = new FileTree();
  t.addSymlink('/lib', 'usr/lib');
  t.addSymlink('/lib64', 'usr/lib64');
  t.addSymlink('/usr/lib64/ld-linux-x86-64.so.2', `/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2`);
  t.addFile(`${LIB}/ld-linux-x86-64.so.2`, { content: bytes(1000) }, 1000, 0o755);
  t.addFile(`${LIB}/libc.so.6`, { content: bytes(2000) }, 2000, 0o755);
  t.addFile(`${LIB}/libssl.so.3`, { content: bytes(MIN_GROUP_BYTES) }, MIN_GROUP_BYTES, 0o644);
  t.addFile(`${LIB}/libcrypto.so.3`, { content: bytes(MIN_GROUP_BYTES * 2) }, MIN_GROUP_BYTES * 2, 0o644);
  t.addFile(`${LIB}/libz.so.1.2.13`, { content: bytes(100) }, 100, 0o644);
  t.addSymlink(`${LIB}/libz.so.1`, 'libz.so.1.2.13');
  t.addFile('/opt/vendor/lib/libv.so', { content: bytes(300) }, 300, 0o644);
  t.addFile('/usr/bin/prog', { content: bytes(50) }, 50, 0o755);
  t.addSymlink('/usr/bin/prog-link', 'prog');
  t.addFile('/etc/passwd', { content: bytes(10) }, 10, 0o644);
  t.addDir('/tmp', 0o1777);
  t.addDir('/home/nonroot', 0o700, 65532);
  t.addDir('/usr/share/doc', 0o750); // a mode the parent copies must keep
  t.addFile('/usr/share/doc/libssl3/copyright', { content: bytes(5) }, 5, 0o644);
  const owners: Record<string, string> = {
    [`${LIB}/libssl.so.3`]: 'libssl3', [`${LIB}/libcrypto.so.3`]: 'libssl3', [`${LIB}/libz.so.1.2.13`]: 'zlib1g', [`${LIB}/libc.so.6`]: 'libc6',
  };
  return {
    tree: t,
    facts: {
      base: [`${LIB}/ld-linux-x86-64.so.2`, '/lib64', '/usr/lib64/ld-linux-x86-64.so.2', `${LIB}/libc.so.6`, '/lib'],
      libraries: [`${LIB}/libssl.so.3`, `${LIB}/libcrypto.so.3`, `${LIB}/libz.so.1.2.13`, '/opt/vendor/lib/libv.so', `${LIB}/libc.so.6`],
      ownerOf: (p) => owners[p],
    },
  };
}

const nonDirs = (t: FileTree) => t.sorted().filter((e) => e.type !== 'dir').map((e) => e.path);

/** The layers applied in order, as overlayfs or an unpack does: later entries replace earlier ones. */
function merge(layers: ImageLayer[]): Map<string, TreeEntry> {
  const m = new Map<string, TreeEntry>();
  for (const l of layers) for (const e of l.tree.sorted()) m.set(e.path, e);
  return m;
}

async function digestOf(tree: FileTree): Promise<string> {
  return (await writeLayer(tree, () => undefined)).digest;
}

describe('image/layers: the split into layers images share', () => {
  it('every file and link is in exactly one layer, and the layers merge into the whole tree', () => {
    const { tree, facts } = sampleTree();
    const layers = splitLayers(tree, facts);
    const all = layers.flatMap((l) => nonDirs(l.tree));
    expect(all).to.have.members(nonDirs(tree));
    expect(new Set(all).size).to.equal(all.length);
    const merged = merge(layers);
    expect([...merged.keys()].sort()).to.deep.equal(tree.sorted().map((e) => e.path).sort());
    for (const e of tree.sorted()) expect(merged.get(e.path), e.path).to.deep.equal(e);
  });

  it('base, then the libraries by owning package (largest first, small ones together), then the program', () => {
    const { tree, facts } = sampleTree();
    const layers = splitLayers(tree, facts);
    expect(layers.map((l) => [l.kind, l.holds])).to.deep.equal([
      ['base', ['base']], ['libraries', ['libssl3']], ['libraries', ['/opt/vendor/lib/', 'zlib1g']], ['program', ['program']],
    ]);
    expect(nonDirs(layers[0].tree)).to.deep.equal(['/lib', '/lib64', `${LIB}/ld-linux-x86-64.so.2`, `${LIB}/libc.so.6`, '/usr/lib64/ld-linux-x86-64.so.2']);
    // A link goes with the file it leads to; the package's copyright is metadata, in the top.
    expect(nonDirs(layers[2].tree)).to.deep.equal(['/opt/vendor/lib/libv.so', `${LIB}/libz.so.1`, `${LIB}/libz.so.1.2.13`]);
    expect(nonDirs(layers[3].tree)).to.include.members(['/usr/bin/prog', '/usr/bin/prog-link', '/etc/passwd', '/usr/share/doc/libssl3/copyright']);
    expect(layers.map((l) => [l.files, l.bytes])).to.deep.equal([[5, 3000], [2, MIN_GROUP_BYTES * 3], [3, 400], [4, 65]]);
  });

  it('each layer has the parents of its entries with the whole tree\'s modes; empty directories go in the top', () => {
    const { tree, facts } = sampleTree();
    const layers = splitLayers(tree, facts);
    const top = layers[layers.length - 1].tree;
    expect(top.get('/usr/share/doc')).to.deep.include({ type: 'dir', mode: 0o750 });
    expect(top.get('/tmp')).to.deep.include({ type: 'dir', mode: 0o1777 });
    expect(top.get('/home/nonroot')).to.deep.include({ type: 'dir', mode: 0o700, uid: 65532 });
    expect(layers[0].tree.get('/tmp')).to.equal(undefined);
    for (const l of layers) for (const p of nonDirs(l.tree)) expect(l.tree.get(p.slice(0, p.lastIndexOf('/')) || '/')?.type, p).to.equal('dir');
  });

  it('without a package model the libraries are grouped by directory', () => {
    const { tree, facts } = sampleTree();
    const layers = splitLayers(tree, { ...facts, ownerOf: undefined });
    expect(layers.map((l) => l.holds)).to.deep.equal([['base'], [`${LIB}/`], ['/opt/vendor/lib/'], ['program']]);
  });

  it('the cap is respected: past it the smallest groups join the other libraries; at 2 layers the libraries go in the top', () => {
    const t = new FileTree();
    const libraries: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = `/usr/lib/l${String(i).padStart(2, '0')}/lib.so`;
      t.addFile(p, { content: Buffer.alloc(0) }, MIN_GROUP_BYTES + i, 0o644);
      libraries.push(p);
    }
    t.addFile('/lib/ld.so', { content: bytes(1) }, 1, 0o755);
    t.addFile('/bin/p', { content: bytes(1) }, 1, 0o755);
    const facts = { base: ['/lib/ld.so'], libraries };
    const auto = splitLayers(t, facts);
    expect(auto).to.have.length(DEFAULT_MAX_LAYERS);
    expect(auto[1].holds).to.deep.equal(['/usr/lib/l39/']); // the largest first
    expect(auto[DEFAULT_MAX_LAYERS - 2].holds).to.have.length(40 - (DEFAULT_MAX_LAYERS - 3));
    for (const n of [2, 3, 4, 7]) {
      const layers = splitLayers(t, facts, n);
      expect(layers, `${n}`).to.have.length(n);
      expect(layers.flatMap((l) => nonDirs(l.tree))).to.have.length(42);
    }
    expect(splitLayers(t, facts, 2).map((l) => l.kind)).to.deep.equal(['base', 'program']);
    expect(splitLayers(t, facts, 3).map((l) => l.kind)).to.deep.equal(['base', 'libraries', 'program']);
  });

  it('--layers 1 is the tree itself, as one layer; so is a static program with nothing to share', () => {
    const { tree, facts } = sampleTree();
    const one = splitLayers(tree, facts, 1);
    expect(one).to.have.length(1);
    expect(one[0].tree).to.equal(tree);
    const t = new FileTree();
    t.addFile('/app', { content: bytes(3) }, 3, 0o755);
    const alone = splitLayers(t, { base: [], libraries: [] });
    expect(alone.map((l) => [l.kind, l.files])).to.deep.equal([['all', 1]]);
    expect(alone[0].tree).to.equal(t);
  });

  it('layer bytes are deterministic: the same split twice gives the same digests', async () => {
    const a = splitLayers(sampleTree().tree, sampleTree().facts);
    const b = splitLayers(sampleTree().tree, sampleTree().facts);
    for (let i = 0; i < a.length; i++) expect(await digestOf(a[i].tree)).to.equal(await digestOf(b[i].tree));
  });

  it('--layers takes auto or 1 to 127; anything else is a one-line usage error', () => {
    expect(parseLayers('auto')).to.equal(DEFAULT_MAX_LAYERS);
    expect(parseLayers('1')).to.equal(1);
    expect(parseLayers('127')).to.equal(127);
    for (const bad of ['0', '128', '-1', '2.5', 'many', '', '0x10']) {
      expect(() => parseLayers(bad), bad).to.throw(ElfpackError, /^--layers .*: want auto, or a number of layers from 1 to 127$/);
    }
  });
});

describe('image/layers: programs of the host root', () => {
  const host = new HostRoot('/');
  const plan = (program: string, more: Partial<PackOptions> = {}) => planPack({ root: host, program, ...more });

  before(function () {
    for (const p of ['/usr/bin/jq', '/usr/bin/curl']) if (!existsSync(p)) skipOrFail(this, `${p} is not installed (test/setup/install-deps.sh installs it)`);
  });

  it('jq and curl have the same base, byte for byte: the loader and libc with the links on their paths', async () => {
    const jq = plan('/usr/bin/jq');
    const curl = plan('/usr/bin/curl');
    expect(jq.layers[0].kind).to.equal('base');
    expect(nonDirs(jq.layers[0].tree)).to.include.members(['/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2']);
    expect(await digestOf(jq.layers[0].tree)).to.equal(await digestOf(curl.layers[0].tree));
    // No package metadata and no extras in it: they depend on the program.
    expect(nonDirs(jq.layers[0].tree).filter((p) => p.startsWith('/etc') || p.startsWith('/var') || p.includes('/doc/'))).to.deep.equal([]);
    expect(jq.layers.map((l) => l.holds.join(','))).to.include.members(['libjq1', 'libonig5']);
    const all = jq.layers.flatMap((l) => nonDirs(l.tree));
    expect(all).to.have.members(nonDirs(jq.tree));
    expect(jq.result.layers.map((l) => l.kind)).to.deep.equal(jq.layers.map((l) => l.kind));
  });

  it('layers: 1 keeps one layer, the plan\'s tree; without package metadata libraries are grouped by directory', () => {
    const one = plan('/usr/bin/jq', { layers: 1 });
    expect(one.layers).to.have.length(1);
    expect(one.layers[0].tree).to.equal(one.tree);
    const dirs = plan('/usr/bin/jq', { packageMetadata: false });
    expect(dirs.layers.map((l) => l.holds)).to.deep.equal([['base'], ['/usr/lib/x86_64-linux-gnu/'], ['program']]);
  });
});
