// elfpack doctor against the real engine: one broken image per finding, each first proven broken
// by running it (the engine's own error is checked), then diagnosed from the engine, from a
// `docker save` tar and from a directory; and the fixed image, which doctor passes and which runs.
import { expect } from 'chai';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fixture, runCli } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import type { FindingCode } from '../../src/commands/doctor.js';

interface BrokenImage {
  name: string;
  /** Fills the image's directory (fx: fixture paths, base: a directory holding /bin/sh and its libraries). */
  build(dir: string, fx: Fixtures): void;
  changes: string[];
  /** What the engine says when the image is run. */
  engineSays: RegExp;
  codes: FindingCode[];
  /** The fix doctor gives for the first code. */
  fix: RegExp;
  /** Set when the engine may run it after all here (qemu registered for that machine). */
  skipRun?: () => string | undefined;
}

interface Fixtures {
  hello: string; helloStatic: string; cxx: string; gocgo: string; goArm64: string; musl: string; oldLibc: string; shBase: string;
}

function put(dir: string, path: string, from: string, mode = 0o755): void {
  const p = join(dir, path);
  mkdirSync(dirname(p), { recursive: true });
  copyFileSync(from, p);
  chmodSync(p, mode);
}

function write(dir: string, path: string, text: string, mode = 0o755): void {
  const p = join(dir, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text, { mode });
}

function copyTree(from: string, to: string): void {
  expect(run('cp', ['-a', `${from}/.`, to]).status).to.equal(0);
}

const ENTRY_APP = 'ENTRYPOINT ["/app"]';

