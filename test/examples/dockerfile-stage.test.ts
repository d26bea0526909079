// elfpack as a stage of a Dockerfile, from its own image (`make image`): the examples under
// examples/ built offline by two real Dockerfile engines, Docker's classic builder and buildah.
// Their builders are made here as a user without a registry would: elfpack --trace of gcc and go
// compiling the example, which packs exactly what that compile reads.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { extract } from 'tar-stream';
import { createReadStream } from 'node:fs';
import { dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import { needCommand, skipOrFail } from '../support/helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');
const uniq = `${process.pid}`;

interface Entry { type: string; mode: number; uid: number; gid: number; size: number; linkname: string }

/** The files of an exported container (docker export), without what the engine adds to every container. */
async function exportedTree(image: string, dir: string): Promise<Map<string, Entry>> {
  const id = run('docker', ['create', image]).stdout.trim();
  const tar = join(dir, `${id}.tar`);
  try {
    const e = run('docker', ['export', '-o', tar, id]);
    if (e.status !== 0) throw new Error(`docker export: ${e.stderr}`);
  } finally {
    run('docker', ['rm', '-f', id]);
  }
  const tree = new Map<string, Entry>();
  const ex = extract();
  const done = new Promise<void>((ok, fail) => { ex.on('finish', ok); ex.on('error', fail); });
  ex.on('entry', (h, stream, next) => {
    const path = h.name.replace(/\/$/, '');
    if (!/^(\.dockerenv|etc\/(hosts|hostname|resolv\.conf|mtab)|dev(\/.*)?|proc|sys)$/.test(path)) {
      tree.set(path, { type: h.type ?? 'file', mode: (h.mode ?? 0) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0, linkname: h.linkname ?? '' });
    }
    stream.on('end', next);
    stream.resume();
  });
  createReadStream(tar).pipe(ex);
  await done;
  return tree;
}

