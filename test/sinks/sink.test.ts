// The sinks' one sequence: a fixed order whatever order they are given in, each check once and
// before any writing, the image built once and only when a sink takes it (into the archive's
// file when there is one, else a temporary file gone at the end), and a failure that undoes the
// others' work only when the failing sink tried the image (--verify).
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, type ImageSpec } from '../../src/image/build-image.js';
import { FileTree } from '../../src/image/file-tree.js';
import { withDefaultPath } from '../../src/oci/config.js';
import type { BlobStore } from '../../src/oci/blob.js';
import type { Image } from '../../src/oci/image.js';
import { archiveSink } from '../../src/sinks/archive.js';
import { rootfsSink } from '../../src/sinks/rootfs-dir.js';
import { checkSinks, writeToSinks, type Sink, type SinkKind } from '../../src/sinks/sink.js';

function spec(): ImageSpec {
  const tree = new FileTree();
  tree.addFile('/app', { content: Buffer.from('#!x\n') }, 4, 0o755);
  return {
    config: { platform: { os: 'linux', architecture: 'amd64' }, entrypoint: ['/app'], cmd: [], env: withDefaultPath([]), workingDir: '/', user: '', ports: [], labels: {} },
    layers: [tree], history: { created: new Date(0), createdBy: 'test' }, mtime: 0,
  };
}

describe('sinks/sink: one sequence for every sink', () => {
  let dir: string;
  let log: string[];
  let builds: number;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-sink-'));
    log = [];
    builds = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const image = (trees = [spec().layers[0]]) => ({
    tag: 'x:1', trees,
    build: async (store: BlobStore) => {
      builds++;
      return buildImage(spec(), store);
    },
  });

  /** A sink that logs what happens to it, takes the image unless it writes files, and fails when told. */
  function fake(kind: SinkKind, o: { fail?: boolean; gate?: boolean; files?: boolean } = {}): Sink {
    return {
      kind,
      gate: o.gate,
      async check() { log.push(`check ${kind}`); },
      async write(input) {
        if (!o.files) {
          const img = await input.image() as Image;
          const region = 'region' in img.layers[0].content ? img.layers[0].content.region : undefined;
          log.push(`write ${kind}${region && existsSync(region.file) ? ' (layer readable)' : ''}`);
        } else log.push(`write ${kind}`);
        if (o.fail) throw new Error(`${kind} failed`);
        return {};
      },
      async discard() { log.push(`discard ${kind}`); },
    };
  }

  it('sinks run as rootfs, archive, engine, registry whatever the order given; each is checked once, all before any write', async () => {
    const sinks = [fake('registry'), fake('engine'), fake('rootfs', { files: true })];
    await checkSinks([sinks[1]]);
    await writeToSinks(image(), sinks);
    expect(log).to.deep.equal(['check engine', 'check rootfs', 'check registry', 'write rootfs', 'write engine (layer readable)', 'write registry (layer readable)']);
    expect(builds).to.equal(1);
  });

  it('a sink that writes files only never has the image built', async () => {
    const r = await writeToSinks(image(), [fake('rootfs', { files: true })]);
    expect(builds).to.equal(0);
    expect(r.image).to.equal(undefined);
  });

  it('without an archive the blobs go to a temporary file, removed at the end', async () => {
    const before = new Set(readdirSync(tmpdir()));
    let file = '';
    const peek: Sink = { kind: 'engine', async write(input) {
      const img = await input.image() as Image;
      file = 'region' in img.layers[0].content ? img.layers[0].content.region.file : '';
      log.push(existsSync(file) ? 'there' : 'missing');
      return {};
    } };
    await writeToSinks(image(), [peek]);
    expect(log).to.deep.equal(['there']);
    expect(existsSync(file)).to.equal(false);
    expect(readdirSync(tmpdir()).filter((n) => !before.has(n) && n.includes('elfpack-image'))).to.deep.equal([]);
  });

  it('with an archive the layer is built into its file, which the later sinks read', async () => {
    const out = join(dir, 'img.tar');
    const r = await writeToSinks(image(), [fake('registry'), archiveSink(out)]);
    const img = r.image as Image;
    expect(r.report.out).to.equal(out);
    expect('region' in img.layers[0].content && img.layers[0].content.region.file).to.equal(out);
    expect(log).to.deep.equal(['check registry', 'write registry (layer readable)']);
    expect(readdirSync(dir)).to.deep.equal(['img.tar']);
  });

  it('a failing gate (--verify) undoes the archive and the rootfs; a failing push keeps them', async () => {
    const out = join(dir, 'img.tar');
    const fs = join(dir, 'fs');
    let err: unknown;
    await writeToSinks(image(), [fake('engine', { gate: true, fail: true }), archiveSink(out), rootfsSink(fs)]).catch((e) => { err = e; });
    expect((err as Error).message).to.equal('engine failed');
    expect(readdirSync(dir)).to.deep.equal([]);
    await writeToSinks(image(), [fake('registry', { fail: true }), archiveSink(out), rootfsSink(fs)]).catch((e) => { err = e; });
    expect((err as Error).message).to.equal('registry failed');
    expect(readdirSync(dir).sort()).to.deep.equal(['fs', 'img.tar']);
  });

  it('an archive that cannot be written leaves no temporary file, and the sinks after it do not run', async () => {
    let err: unknown;
    await writeToSinks(image(), [archiveSink(join(dir, 'no/such/img.tar')), fake('registry')]).catch((e) => { err = e; });
    expect((err as Error).message).to.match(/cannot write here: no such directory/);
    expect(log).to.deep.equal(['check registry']);
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});