const broken: BrokenImage[] = [
  { name: 'entrypoint-missing', build: (d) => write(d, 'etc/hostname', 'x\n', 0o644), changes: [ENTRY_APP], engineSays: /no such file or directory/, codes: ['ENTRYPOINT_MISSING'], fix: /copy the program to \/app/ },
  { name: 'not-executable', build: (d, fx) => put(d, 'app', fx.helloStatic, 0o644), changes: [ENTRY_APP], engineSays: /permission denied/, codes: ['NOT_EXECUTABLE'], fix: /chmod \+x/ },
  { name: 'not-a-program', build: (d) => write(d, 'app', 'echo hello\n'), changes: [ENTRY_APP], engineSays: /exec format error/, codes: ['EXEC_FORMAT'], fix: /"#!"/ },
  { name: 'go-cgo-on-scratch', build: (d, fx) => put(d, 'app', fx.gocgo), changes: [ENTRY_APP], engineSays: /no such file or directory/, codes: ['LOADER_MISSING', 'LIBRARIES_MISSING'], fix: /CGO_ENABLED=0/ },
  {
    name: 'glibc-on-musl', changes: [ENTRY_APP], engineSays: /no such file or directory/, codes: ['LOADER_MISSING', 'LIBRARIES_MISSING'], fix: /glibc program is on a musl base.*use a glibc base/,
    build: (d, fx) => { put(d, 'lib/ld-musl-x86_64.so.1', fx.musl); put(d, 'app', fx.hello); },
  },
  {
    name: 'library-missing', changes: [ENTRY_APP], engineSays: /libstdc\+\+\.so\.6: cannot open shared object file/, codes: ['LIBRARIES_MISSING'], fix: /elfpack \/app --from-image BUILDER/,
    build: (d, fx) => { copyTree(fx.shBase, d); put(d, 'app', fx.cxx); },
  },
  {
    name: 'arch-mismatch', build: (d, fx) => put(d, 'app', fx.goArm64), changes: [ENTRY_APP], engineSays: /exec format error/, codes: ['ARCH_MISMATCH'], fix: /GOARCH=amd64.*label the image linux\/arm64/,
    skipRun: () => (existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64') && readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8').startsWith('enabled')
      ? 'qemu-aarch64 is registered with binfmt_misc here, so the engine runs arm64 programs' : undefined),
  },
  {
    name: 'glibc-too-old', changes: [ENTRY_APP], engineSays: /version `GLIBC_2\.34' not found \(required by \/app\)/, codes: ['VERSIONS_MISSING'], fix: /base with glibc 2\.34 or newer/,
    build: (d, fx) => { put(d, 'lib64/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2'); put(d, 'lib/x86_64-linux-gnu/libc.so.6', fx.oldLibc); put(d, 'app', fx.hello); },
  },
  {
    name: 'script-interpreter-missing', changes: ['ENTRYPOINT ["/app.sh"]'], engineSays: /no such file or directory/, codes: ['SCRIPT_INTERPRETER_MISSING'], fix: /add \/bin\/bash/,
    build: (d, fx) => { copyTree(fx.shBase, d); write(d, 'app.sh', '#!/bin/bash\necho hi\n'); },
  },
  {
    name: 'script-crlf', changes: ['ENTRYPOINT ["/app.sh"]'], engineSays: /no such file or directory/, codes: ['SCRIPT_CRLF'], fix: /LF line endings/,
    build: (d, fx) => { copyTree(fx.shBase, d); write(d, 'app.sh', '#!/bin/sh\r\necho hi\r\n'); },
  },
  { name: 'shell-form-without-sh', build: (d, fx) => put(d, 'app', fx.helloStatic), changes: ['CMD /app'], engineSays: /no such file or directory/, codes: ['SHELL_MISSING'], fix: /exec form.*CMD \["\/app"\]/ },
  { name: 'not-in-path', build: (d, fx) => put(d, 'app', fx.helloStatic), changes: ['ENTRYPOINT ["app"]'], engineSays: /executable file not found in \$PATH/, codes: ['NOT_IN_PATH'], fix: /absolute path/ },
  { name: 'user-unknown', build: (d, fx) => put(d, 'app', fx.helloStatic), changes: [ENTRY_APP, 'USER nonroot'], engineSays: /unable to find user nonroot/, codes: ['USER_UNKNOWN'], fix: /numeric id/ },
  { name: 'no-command', build: (d, fx) => put(d, 'app', fx.helloStatic), changes: [], engineSays: /no command specified/i, codes: ['NO_COMMAND'], fix: /ENTRYPOINT/ },
];

const tagOf = (b: BrokenImage) => `elfpack-test-doctor-${b.name}:1`;

describe('commands/doctor: one broken image per finding, against the engine', function () {
  this.timeout(300_000);
  let dir: string;
  let fx: Fixtures;
  const env = () => ({ XDG_CACHE_HOME: join(dir, 'cache') });
  before(async function () {
    needEngine(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-doctor-'));
    fx = {
      hello: fixture(this, 'glibc/hello'), helloStatic: fixture(this, 'static/hello-static'), cxx: fixture(this, 'cxx/hello-cxx'),
      gocgo: fixture(this, 'go/gocgo'), goArm64: fixture(this, 'go/gostatic-arm64'), oldLibc: fixture(this, 'oldlibc/libc.so.6'),
      musl: '/usr/lib/x86_64-linux-musl/libc.so', shBase: join(dir, 'sh-base'),
    };
    // A base with /bin/sh: Debian's dash and its libraries, packed by elfpack itself.
    const p = await runCli(['/bin/dash', '--rootfs', fx.shBase, '--bare']);
    expect(p.code, p.stderr).to.equal(0);
    symlinkSync('dash', join(fx.shBase, 'bin/sh'));
    for (const b of broken) {
      const d = join(dir, b.name);
      mkdirSync(d);
      b.build(d, fx);
      const changes = b.changes.flatMap((c) => ['--change', c]);
      const r = run('sh', ['-c', `tar -C "$0" -c . | docker import "$@" - ${tagOf(b)}`, d, ...changes]);
      expect(r.status, r.stderr).to.equal(0);
    }
  });
  after(() => {
    for (const b of broken) dockerRmi(tagOf(b));
    dockerRmi('elfpack-test-doctor-fixed:1');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const b of broken) {
    it(`${b.name}: the engine fails to start it, and doctor says ${b.codes.join(' + ')} with the fix`, async function () {
      const why = b.skipRun?.();
      if (why) console.log(`      not run in the engine: ${why}`);
      else {
        const r = dockerRun(tagOf(b));
        expect(r.status, r.stdout.toString()).to.not.equal(0);
        expect(r.stderr).to.match(b.engineSays);
      }
      const d = await runCli(['doctor', tagOf(b), '--json'], { env: env() });
      expect(d.code, d.stderr).to.equal(1);
      const report = JSON.parse(d.stdout);
      expect(report.schema).to.equal('elfpack.doctor/v1');
      expect(report.starts).to.equal(false);
      expect(report.findings.map((f: { code: string }) => f.code)).to.deep.equal(b.codes);
      expect(report.findings[0].fix).to.match(b.fix);
      const text = await runCli(['doctor', tagOf(b)], { env: env() });
      expect(text.code).to.equal(1);
      expect(text.stdout).to.match(/✗ .*\n(.*\n)*    fix: .*\n(.*\n)*\d+ problems?: the container would not start\n$/);
    });
  }

  it('reads the same findings from a docker save tar, and from the directory with --entrypoint', async function () {
    const b = broken.find((x) => x.name === 'library-missing')!;
    const tar = join(dir, 'saved.tar');
    expect(run('docker', ['save', '-o', tar, tagOf(b)]).status).to.equal(0);
    const fromTar = JSON.parse((await runCli(['doctor', tar, '--json'], { env: env() })).stdout);
    const fromDir = JSON.parse((await runCli(['doctor', join(dir, b.name), '--entrypoint', '/app', '--json'], { env: env() })).stdout);
    expect(fromTar.findings).to.deep.equal(fromDir.findings);
    expect(fromTar.findings[0].details).to.deep.equal(['libstdc++.so.6 (needed by /app)', 'libgcc_s.so.1 (needed by /app)']);
    expect(fromTar.platform).to.equal('linux/amd64');
    expect(fromDir.platform).to.equal(undefined);
  });

  it('the fixed image (elfpack packs the program with what it needs) passes doctor and runs', async function () {
    const tar = join(dir, 'fixed.tar');
    const p = await runCli([fx.cxx, '--as', '/app', '--out', tar, '--tag', 'elfpack-test-doctor-fixed:1']);
    expect(p.code, p.stderr).to.equal(0);
    const fromTar = await runCli(['doctor', tar], { env: env() });
    expect([fromTar.code, fromTar.stdout.split('\n').at(-2)]).to.deep.equal([0, 'ok: the container would start']);
    dockerLoad(tar);
    const fromEngine = JSON.parse((await runCli(['doctor', '--from-image', 'elfpack-test-doctor-fixed:1', '--json'], { env: env() })).stdout);
    expect(fromEngine).to.include({ starts: true });
    expect(fromEngine.findings).to.deep.equal([]);
    expect(fromEngine.chain[0]).to.equal('/app: x86_64 program, dynamic, loader /lib64/ld-linux-x86-64.so.2');
    const r = dockerRun('elfpack-test-doctor-fixed:1');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.toString()).to.equal('hello from c++ (caught)\n');
  });
});
