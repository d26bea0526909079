// elfpack go PATTERN: every main package a pattern names, each its own image named as ko names it
// (NAME:TAG, NAME the import path's last element), packed in parallel, in a stable order; pushed
// under REPO/NAME:TAG; a failure names its package and leaves the others' images whole.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO, needCommand, runCli } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import { PLAIN_REGISTRY, needRegistry } from '../support/registry.js';
import { startFaultProxy } from '../support/fault-proxy.js';

const MULTI = join(REPO, 'testdata/programs/go/multi');
const goEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GOCACHE: join(FIXTURES, '.gocache'), GOPATH: join(FIXTURES, '.gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod' });

describe('commands/go with a pattern: one image per main package', function () {
  this.timeout(300_000);
  let dir: string;
  const images: string[] = [];
  before(function () {
    needCommand(this, 'go');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-go-many-'));
  });
  after(() => {
    for (const i of images) dockerRmi(i);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('./cmd/... --out DIR: greet.tar and hello.tar (the library passed over), in go list\'s order, each running its own program', async function () {
    const out = join(dir, 'tars');
    mkdirSync(out);
    const r = await runCli(['go', './cmd/...', '--tag', 'v1', '--out', out, '--json'], { cwd: MULTI, env: goEnv() });
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schema).to.equal('elfpack.go-many/v1');
    expect(doc.programs.map((p: { tag: string; out: string }) => [p.tag, p.out])).to.deep.equal([['greet:v1', join(out, 'greet.tar')], ['hello:v1', join(out, 'hello.tar')]]);
    expect(doc.programs.every((p: { images: { digest: string }[] }) => /^sha256:[0-9a-f]{64}$/.test(p.images[0].digest))).to.equal(true);
    expect(readdirSync(out).sort()).to.deep.equal(['greet.tar', 'hello.tar']);
    needEngine(this);
    for (const name of ['greet', 'hello']) {
      images.push(dockerLoad(join(out, `${name}.tar`)));
      const ran = dockerRun(`${name}:v1`);
      expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, `hello from ${name}\n`]);
    }
  });

  it('--push REPO puts each under REPO/NAME:TAG; the engine pulls both back and runs them', async function () {
    needEngine(this);
    needRegistry(this);
    const repo = `${PLAIN_REGISTRY}/elfpack-test-gomany-${process.pid}`;
    const r = await runCli(['go', './cmd/...', '--tag', 't1', '--push', repo, '--json'], { cwd: MULTI, env: goEnv() });
    expect(r.code, r.stderr).to.equal(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.programs.map((p: { pushed: { ref: string } }) => p.pushed.ref)).to.deep.equal([`${repo}/greet:t1`, `${repo}/hello:t1`]);
    expect(readdirSync(MULTI).filter((f) => f.endsWith('.tar'))).to.deep.equal([]);
    for (const name of ['greet', 'hello']) {
      const ref = `${repo}/${name}:t1`;
      expect(run('docker', ['pull', '-q', ref]).status).to.equal(0);
      images.push(ref);
      expect(dockerRun(ref).stdout.toString()).to.equal(`hello from ${name}\n`);
    }
  });

  it('--cgo images of one root share their base layer: pushed in turns, the base is uploaded once and mounted by the next', async function () {
    needRegistry(this);
    const proxy = await startFaultProxy(PLAIN_REGISTRY);
    try {
      const repo = `${proxy.host}/elfpack-test-gomany-cgo-${process.pid}`;
      const r = await runCli(['go', './cgo/...', '--cgo', '--sbom', 'none', '--push', repo, '--json'], { cwd: MULTI, env: { ...goEnv(), XDG_CACHE_HOME: join(dir, 'cache') } });
      expect(r.code, r.stderr).to.equal(0);
      const [one, two] = JSON.parse(r.stdout).programs.map((p: { images: { layers: { kind: string; digest: string }[] }[] }) => p.images[0].layers);
      expect(one[0].kind).to.equal('base');
      expect(two[0].digest).to.equal(one[0].digest);
      const uploadsOf = (digest: string) => proxy.requests.filter((q) => q.method === 'PUT' && q.url.includes('/blobs/uploads/') && q.url.includes(encodeURIComponent(digest))).length;
      expect(uploadsOf(one[0].digest)).to.equal(1);
      // Each image has its repository (REPO/pidone, REPO/pidtwo): the second push mounts the base
      // from the first's (a cross-repository mount, 201), and uploads none of its bytes.
      const mounts = proxy.requests.filter((q) => q.method === 'POST' && q.url.includes(`mount=${encodeURIComponent(one[0].digest)}`));
      expect(mounts.map((q) => [q.status, new URL(q.url, 'http://x').searchParams.get('from')])).to.deep.equal([[201, `elfpack-test-gomany-cgo-${process.pid}/pidone`]]);
    } finally {
      await proxy.stop();
    }
  });

  it('a package that does not build is named, and the others\' tars are whole; nothing is left for it', async function () {
    const out = join(dir, 'broken');
    mkdirSync(out);
    const r = await runCli(['go', './broken/...', '--out', out], { cwd: MULTI, env: goEnv() });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/broken\/cmd\/oops.*go build failed/);
    expect(readdirSync(out)).to.deep.equal(['fine.tar']);
    expect(run('tar', ['tf', join(out, 'fine.tar')]).stdout).to.include('manifest.json');
  });

  it('what names one image is refused with a pattern, before any build: NAME:TAG, --as, --rootfs, --out that is no directory', async function () {
    const cases: [string[], RegExp][] = [
      [['--tag', 'x:1'], /--tag x:1: with several programs, --tag is the tag alone/],
      [['--as', '/app'], /--as names one program's path/],
      [['--rootfs', join(dir, 'fs')], /--rootfs writes one image's files/],
      [['--out', join(dir, 'nothing-here.tar')], /with several programs, --out is an existing directory/],
    ];
    for (const [flags, want] of cases) {
      const r = await runCli(['go', './cmd/...', ...flags], { cwd: MULTI, env: goEnv() });
      expect([r.code, r.stderr.trim().split('\n').length], r.stderr).to.deep.equal([2, 1]);
      expect(r.stderr).to.match(want);
    }
    const none = await runCli(['go', './internal/...'], { cwd: MULTI, env: goEnv() });
    expect(none.stderr).to.match(/names no main package/);
    expect(existsSync(join(dir, 'fs'))).to.equal(false);
  });
});
