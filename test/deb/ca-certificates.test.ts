// ca-certificates' postinst work, done without running it, against the real thing: the conf, the
// .pem links and the subject-hash links equal what this machine's postinst and update-ca-certificates
// wrote for the same package version, and the bundle equals what the real update-ca-certificates
// (and openssl rehash) write in a scratch directory for the package apt would install today; with
// ca-certificates-java, the Java keystore holds what Debian's jar writes from the same links.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDebRoot, type DebRoot } from '../../src/deb/deb-root.js';
import { CA_BUNDLE, CERTS_CONF, ETC_CERTS_DIR } from '../../src/deb/ca-certificates.js';
import { JAVA_CACERTS } from '../../src/deb/ca-certificates-java.js';
import { subjectHash } from '../../src/deb/subject-hash.js';
import type { Root } from '../../src/root/root.js';
import { downloadDebs, removeDownloadedDebs } from '../support/debs.js';
import { readJks, runDebianJar } from '../support/java-keystore.js';
import { haveCommand, needCommand, skipOrFail } from '../support/helpers.js';

const UPDATE = '/usr/sbin/update-ca-certificates';

function readRootFile(root: Root, path: string): Buffer {
  const st = root.lstat(path);
  expect(st?.type, path).to.equal('file');
  const src = root.open(path);
  try {
    return src.read(0, st!.size, path);
  } finally {
    src.close();
  }
}

/** The links of a root's /etc/ssl/certs (name → target). */
function rootLinks(root: Root): Map<string, string> {
  const names = (root.readdir(ETC_CERTS_DIR) ?? []).filter((n) => root.lstat(`${ETC_CERTS_DIR}/${n}`)?.type === 'symlink');
  return new Map(names.sort().map((n) => [n, root.readlink(`${ETC_CERTS_DIR}/${n}`)]));
}

/** The links of a host directory (name → target). */
function hostLinks(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of readdirSync(dir).sort()) {
    try {
      out.set(n, readlinkSync(join(dir, n)));
    } catch { /* not a link */ }
  }
  return out;
}

