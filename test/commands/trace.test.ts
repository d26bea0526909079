// --trace: real programs from Debian, run once in bubblewrap under strace, packed from what they
// used, loaded into the engine and run there.
import { expect } from 'chai';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, haveCommand, runCli, skipOrFail } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine } from '../support/engine.js';

const PY = '/usr/bin/python3';
const PY_IMPORTS = 'import json, sqlite3, ssl, hashlib, zlib, ctypes';
const PY_CHECK = `${PY_IMPORTS}; print(json.dumps([sqlite3.sqlite_version > "3", ssl.OPENSSL_VERSION.startswith("OpenSSL"), hashlib.sha256(b"x").hexdigest()[:8], zlib.crc32(b"x"), ctypes.sizeof(ctypes.c_int)]))`;
const PY_OUT = '[true, true, "2d711642", 2363233923, 4]\n';

function needTrace(ctx: Mocha.Context, ...programs: string[]): void {
  for (const c of ['bwrap', 'strace']) if (!haveCommand(c)) skipOrFail(ctx, `${c} is not installed (make deps installs bubblewrap and strace)`);
  for (const p of programs) if (!haveCommand(p)) skipOrFail(ctx, `${p} is not installed (make deps installs it)`);
}

describe('pack --trace: what a real run used, and nothing it did not', function () {
  this.timeout(600_000);
  let dir: string;
  const loaded: string[] = [];

  before(function () {
    needEngine(this);
    needTrace(this, PY);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-trace-test-'));
    chmodSync(dir, 0o755);
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function packJson(name: string, args: string[]) {
    const out = join(dir, `${name}.tar`);
    const tag = `elfpack-trace-${name}:1`;
    const r = await runCli([...args.slice(0, 1), '--out', out, '--tag', tag, '--json', ...args.slice(1)]);
    expect(r.code, r.stderr).to.equal(0);
    return { tag, out, json: JSON.parse(r.stdout), stderr: r.stderr };
  }

  function load(tar: string, tag: string): void {
    expect(dockerLoad(tar)).to.equal(tag);
    loaded.push(tag);
  }

  it('python3 importing json, sqlite3, ssl, hashlib, zlib and ctypes: under 22 MB with no --include, and it runs', async function () {
    const { tag, out, json } = await packJson('python', [PY, '--trace', '--trace-run', `-c '${PY_CHECK}'`]);
    expect(json.totalBytes).to.be.below(22e6);
    const paths = new Map<string, any>(json.trace.paths.map((p: any) => [p.path, p]));
    expect(paths.get('/usr/lib/python3.11/json/__init__.py')).to.include({ use: 'stat' });
    expect([...paths.values()].some((p) => /_ssl\.cpython-311-x86_64-linux-gnu\.so$/.test(p.path) && p.syscall === 'openat')).to.equal(true);
    expect(json.trace.runs).to.deep.equal([{ args: ['-c', PY_CHECK], exitCode: 0, signal: null, timedOut: false }]);
    // libgcc_s: the rule would add it (python imports pthread_exit); this run never loaded it.
    expect(json.notes.join('\n')).to.match(/left out \S*libgcc_s\.so\.1: the traced run did not use it/);
    expect(json.files.map((f: any) => f.path)).not.to.include('/usr/lib/x86_64-linux-gnu/libgcc_s.so.1');
    load(out, tag);
    expect(dockerRun(tag, ['-c', PY_CHECK]).stdout.toString()).to.equal(PY_OUT);
  });

  it('two traces that used the same files give the same image bytes', async () => {
    const a = await packJson('det-a', [PY, '--trace', '--', '-c', 'import json']);
    const b = await packJson('det-b', [PY, '--trace', '--', '-c', 'import json']);
    expect(a.json.digest).to.match(/^sha256:/).and.equal(b.json.digest);
  });

  it('an --include narrows to what the run used; --include-all takes the whole tree', async () => {
    const some = await packJson('inc', [PY, '--trace', '--include', '/usr/lib/python3.11', '--', '-c', 'import json']);
    const all = await packJson('inc-all', [PY, '--trace', '--include-all', '/usr/lib/python3.11', '--', '-c', 'import json']);
    const under = (j: any) => j.files.filter((f: any) => f.path.startsWith('/usr/lib/python3.11/')).length;
    expect(some.json.notes.join('\n')).to.match(/--include \/usr\/lib\/python3\.11: only the \d+ path\(s\) the traced run used/);
    expect(under(some.json)).to.be.above(10).and.below(under(all.json) / 5);
  });

  it('traces inside an image tar and inside a directory root, not the host', async () => {
    const first = await packJson('py-root', [PY, '--trace', '--', '-c', PY_CHECK]);
    const fromImage = await packJson('py-in-image', [PY, '--root', first.out, '--trace', '--', '-c', 'import json; print(json.dumps(1))']);
    expect(fromImage.json.trace.runs[0].exitCode).to.equal(0);
    // Only what the first image had can be used: its sqlite module was not needed by this run.
    expect(fromImage.json.files.map((f: any) => f.path).some((p: string) => p.includes('sqlite'))).to.equal(false);
    load(fromImage.out, fromImage.tag);
    expect(dockerRun(fromImage.tag, ['-c', 'import json; print(json.dumps(1))']).stdout.toString()).to.equal('1\n');

    const rootfs = join(dir, 'py-rootfs');
    const r = await runCli([PY, '--rootfs', rootfs, '--trace', '--', '-c', 'import json']);
    expect(r.code, r.stderr).to.equal(0);
    const fromDir = await packJson('py-in-dir', [PY, '--root', rootfs, '--trace', '--', '-c', 'import json; print(2)']);
    expect(fromDir.json.trace.runs[0].exitCode).to.equal(0);
  });

  it('a run that does not end is stopped at --trace-timeout with SIGTERM, and what it used is kept', async () => {
    const t0 = Date.now();
    const { json, stderr } = await packJson('sleep', ['/bin/sleep', '--trace', '--trace-timeout', '1', '--', '300']);
    expect(Date.now() - t0).to.be.below(30_000);
    expect(json.trace.runs[0]).to.include({ timedOut: true });
    expect(stderr).to.match(/still running after 1 s: stopping the run with SIGTERM/);
    expect(json.trace.paths.some((p: any) => p.path.endsWith('libc.so.6'))).to.equal(true);
  });

  it('a foreign program runs under qemu-user through binfmt_misc', async function () {
    const bin = fixture(this, 'go/gostatic-arm64');
    const { json } = await packJson('arm64', [bin, '--trace']);
    expect(json.trace.emulator).to.match(/qemu-aarch64/);
    expect(json.trace.runs[0].exitCode).to.equal(0);
    // A root of that architecture has no qemu of its own: the interpreter is bound into the sandbox.
    const root = join(dir, 'arm64-root');
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    copyFileSync(bin, join(root, 'usr/bin/app'));
    const inRoot = await packJson('arm64-root', ['/usr/bin/app', '--root', root, '--trace']);
    expect(inRoot.json.trace.runs[0].exitCode).to.equal(0);
    expect(inRoot.stderr).to.match(/^hello from go/m);
  });

  it('the run is the image\'s user: --user nonroot is uid 65532 inside, with a writable home', async () => {
    const { json, stderr } = await packJson('id', ['/usr/bin/id', '--trace', '--user', 'nonroot', '--trace-run', '-u', '--trace-run', '-g']);
    expect(stderr).to.match(/^65532\n65532\n/m);
    expect(json.trace.runs.map((r: any) => r.args)).to.deep.equal([['-u'], ['-g']]);
    const sh = await packJson('home', ['/bin/sh', '--trace', '--user', 'nonroot', '--', '-c', 'echo x > "$HOME/f" && cat "$HOME/f" && id -u']);
    expect(sh.stderr).to.match(/^x\n65532\n/m);
    expect(sh.json.trace.paths.some((p: any) => p.path.startsWith('/home/nonroot'))).to.equal(false);
  });

  it('a --workdir under /tmp, which the private /tmp would hide, is the root\'s own (read-only); one the root lacks is made empty', async () => {
    const wd = mkdtempSync('/tmp/elfpack-workdir-');
    try {
      chmodSync(wd, 0o755); // the traced run is uid 65534 outside when the tests run as root
      writeFileSync(join(wd, 'data.txt'), 'from the workdir\n', { mode: 0o644 });
      const { json, stderr } = await packJson('workdir', ['/bin/cat', '--trace', '--workdir', wd, '--', 'data.txt']);
      expect(stderr).to.match(/^from the workdir$/m);
      expect(json.trace.runs[0].exitCode).to.equal(0);
      // Like the rest of /tmp, nothing there is packed from the trace.
      expect(json.files.map((f: any) => f.path)).not.to.include(join(wd, 'data.txt'));
      const missing = await packJson('workdir-missing', ['/bin/sh', '--trace', '--workdir', '/tmp/elfpack-no-such-dir/app', '--', '-c', 'pwd']);
      expect(missing.stderr).to.match(/^\/tmp\/elfpack-no-such-dir\/app$/m);
    } finally {
      rmSync(wd, { recursive: true, force: true });
    }
  });

  it('names the Debian package of a missing tool, and traces nothing without --trace', async () => {
    const r = await runCli([PY, '--out', join(dir, 'x.tar'), '--trace'], { env: { PATH: '/nonexistent' } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/--trace needs bwrap, which is not installed \(Debian package bubblewrap\)/);
    const u = await runCli([PY, '--out', join(dir, 'y.tar'), '--trace-run', 'x']);
    expect(u.code).to.equal(2);
    expect(u.stderr).to.match(/--trace-run, --trace-env and --trace-timeout need --trace/);
  });
});

describe('pack --trace: Debian programs that load plugins at run time', function () {
  this.timeout(600_000);
  let dir: string;
  const loaded: string[] = [];
  before(function () {
    needEngine(this);
    needTrace(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-trace-plugins-'));
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function packRun(ctx: Mocha.Context, name: string, program: string, args: string[], extra: string[] = []) {
    if (!haveCommand(program)) skipOrFail(ctx, `${program} is not installed (make deps installs it)`);
    const out = join(dir, `${name}.tar`);
    const tag = `elfpack-trace-${name}:1`;
    const r = await runCli([program, '--out', out, '--tag', tag, '--trace', ...extra, '--', ...args]);
    expect(r.code, r.stderr).to.equal(0);
    expect(dockerLoad(out)).to.equal(tag);
    loaded.push(tag);
    return { tag, stderr: r.stderr };
  }

  it('ImageMagick convert writes a PNG with the coder module it loaded', async function () {
    const { tag } = await packRun(this, 'convert', '/usr/bin/convert', ['rose:', '/tmp/out.png']);
    const png = dockerRun(tag, ['rose:', 'png:-']);
    expect(png.status, png.stderr).to.equal(0);
    expect(png.stdout.subarray(1, 4).toString()).to.equal('PNG');
  });

  it('php with a shared extension (ctype) and a charset conversion (iconv, a gconv module)', async function () {
    const code = 'echo ctype_digit("42") ? "digits" : "no", " ", iconv("UTF-8", "ISO-8859-1", "caf\\u{e9}") === "caf\\xe9" ? "latin1" : "fail", "\\n";';
    const { tag } = await packRun(this, 'php', '/usr/bin/php', ['-r', code]);
    expect(dockerRun(tag, ['-r', code]).stdout.toString()).to.equal('digits latin1\n');
  });

  it('java -version, whose libjvm.so is loaded by path with dlopen', async function () {
    const java = '/usr/lib/jvm/java-17-openjdk-amd64/bin/java';
    const { tag } = await packRun(this, 'java', java, ['-version']);
    const r = dockerRun(tag, ['-version']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/OpenJDK 64-Bit Server VM/);
  });
});