describe('elfpack as a Dockerfile stage: examples/ built by the classic builder and by buildah, offline', function () {
  this.timeout(600_000);
  let dir: string;
  const images: string[] = [];
  const self = `elfpack-test-self-${uniq}`;
  const selfTar = () => join(dir, 'elfpack-image.tar');

  before(function () {
    needEngine(this);
    for (const c of ['buildah', 'gcc', 'go', 'bwrap', 'strace']) needCommand(this, c);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-stage-'));
    const made = run('make', ['--no-print-directory', '-C', REPO, 'image-pack', `IMAGE_NAME=${self}`, `IMAGE_TAR=${selfTar()}`, `IMAGE_DIR=${join(dir, 'stage')}`]);
    if (made.status !== 0) throw new Error(`make image-pack: ${made.stderr}`);
    images.push(`${self}:latest`, `${self}:${JSON.parse(run('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: REPO }).stdout)}`);
  });
  after(() => {
    for (const i of images.splice(0)) dockerRmi(i);
    run('buildah', ['rmi', '--all', '--force']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the image of elfpack runs elfpack: --version, and ldd of its own node; there is no shell in it', function () {
    const v = dockerRun(`${self}:latest`, ['--version']);
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout.toString()).to.match(/^\d+\.\d+\.\d+\n$/);
    const l = dockerRun(`${self}:latest`, ['ldd', realpathSync(process.execPath)]);
    expect(l.status, l.stderr).to.equal(0);
    expect(l.stdout.toString()).to.match(/\tlibc\.so\.6 => \/lib\/x86_64-linux-gnu\/libc\.so\.6\n/);
    expect(dockerRun(`${self}:latest`, [], { flags: ['--entrypoint', '/bin/sh'] }).status).to.not.equal(0);
  });

  it('the image carries gpgv, which runs, and Debian\'s archive keyring, against which it checks a real InRelease (what elfpack deb does first)', function () {
    const gpgv = (args: string[], input?: Buffer) => dockerRun(`${self}:latest`, args, { flags: ['--entrypoint', '/usr/bin/gpgv'], input });
    const v = gpgv(['--version']);
    expect(v.status, v.stderr).to.equal(0);
    expect(v.stdout.toString()).to.match(/^gpgv \(GnuPG\) \d/);
    // apt's copy of the suite's signed index, checked in the image with no network: the keyring is there and is Debian's.
    const inRelease = '/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease';
    if (!existsSync(inRelease)) skipOrFail(this, `${inRelease} is missing (apt-get update fetches it)`);
    const checked = gpgv(['--status-fd', '1', '--keyring', '/usr/share/keyrings/debian-archive-keyring.gpg'], readFileSync(inRelease));
    expect(checked.status, checked.stderr).to.equal(0);
    expect(checked.stdout.toString()).to.match(/^\[GNUPG:\] VALIDSIG /m);
  });

  it('make image is reproducible: packing it again gives the same tar, byte for byte', function () {
    const again = join(dir, 'again.tar');
    const made = run('make', ['--no-print-directory', '-C', REPO, 'image-pack', `IMAGE_NAME=${self}`, `IMAGE_TAR=${again}`, `IMAGE_DIR=${join(dir, 'stage2')}`]);
    expect(made.status, made.stderr).to.equal(0);
    const sha = (t: string) => createHash('sha256').update(readFileSync(t)).digest('hex');
    expect(sha(again)).to.equal(sha(selfTar()));
  });

  const examples = [
    {
      name: 'c-program', output: 'hello from glibc-dynamic\n', args: [] as string[],
      // gcc traced compiling the example: cc1, as, ld, the crt files, libc's headers and linker script.
      builder: (src: string) => ['/usr/bin/gcc', '--trace', '--trace-timeout', '120', '--workdir', src, '--trace-run', '-O2 -o /tmp/hello hello.c'],
    },
    {
      name: 'go-service', output: 'server linux/amd64\n', args: ['-version'],
      // go traced building the example with the Dockerfile's flags (-trimpath rebuilds the standard library).
      // Compiling the standard library takes a while on a busy machine: the trace waits for it.
      builder: (src: string) => ['/usr/bin/go', '--trace', '--trace-timeout', '600', '--workdir', src, '--trace-env', 'CGO_ENABLED=0', '--trace-env', 'GOCACHE=/tmp/gocache',
        '--trace-env', 'GOFLAGS=-buildvcs=false', '--trace-run', "build -trimpath '-ldflags=-s -w' -o /tmp/server ."],
    },
  ];

  for (const ex of examples) {
    it(`${ex.name}: docker build (classic) and buildah bud give images that run and hold the same files`, async function () {
      const builderTag = `elfpack-test-builder-${ex.name}:${uniq}`;
      const builderTar = join(dir, `builder-${ex.name}.tar`);
      // The traced compile reads the example from a copy under /var/tmp: the sandbox hides /tmp, /run
      // and the home directories, where a checkout may be (and the run must be able to read it).
      const src = mkdtempSync('/var/tmp/elfpack-stage-src-');
      let b;
      try {
        cpSync(join(REPO, 'examples', ex.name), src, { recursive: true });
        chmodSync(src, 0o755); // the traced run is uid 65534 when the tests run as root
        b = run(join(REPO, 'bin/elfpack'), [...ex.builder(src), '--tag', builderTag, '--out', builderTar, '--load', '--json']);
      } finally {
        rmSync(src, { recursive: true, force: true });
      }
      if (b.status !== 0) skipOrFail(this, `the traced ${ex.name} builder could not be made: ${b.stderr.trim().split('\n').pop()}`);
      // A compile that did not finish in the sandbox would make a builder that lacks what it did not reach.
      expect(JSON.parse(b.stdout).trace.runs.map((r: { exitCode: number; timedOut: boolean }) => [r.exitCode, r.timedOut]), b.stderr).to.deep.equal([[0, false]]);
      images.push(builderTag);
      const ctx = join(REPO, 'examples', ex.name);

      const viaDocker = `elfpack-test-example-${ex.name}:${uniq}`;
      const d = run('docker', ['build', '-q', '--network', 'none', '--build-arg', `BUILDER=${builderTag}`, '--build-arg', `ELFPACK=${self}:latest`, '-t', viaDocker, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
      expect(d.status, d.stderr + d.stdout).to.equal(0);
      images.push(viaDocker);
      const r1 = dockerRun(viaDocker, ex.args);
      expect([r1.status, r1.stdout.toString()], r1.stderr).to.deep.equal([0, ex.output]);

      // buildah takes the base images from docker-archive: tars, and hands its result back the same way.
      const viaBuildah = `elfpack-test-example-${ex.name}-buildah:${uniq}`;
      const bb = run('buildah', ['bud', '-q', '--pull=never', '--network', 'none', '--build-arg', `BUILDER=docker-archive:${builderTar}`, '--build-arg', `ELFPACK=docker-archive:${selfTar()}`, '-t', viaBuildah, ctx]);
      expect(bb.status, bb.stderr).to.equal(0);
      const out = join(dir, `${ex.name}-buildah.tar`);
      const p = run('buildah', ['push', '-q', viaBuildah, `docker-archive:${out}:${viaBuildah}`]);
      expect(p.status, p.stderr).to.equal(0);
      expect(run('docker', ['load', '-q', '-i', out]).status).to.equal(0);
      images.push(viaBuildah);
      const r2 = dockerRun(viaBuildah, ex.args);
      expect([r2.status, r2.stdout.toString()], r2.stderr).to.deep.equal([0, ex.output]);

      const [t1, t2] = [await exportedTree(viaDocker, dir), await exportedTree(viaBuildah, dir)];
      expect(t1.size).to.be.greaterThan(5);
      expect([...t2.entries()].sort()).to.deep.equal([...t1.entries()].sort());
      // What elfpack wrote: the program, the users; no shell, no compiler.
      expect([...t1.keys()]).to.include.members(['etc/passwd', ex.name === 'c-program' ? 'build/hello' : 'app/server']);
      expect([...t1.keys()].filter((k) => /(^|\/)(sh|bash|gcc|go)$/.test(k))).to.deep.equal([]);
    });
  }
});