describe('deb/ca-certificates: the bundle update-ca-certificates would write', function () {
  this.timeout(300_000);
  let dir: string;
  before(function () {
    needCommand(this, 'dpkg-deb');
    if (!existsSync(UPDATE) || !haveCommand('openssl')) skipOrFail(this, 'update-ca-certificates or openssl is not installed (make deps installs ca-certificates)');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-cacerts-'));
  });
  after(() => {
    removeDownloadedDebs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the subject hash is openssl\'s for every certificate of this machine', function () {
    const files = readdirSync('/usr/share/ca-certificates/mozilla').map((f) => `/usr/share/ca-certificates/mozilla/${f}`);
    if (!files.length) skipOrFail(this, 'no certificates under /usr/share/ca-certificates/mozilla');
    for (const f of files) {
      const real = spawnSync('openssl', ['x509', '-noout', '-subject_hash', '-in', f], { encoding: 'utf8' }).stdout.trim();
      const der = spawnSync('openssl', ['x509', '-outform', 'DER', '-in', f]).stdout;
      expect(subjectHash(der), f).to.equal(real);
    }
  });

  it('for this machine\'s ca-certificates version: the conf its postinst wrote, its .pem and hash links, its bundle before the local certificates', async function () {
    const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'ca-certificates'], { encoding: 'utf8' }).stdout;
    if (!version || !existsSync('/etc/ca-certificates.conf')) skipOrFail(this, 'ca-certificates is not installed here');
    const hostConf = readFileSync('/etc/ca-certificates.conf', 'utf8');
    // A conf an administrator changed (a "!" line) is not what a fresh postinst writes.
    if (/^!/m.test(hostConf)) skipOrFail(this, '/etc/ca-certificates.conf deselects certificates: not a fresh install\'s');
    const got = join(dir, 'host-version');
    mkdirSync(got);
    const r = spawnSync('apt-get', ['download', `ca-certificates=${version}`], { cwd: got, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) skipOrFail(this, `apt-get download ca-certificates=${version} failed: ${r.stderr.trim().split('\n').pop()}`);
    const deb = join(got, readdirSync(got).find((f) => f.endsWith('.deb'))!);
    const root = await buildDebRoot([{ path: deb }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
    expect(readRootFile(root, CERTS_CONF).toString('utf8')).to.equal(hostConf);

    // The host's links to the package's certificates, and the hash links to those: the local ones are the administrator's.
    const host = hostLinks('/etc/ssl/certs');
    const pems = new Map([...host].filter(([n, t]) => n.endsWith('.pem') && t.startsWith('/usr/share/ca-certificates/')));
    const hashes = new Map([...host].filter(([n, t]) => /^[0-9a-f]{8}\.\d+$/.test(n) && pems.has(t)));
    const ours = rootLinks(root);
    expect(new Map([...ours].filter(([n]) => n.endsWith('.pem')))).to.deep.equal(pems);
    expect(new Map([...ours].filter(([n]) => !n.endsWith('.pem')))).to.deep.equal(hashes);

    // update-ca-certificates appends /usr/local/share/ca-certificates after the conf's certificates.
    const bundle = readRootFile(root, CA_BUNDLE);
    const hostBundle = readFileSync('/etc/ssl/certs/ca-certificates.crt');
    expect(hostBundle.subarray(0, bundle.length).equals(bundle), 'the host bundle starts with ours').to.equal(true);
    const local = '/usr/local/share/ca-certificates';
    const rest = existsSync(local) ? spawnSync('sh', ['-c', `find -L ${local} -type f -name '*.crt' | sort | while read f; do sed -e '$a\\' "$f"; done`]).stdout : Buffer.alloc(0);
    expect(hostBundle.subarray(bundle.length).equals(rest), 'what follows is the local certificates').to.equal(true);
  });

  it('for the version apt installs today: the bundle and links the real update-ca-certificates and openssl rehash write from the same conf', async function () {
    const { 'ca-certificates': deb } = downloadDebs(this, ['ca-certificates']);
    const root: DebRoot = await buildDebRoot([{ path: deb }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
    const tree = join(dir, 'today');
    const certs = join(tree, 'etc/ssl/certs');
    mkdirSync(certs, { recursive: true });
    mkdirSync(join(tree, 'no-local'));
    expect(spawnSync('dpkg-deb', ['-x', deb, tree]).status).to.equal(0);
    writeFileSync(join(tree, 'ca-certificates.conf'), readRootFile(root, CERTS_CONF));
    const certsDir = join(tree, 'usr/share/ca-certificates');
    const run = spawnSync(UPDATE, ['--certsconf', join(tree, 'ca-certificates.conf'), '--certsdir', certsDir, '--localcertsdir', join(tree, 'no-local'),
      '--etccertsdir', certs, '--hooksdir', ''], { encoding: 'utf8', env: { ...process.env, TMPDIR: tree } });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr, 'no certificate listed and missing').to.equal('');
    expect(readRootFile(root, CA_BUNDLE).equals(readFileSync(join(certs, 'ca-certificates.crt'))), 'the bundle, byte for byte').to.equal(true);
    const real = new Map([...hostLinks(certs)].map(([n, t]) => [n, t.startsWith(certsDir) ? `/usr/share/ca-certificates${t.slice(certsDir.length)}` : t]));
    expect(rootLinks(root)).to.deep.equal(real);
    expect(root.warnings).to.deep.equal([]);
    expect(root.lstat(JAVA_CACERTS), 'no Java keystore without ca-certificates-java').to.equal(undefined);
  });

  it('with ca-certificates-java: the keystore its jar writes from the same .pem links, entry for entry and in its order', async function () {
    if (!haveCommand('java')) skipOrFail(this, 'java is not installed (openjdk-17-jre-headless)');
    const debs = downloadDebs(this, ['ca-certificates', 'ca-certificates-java']);
    const root = await buildDebRoot([{ path: debs['ca-certificates'] }, { path: debs['ca-certificates-java'] }], { cacheDir: join(dir, 'cache'), arch: 'amd64' });
    expect(root.warnings).to.deep.equal([]);
    expect(root.lstat(JAVA_CACERTS)?.mode, 'rw-r--r--, as Java creates it under umask 022').to.equal(0o644);
    const ours = readJks(readRootFile(root, JAVA_CACERTS));
    expect(ours.every((e) => e.date === 0), 'dates 0, not the time of the build').to.equal(true);

    // Debian's jar, fed the postinst's sorted "+/etc/ssl/certs/NAME.pem" lines, over links to the unpacked certificates.
    const tree = join(dir, 'java');
    const links = join(tree, 'etc/ssl/certs');
    mkdirSync(links, { recursive: true });
    for (const d of Object.values(debs)) expect(spawnSync('dpkg-deb', ['-x', d, tree]).status).to.equal(0);
    const pems = [...rootLinks(root)].filter(([n]) => n.endsWith('.pem'));
    for (const [n, t] of pems) symlinkSync(join(tree, t), join(links, n));
    const sorted = pems.map(([n]) => n).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const theirs = join(dir, 'java-cacerts');
    runDebianJar(join(tree, 'usr/share/ca-certificates-java/ca-certificates-java.jar'), theirs, sorted.map((n) => join(links, n)), dir);
    const real = readJks(readFileSync(theirs));
    expect(ours.map((e) => [e.alias, e.der.toString('base64')])).to.deep.equal(real.map((e) => [e.alias, e.der.toString('base64')]));
    expect(ours.length).to.equal(pems.length);

    // And keytool opens it with the password Debian's Java expects.
    if (haveCommand('keytool')) {
      writeFileSync(join(dir, 'ours-cacerts'), readRootFile(root, JAVA_CACERTS));
      const r = spawnSync('keytool', ['-list', '-keystore', join(dir, 'ours-cacerts'), '-storepass', 'changeit'], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`Your keystore contains ${pems.length} entries`);
    }
  });
});
