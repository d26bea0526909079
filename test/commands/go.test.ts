// elfpack go against the real toolchain, engine, skopeo and qemu: a stdlib-only server built for
// amd64 and arm64 into one image index; each platform read back and run; cgo; and the errors.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO, haveCommand, needCommand, runCli, skipOrFail } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, run, skopeoInspect } from '../support/engine.js';
import { PLAIN_REGISTRY, needRegistry } from '../support/registry.js';

const SERVER = join(REPO, 'testdata/programs/go/server');

/** go's environment: the fixtures' build cache (warm after make fixtures), nothing fetched. */
function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, GOCACHE: join(FIXTURES, '.gocache'), GOPATH: join(FIXTURES, '.gopath'), GOPROXY: 'off', GOFLAGS: '-mod=mod', ...extra };
}

function needQemu(ctx: Mocha.Context, name: string): void {
  const f = `/proc/sys/fs/binfmt_misc/qemu-${name}`;
  if (!existsSync(f) || !readFileSync(f, 'utf8').startsWith('enabled')) skipOrFail(ctx, `qemu-${name} is not registered with binfmt_misc (make deps does it as root)`);
}

describe('commands/go: static Go builds on scratch', function () {
  this.timeout(600_000);
  let dir: string;
  const tags = ['elfpack-test-go-multi:1', 'elfpack-test-go-arm64:1', 'elfpack-test-go-cgo:1'];
  before(function () {
    needCommand(this, 'go');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-go-'));
  });
  after(() => {
    for (const t of tags) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('amd64 + arm64 make one image index: skopeo reads each platform, docker load gets the host\'s, which runs; pushed, it keeps its digest; a rebuild is byte-identical', async function () {
    needEngine(this);
    needRegistry(this);
    const tar = join(dir, 'multi.tar');
    const args = ['go', SERVER, '--platform', 'linux/amd64,linux/arm64', '--tag', tags[0], '--cmd', '-version', '--json'];
    const sboms = join(dir, 'sboms');
    mkdirSync(sboms);
    const r = await runCli([...args, '--out', tar, '--sbom-out', sboms], { env: goEnv() });
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    // One attestation per platform, and its files named with the platform.
    expect(readdirSync(sboms).sort()).to.deep.equal(['elfpack-test-go-multi.linux-amd64.cdx.json', 'elfpack-test-go-multi.linux-amd64.spdx.json', 'elfpack-test-go-multi.linux-arm64-v8.cdx.json', 'elfpack-test-go-multi.linux-arm64-v8.spdx.json']);
    expect(JSON.parse(readFileSync(join(sboms, 'elfpack-test-go-multi.linux-arm64-v8.spdx.json'), 'utf8')).packages[0].versionInfo).to.equal(out.images[1].digest);
    expect(out.schema).to.equal('elfpack.go/v1');
    expect(out.images.map((i: { platform: object; linkage: string }) => [i.platform, i.linkage])).to.deep.equal([
      [{ os: 'linux', architecture: 'amd64' }, 'not a dynamic executable'],
      [{ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'not a dynamic executable'],
    ]);
    const raw = run('skopeo', ['inspect', '--raw', `oci-archive:${tar}`]).stdout;
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).to.equal(out.indexDigest);
    // The images, then each one's attestation manifest (BuildKit's order).
    const entries = JSON.parse(raw).manifests as { digest: string; annotations?: Record<string, string> }[];
    expect(entries.map((m) => m.digest)).to.deep.equal([...out.images.map((i: { digest: string }) => i.digest), ...out.images.map((i: { sbom: { attestation: string } }) => i.sbom.attestation)]);
    expect(entries.slice(2).map((m) => m.annotations?.['vnd.docker.reference.digest'])).to.deep.equal(out.images.map((i: { digest: string }) => i.digest));
    for (const arch of ['amd64', 'arm64']) {
      const i = JSON.parse(run('skopeo', ['inspect', '--override-arch', arch, `oci-archive:${tar}`]).stdout);
      expect(i.Architecture).to.equal(arch);
    }
    expect(skopeoInspect('docker-archive', tar).Architecture).to.equal('amd64');
    expect(dockerLoad(tar)).to.equal(tags[0]);
    const ran = dockerRun(tags[0]);
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, 'server linux/amd64\n']);
    // Pushed, the index keeps its digest, and the registry serves each platform.
    const ref = `${PLAIN_REGISTRY}/elfpack-test/server-${process.pid}:1`;
    const pushed = await runCli(['push', tar, ref], { env: { ...goEnv(), XDG_CACHE_HOME: join(dir, 'cache') } });
    expect([pushed.code, pushed.stdout], pushed.stderr).to.deep.equal([0, `${out.indexDigest}\n`]);
    const arm = JSON.parse(run('skopeo', ['inspect', '--tls-verify=false', '--override-arch', 'arm64', `docker://${ref}`]).stdout);
    expect(arm.Architecture).to.equal('arm64');
    const again = join(dir, 'again.tar');
    const r2 = await runCli([...args, '--out', again], { env: goEnv() });
    expect(JSON.parse(r2.stdout).indexDigest).to.equal(out.indexDigest);
    expect(readFileSync(again).equals(readFileSync(tar))).to.equal(true);
  });

  it('the arm64 image: its ELF header says AArch64, and it runs in the engine under qemu-user', async function () {
    needEngine(this);
    needQemu(this, 'aarch64');
    needCommand(this, 'readelf');
    const tar = join(dir, 'arm64.tar');
    const rootfs = join(dir, 'arm64-rootfs');
    const r = await runCli(['go', SERVER, '--platform', 'linux/arm64', '--tag', tags[1], '--cmd', '-version', '--out', tar, '--rootfs', rootfs], { env: goEnv() });
    expect(r.code, r.stderr).to.equal(0);
    expect(run('readelf', ['-h', join(rootfs, 'server')]).stdout).to.match(/Machine:\s+AArch64/);
    expect(dockerLoad(tar)).to.equal(tags[1]);
    const ran = dockerRun(tags[1]);
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, 'server linux/arm64\n']);
  });

  it('--cgo builds with cgo and packs the libraries the program needs; it runs', async function () {
    needEngine(this);
    const r = await runCli(['go', join(REPO, 'testdata/programs/go/gocgo'), '--cgo', '--load', '--tag', tags[2], '--bare'], { env: goEnv({ GO111MODULE: 'off', GOFLAGS: '' }), cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`loaded ${tags[2]} into the engine`);
    expect(r.stderr).to.not.include('not a dynamic executable');
    const ran = dockerRun(tags[2]);
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, 'hello from cgo, pid true\n']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tar'))).to.not.include('gocgo.tar');
  });

  it('the CA bundle goes in for a program that uses crypto/x509 (built -s -w, as elfpack go builds), and not for a hello', async function () {
    const env = goEnv({ GO111MODULE: 'off', GOFLAGS: '' });
    const tls = await runCli(['go', join(REPO, 'testdata/programs/go/gotls'), '--rootfs', join(dir, 'tls-rootfs'), '--json'], { env, cwd: dir });
    expect(tls.code, tls.stderr).to.equal(0);
    expect(JSON.parse(tls.stdout).images[0].added).to.satisfy((a: string[]) =>
      a.some((l) => /^\/etc\/ssl\/certs\/ca-certificates\.crt: the CA bundle, because the Go program \/gotls uses crypto\/x509 /.test(l)));
    expect(readFileSync(join(dir, 'tls-rootfs/etc/ssl/certs/ca-certificates.crt'), 'utf8')).to.match(/^-----BEGIN CERTIFICATE-----/);
    const hello = await runCli(['go', join(REPO, 'testdata/programs/go/gostatic'), '--rootfs', join(dir, 'hello-rootfs'), '--json'], { env, cwd: dir });
    expect(hello.code, hello.stderr).to.equal(0);
    expect(JSON.parse(hello.stdout).images[0].added.join('\n')).to.not.match(/CA bundle/);
    expect(existsSync(join(dir, 'hello-rootfs/etc/ssl'))).to.equal(false);
  });

  it('go --trace runs the build once in the sandbox and packs what it read: the system roots\' directory', async function () {
    for (const c of ['bwrap', 'strace']) if (!haveCommand(c)) skipOrFail(this, `${c} is not installed (make deps installs it)`);
    const env = goEnv({ GO111MODULE: 'off', GOFLAGS: '' });
    const r = await runCli(['go', join(REPO, 'testdata/programs/go/gotls'), '--trace', '--cmd', '-roots', '--rootfs', join(dir, 'tls-traced'), '--json'], { env, cwd: dir });
    expect(r.code, r.stderr).to.equal(0);
    const img = JSON.parse(r.stdout).images[0];
    expect(img.trace.runs).to.deep.equal([{ args: ['-roots'], exitCode: 0, signal: null, timedOut: false }]);
    expect(r.stderr).to.match(/^roots: \d{2,}$/m);
    // Go's crypto/x509 reads the bundle and lists /etc/ssl/certs: both are in the image now.
    expect(img.trace.paths).to.deep.include({ path: '/etc/ssl/certs/ca-certificates.crt', use: 'read', syscall: 'openat' });
    expect(existsSync(join(dir, 'tls-traced/etc/ssl/certs'))).to.equal(true);
    // The build directory under /tmp is the sandbox's: nothing of it is listed as used.
    expect(img.trace.paths.some((p: { path: string }) => p.path.startsWith('/tmp/'))).to.equal(false);
  });

  it('no toolchain, a build failure (with go\'s own output), a package that is not main, an unknown platform: one clear error, no file', async function () {
    const mod = (name: string, src: string) => {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'go.mod'), `module example.com/${name}\n\ngo 1.19\n`);
      writeFileSync(join(d, 'x.go'), src);
      return d;
    };
    const out = join(dir, 'never.tar');
    const noGo = await runCli(['go', SERVER, '--out', out], { env: goEnv({ PATH: '/nonexistent' }) });
    expect([noGo.code, noGo.stderr]).to.deep.equal([1, 'elfpack: no Go toolchain: "go" is not on PATH (install golang-go, or put go on PATH)\n']);
    const broken = await runCli(['go', mod('broken', 'package main\nfunc main() { undefinedThing() }\n'), '--out', out], { env: goEnv() });
    expect(broken.code).to.equal(1);
    expect(broken.stderr).to.match(/undefined: undefinedThing/);
    expect(broken.stderr).to.match(/go build failed for linux\/amd64 \(exit \d+\): .*undefined: undefinedThing/);
    const lib = mod('lib', 'package lib\nfunc F() {}\n');
    expect((await runCli(['go', lib, '--out', out], { env: goEnv() })).stderr).to.equal(`elfpack: ${lib}: is package lib, not main: there is no program to build\n`);
    const plat = await runCli(['go', SERVER, '--platform', 'linux/sparc99', '--out', out], { env: goEnv() });
    expect([plat.code, plat.stderr]).to.deep.equal([2, 'elfpack: --platform linux/sparc99: not a Linux platform this Go builds for (see go tool dist list)\n']);
    const cross = await runCli(['go', SERVER, '--platform', 'linux/arm64', '--cgo', '--out', out], { env: goEnv() });
    expect(cross.stderr).to.match(/--cgo builds for the host platform \(linux\/amd64\) only/);
    expect(existsSync(out)).to.equal(false);
  });
});
