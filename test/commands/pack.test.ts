// elfpack BIN --out img.tar: every image is read by skopeo (both transports), unpacked by umoci,
// loaded into the real engine and run with --network none; its output is checked.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, needCommand, runCli, skipOrFail } from '../support/helpers.js';
import { dockerRmi, dockerRun, needEngine, needImageTools } from '../support/engine.js';
import { packAndLoad as packAndLoadIn } from '../support/pack-and-load.js';

describe('pack: images that run in the engine', function () {
  this.timeout(300_000);
  let dir: string;
  const loaded: string[] = [];

  before(function () {
    needEngine(this);
    needImageTools(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-pack-'));
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const packAndLoad = (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => packAndLoadIn({ dir, loaded, prefix: 'elfpack-test', validate: true }, name, args, env);

  it('a glibc C program runs on scratch', async function () {
    const { tag, stderr } = await packAndLoad('hello', [fixture(this, 'glibc/hello')]);
    expect(stderr).to.match(/packed .*hello/).and.match(/digest sha256:[0-9a-f]{64}/);
    const r = dockerRun(tag);
    expect(r.stdout.toString(), r.stderr).to.equal('hello from glibc-dynamic\n');
  });

  it('C++ with an exception thrown and caught', async function () {
    const { tag } = await packAndLoad('cxx', [fixture(this, 'cxx/hello-cxx')]);
    expect(dockerRun(tag).stdout.toString()).to.equal('hello from c++ (caught)\n');
  });

  it('a musl program', async function () {
    const { tag } = await packAndLoad('musl', [fixture(this, 'musl/hello-musl')]);
    expect(dockerRun(tag).stdout.toString()).to.match(/^hello from musl/);
  });

  it('a static-pie says "statically linked" and runs alone', async function () {
    const { tag, stderr } = await packAndLoad('static-pie', [fixture(this, 'static/hello-static-pie')]);
    expect(stderr).to.match(/: statically linked\n/);
    expect(dockerRun(tag).stdout.toString()).to.match(/^hello from static/);
  });

  it('a Go static binary says "not a dynamic executable" and is packed with the extras only, no CA bundle: it cannot do TLS', async function () {
    const { tag, stderr, out } = await packAndLoad('gostatic', [fixture(this, 'go/gostatic')]);
    expect(stderr).to.match(/: not a dynamic executable\n/);
    const json = await runCli([fixture(this, 'go/gostatic'), '--out', join(dir, 'go2.tar'), '--json']);
    const files = JSON.parse(json.stdout).files.map((f: { path: string }) => f.path);
    expect(files.filter((f: string) => !f.startsWith('/etc/'))).to.deep.equal([fixture(this, 'go/gostatic')]);
    expect(files).to.deep.equal([fixture(this, 'go/gostatic'), '/etc/group', '/etc/passwd'].sort());
    expect(dockerRun(tag).status).to.equal(0);
    expect(existsSync(out)).to.equal(true);
  });

  it('a program moved with --as keeps its $ORIGIN layout', async function () {
    const { tag } = await packAndLoad('origin', [fixture(this, 'origin/bin/app'), '--as', '/app/bin/app']);
    const r = dockerRun(tag);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.toString()).to.match(/^hello from \$ORIGIN/);
  });

  it('a library known only through ld.so.conf is found in the image through its own ld.so.cache', async function () {
    for (const root of ['confroot', 'confroot-cache']) {
      const { tag, stderr } = await packAndLoad(root, ['/usr/bin/app-conf', '--root', fixture(this, root), '--bare']);
      expect(stderr).to.match(/added \/etc\/ld\.so\.cache/);
      const r = dockerRun(tag);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.toString()).to.match(/^hello from ld\.so\.conf/);
    }
  });

  it('pthread_cancel brings libgcc_s.so.1, said why', async function () {
    const { tag, stderr } = await packAndLoad('cancel', [fixture(this, 'glibc/cancel')]);
    expect(stderr).to.match(/added libgcc_s\.so\.1: .*pthread_cancel/);
    const r = dockerRun(tag);
    expect(r.stdout.toString(), r.stderr).to.equal('cancelled\n');
  });

  it('without runtime deps, pthread_cancel dies in the engine (the rule is needed)', async function () {
    const { tag } = await packAndLoad('cancel-bare', [fixture(this, 'glibc/cancel'), '--no-runtime-deps']);
    const r = dockerRun(tag);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/libgcc_s\.so\.1/);
  });

  it("--gconv ISO-8859-1: Debian's iconv converts UTF-8 to Latin-1 in the engine with that one module, through the cache and through gconv-modules", async function () {
    needCommand(this, 'iconv');
    const gconv = '/usr/lib/x86_64-linux-gnu/gconv';
    const { tag, stderr, stdout } = await packAndLoad('iconv', ['/usr/bin/iconv', '--gconv', 'ISO-8859-1', '--json', '--', '-f', 'UTF-8', '-t', 'LATIN1']);
    expect(stderr).to.not.match(/iconv_open/);
    const doc = JSON.parse(stdout);
    expect(doc.added[0]).to.match(/^\/usr\/lib\/x86_64-linux-gnu\/gconv: ISO8859-1\.so \(ISO-8859-1\) for --gconv, with gconv-modules, /);
    expect(doc.files.map((f: { path: string }) => f.path).filter((p: string) => p.startsWith(`${gconv}/`))).to.deep.equal([
      `${gconv}/ISO8859-1.so`, `${gconv}/gconv-modules`, `${gconv}/gconv-modules.cache`, `${gconv}/gconv-modules.d/gconv-modules-extra.conf`,
    ]);
    const latin1 = [...Buffer.from('caf\xe9\n', 'latin1')];
    const r = dockerRun(tag, [], { input: Buffer.from('café\n', 'utf8') });
    expect(r.stderr).to.equal('');
    expect([...r.stdout]).to.deep.equal(latin1);
    // With GCONV_PATH set glibc skips gconv-modules.cache and reads gconv-modules and its .d files.
    const conf = dockerRun(tag, [], { input: Buffer.from('café\n', 'utf8'), flags: ['-e', 'GCONV_PATH=/nonexistent'] });
    expect([conf.stderr, [...conf.stdout]]).to.deep.equal(['', latin1]);
  });

  it("a module's own libraries come along: --gconv EUC-JP brings EUC-JP.so and the libJIS.so it needs, and iconv converts to EUC-JP in the engine", async function () {
    needCommand(this, 'iconv');
    const gconv = '/usr/lib/x86_64-linux-gnu/gconv';
    const { tag, stdout } = await packAndLoad('iconv-eucjp', ['/usr/bin/iconv', '--gconv', 'eucjp', '--json', '--', '-f', 'UTF-8', '-t', 'EUC-JP']);
    const modules = JSON.parse(stdout).files.map((f: { path: string }) => f.path).filter((p: string) => p.startsWith(`${gconv}/`) && p.endsWith('.so'));
    expect(modules).to.deep.equal([`${gconv}/EUC-JP.so`, `${gconv}/libJIS.so`]);
    const r = dockerRun(tag, [], { input: Buffer.from('日本', 'utf8') });
    expect([r.status, [...r.stdout]], r.stderr).to.deep.equal([0, [0xc6, 0xfc, 0xcb, 0xdc]]);
  });

  it("without --gconv, iconv's image has no converter: UTF-8 to Latin-1 fails there, built-in UCS-2 works, and the summary says why and how", async function () {
    needCommand(this, 'iconv');
    const { tag, stderr } = await packAndLoad('iconv-lean', ['/usr/bin/iconv', '--', '-f', 'UTF-8', '-t', 'LATIN1']);
    expect(stderr).to.match(/note: \/usr\/bin\/iconv calls iconv_open, but glibc's charset converters were left out: .* add --gconv CHARSET\[,CHARSET…\] .* or --gconv all\n/);
    expect(stderr).to.not.match(/added .*gconv/);
    const r = dockerRun(tag, [], { input: Buffer.from('café\n', 'utf8') });
    expect([r.status, r.stdout.length]).to.deep.equal([1, 0]);
    expect(r.stderr).to.match(/iconv: .*conversion/);
    const ucs2 = dockerRun(tag, ['-f', 'UTF-8', '-t', 'UCS-2LE'], { input: Buffer.from('é', 'utf8') });
    expect([ucs2.status, [...ucs2.stdout]], ucs2.stderr).to.deep.equal([0, [0xe9, 0]]);
  });

  it('a Go TLS client built with -s -w gets the CA bundle and reads it in the engine; with --bare it has none', async function () {
    const bin = fixture(this, 'go/gotls');
    const { tag, stderr } = await packAndLoad('gotls', [bin, '--', '-roots']);
    expect(stderr).to.match(new RegExp(`added /etc/ssl/certs/ca-certificates\\.crt: the CA bundle, because the Go program ${bin} uses crypto/x509 \\(crypto/x509\\.\\S+ is in its function table\\)`));
    const r = dockerRun(tag);
    expect(r.status, r.stderr).to.equal(0);
    expect(Number(/^roots: (\d+)\n$/.exec(r.stdout.toString())?.[1])).to.be.greaterThan(100);
    const bare = await packAndLoad('gotls-bare', [bin, '--bare', '--', '-roots']);
    expect(bare.stderr).to.not.match(/CA bundle/);
    expect(dockerRun(bare.tag).stdout.toString()).to.equal('roots: 0\n');
  });

  it("Debian's python3 with --include /usr/lib/python3.11 imports ssl, sqlite3 and ctypes", async function () {
    if (!existsSync('/usr/lib/python3.11/os.py') || !existsSync('/usr/bin/python3.11')) skipOrFail(this, 'python3.11 is not installed (make deps installs python3)');
    const { tag } = await packAndLoad('python', ['/usr/bin/python3', '--include', '/usr/lib/python3.11',
      '--exclude', '**/test/**', '--exclude', '**/__pycache__/**', '--exclude', '**/tkinter/**', '--exclude', '**/idlelib/**', '--exclude', '**/_tkinter*']);
    const r = dockerRun(tag, ['-c', 'import ssl, sqlite3, ctypes; print(ssl.OPENSSL_VERSION.split()[0], sqlite3.sqlite_version_info[0], ctypes.sizeof(ctypes.c_long))']);
    expect(r.stdout.toString(), r.stderr).to.equal('OpenSSL 3 8\n');
  });

  it("users resolve inside the image: Debian's id finds nonroot (65532) through NSS files", async function () {
    needCommand(this, 'id');
    const { tag, stderr } = await packAndLoad('id', ['/usr/bin/id', '--', 'nonroot']);
    expect(stderr).to.match(/added \/etc\/nsswitch\.conf \(files\): .*calls getpw/);
    const r = dockerRun(tag);
    expect(r.stdout.toString(), r.stderr).to.equal('uid=65532(nonroot) gid=65532(nonroot) groups=65532(nonroot)\n');
  });

  it('curl --version; it links libssl, so it gets the CA bundle', async function () {
    needCommand(this, 'curl');
    const { tag, stderr } = await packAndLoad('curl', ['/usr/bin/curl', '--', '--version']);
    expect(stderr).to.match(/added \/etc\/ssl\/certs\/ca-certificates\.crt: the CA bundle, because libssl\.so\.3 is in the closure\n/);
    const r = dockerRun(tag);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.toString()).to.match(/^curl \d+\.\d+/).and.match(/Protocols: .*https/);
  });
});

describe('pack: output', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-out-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('two packs of the same input give the same bytes', async function () {
    const bin = fixture(this, 'cxx/hello-cxx');
    const a = await runCli([bin, '--out', join(dir, 'a.tar')]);
    const b = await runCli([bin, '--out', join(dir, 'b.tar')]);
    expect(a.code + b.code).to.equal(0);
    expect(readFileSync(join(dir, 'a.tar')).equals(readFileSync(join(dir, 'b.tar')))).to.equal(true);
  });

  it('SOURCE_DATE_EPOCH sets created and every mtime', async function () {
    const r = await runCli([fixture(this, 'glibc/hello'), '--out', join(dir, 'e.tar'), '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(r.code, r.stderr).to.equal(0);
    needImageTools(this);
    const cfg = JSON.parse(runTar(join(dir, 'e.tar'), `blobs/sha256/${JSON.parse(r.stdout).imageId.slice(7)}`));
    expect(cfg.created).to.equal('2023-11-14T22:13:20Z');
  });

  it('the config carries entrypoint, cmd, env, user, workdir, ports and labels', async function () {
    const bin = fixture(this, 'glibc/hello');
    const r = await runCli([bin, '--out', join(dir, 'c.tar'), '--as', '/hello', '-e', 'A=1', '--user', 'nonroot', '--workdir', '/tmp', '-p', '8080', '-p', '53/udp', '-l', 'k=v', '--json', '--', 'x', 'y']);
    expect(r.code, r.stderr).to.equal(0);
    const cfg = JSON.parse(runTar(join(dir, 'c.tar'), `blobs/sha256/${JSON.parse(r.stdout).imageId.slice(7)}`));
    expect(cfg.architecture).to.equal('amd64');
    expect(cfg.os).to.equal('linux');
    expect(cfg.config.Entrypoint).to.deep.equal(['/hello']);
    expect(cfg.config.Cmd).to.deep.equal(['x', 'y']);
    expect(cfg.config.Env).to.include('A=1').and.to.satisfy((e: string[]) => e.some((v) => v.startsWith('PATH=')));
    expect(cfg.config.User).to.equal('nonroot');
    expect(cfg.config.WorkingDir).to.equal('/tmp');
    expect(cfg.config.ExposedPorts).to.deep.equal({ '53/udp': {}, '8080/tcp': {} });
    expect(cfg.config.Labels).to.deep.equal({ k: 'v' });
  });

  it('--rootfs writes the same tree to a new directory', async function () {
    const out = join(dir, 'rootfs');
    const r = await runCli([fixture(this, 'glibc/hello'), '--rootfs', out, '--as', '/hello']);
    expect(r.code, r.stderr).to.equal(0);
    expect(statSync(join(out, 'hello')).mode & 0o111).to.not.equal(0);
    expect(statSync(join(out, 'tmp')).mode & 0o7777).to.equal(0o1777);
    expect(readdirSync(join(out, 'usr/lib/x86_64-linux-gnu'))).to.include('libc.so.6');
    expect(readdirSync(dir)).to.deep.equal(['rootfs']);
  });

  it('--add copies a host file to a chosen path; --bare leaves the extras out', async function () {
    const src = join(dir, 'config.txt');
    writeFileSync(src, 'k=v\n');
    const out = join(dir, 'rootfs');
    const r = await runCli([fixture(this, 'static/hello-static'), '--as', '/hello', '--rootfs', out, '--add', `${src}:/etc/app/config.txt`, '--bare']);
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(out, 'etc/app/config.txt'), 'utf8')).to.equal('k=v\n');
    expect(existsSync(join(out, 'etc/passwd'))).to.equal(false);
    expect(existsSync(join(out, 'tmp'))).to.equal(false);
  });

  it('/bin/true cannot do TLS, so it has no CA bundle; --ca-certs adds it, and says so', async function () {
    const lean = await runCli(['/bin/true', '--rootfs', join(dir, 'lean'), '--json']);
    expect(lean.code, lean.stderr).to.equal(0);
    expect(existsSync(join(dir, 'lean/etc/ssl'))).to.equal(false);
    expect(JSON.parse(lean.stdout).added.join('\n')).to.not.match(/CA bundle/);
    const asked = await runCli(['/bin/true', '--rootfs', join(dir, 'asked'), '--ca-certs', '--bare', '--no-package-metadata', '--json']);
    expect(asked.code, asked.stderr).to.equal(0);
    expect(JSON.parse(asked.stdout).added).to.deep.equal(['/etc/ssl/certs/ca-certificates.crt: the CA bundle, because --ca-certs asks for it']);
    expect(readFileSync(join(dir, 'asked/etc/ssl/certs/ca-certificates.crt'), 'utf8')).to.match(/^-----BEGIN CERTIFICATE-----/);
    expect(existsSync(join(dir, 'asked/etc/passwd'))).to.equal(false);
  });

  it('--ca-certs on a root without a CA bundle is one line saying where elfpack looked; nothing is written', async function () {
    const r = await runCli(['/usr/bin/app-conf', '--root', fixture(this, 'confroot'), '--ca-certs', '--rootfs', join(dir, 'fs')]);
    expect([r.code, r.stderr]).to.deep.equal([1, 'elfpack: --ca-certs: no CA bundle here (looked in /etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/ca-bundle.pem, /etc/pki/tls/cacert.pem, /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, /etc/ssl/cert.pem; install ca-certificates in the root)\n']);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('--gconv with a charset glibc does not know is one line naming it and where elfpack looked; nothing is written', async function () {
    const r = await runCli(['/usr/bin/iconv', '--gconv', 'LATIN1,KLINGON', '--out', join(dir, 'x.tar')]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^elfpack: --gconv KLINGON: no such charset in \/usr\/lib\/x86_64-linux-gnu\/gconv\/gconv-modules, .*nor one glibc converts itself\n$/);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it('--rootfs refuses a directory that is not empty, and leaves it as it was', async function () {
    writeFileSync(join(dir, 'keep'), 'x');
    const r = await runCli([fixture(this, 'glibc/hello'), '--rootfs', dir]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/exists and is not empty/);
    expect(readdirSync(dir)).to.deep.equal(['keep']);
  });

  it('--tzdata brings the time zone database', async function () {
    const out = join(dir, 'rootfs');
    const r = await runCli([fixture(this, 'static/hello-static'), '--rootfs', out, '--tzdata', '--bare']);
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(out, 'usr/share/zoneinfo/UTC')).subarray(0, 4).toString()).to.equal('TZif');
  });

  it('an output directory that does not exist is one clear line, and nothing is left', async function () {
    const r = await runCli([fixture(this, 'glibc/hello'), '--out', join(dir, 'no/such/img.tar')]);
    expect([r.code, r.stderr]).to.deep.equal([1, `elfpack: ${join(dir, 'no/such/img.tar')}: cannot write here: no such directory\n`]);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  for (const [what, args, message] of [
    ['a missing file', ['/nonexistent/app'], /\/nonexistent\/app: no such file/],
    ['a directory', ['/usr'], /\/usr: is a directory/],
    ['a non-ELF file', ['/etc/passwd'], /\/etc\/passwd: .*not an ELF file|not executable/],
  ] as const) {
    it(`${what} gives one clear error and no output file`, async function () {
      const r = await runCli([...args, '--out', join(dir, 'bad.tar')]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(message as RegExp);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(readdirSync(dir)).to.deep.equal([]);
    });
  }

  it('an unresolvable library is listed and nothing is written', async function () {
    const r = await runCli([fixture(this, 'missing/app-missing'), '--out', join(dir, 'bad.tar')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/libgone\.so\.1 \(needed by .*app-missing\): not found/);
    expect(readdirSync(dir)).to.deep.equal([]);
  });
});

function runTar(tar: string, member: string): string {
  return execFileSync('tar', ['-xOf', tar, member], { encoding: 'utf8' });
}
