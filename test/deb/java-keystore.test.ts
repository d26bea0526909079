// The JKS store ca-certificates-java writes, made without Java, against Java itself: Debian's jar
// run on this machine's certificate links writes the same bytes (given its entry dates), keytool and
// a TLS trust manager read what we write, and the Hashtable order holds for any aliases.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JAVA_CACERTS, firstCertificate, javaCacertsFile } from '../../src/deb/ca-certificates-java.js';
import { javaStringHash, jksAlias, writeJks, writeUtf, type TrustedCert } from '../../src/deb/java-keystore.js';
import { downloadDebs, removeDownloadedDebs } from '../support/debs.js';
import { makeRoot } from '../support/fake-root.js';
import { readJks, runDebianJar } from '../support/java-keystore.js';
import { haveCommand, needCommand, skipOrFail } from '../support/helpers.js';

const HOST_STORE = '/etc/ssl/certs/java/cacerts';

/** The host's /etc/ssl/certs/*.pem links into the certificate directories, as the postinst's find_pem_files picks them. */
function hostPems(): { name: string; bytes: Buffer }[] {
  return readdirSync('/etc/ssl/certs').filter((n) => n.endsWith('.pem')).flatMap((name) => {
    let target: string;
    try {
      target = readlinkSync(`/etc/ssl/certs/${name}`);
    } catch {
      return [];
    }
    return /^\/usr\/(local\/)?share\/ca-certificates/.test(target) ? [{ name, bytes: readFileSync(`/etc/ssl/certs/${name}`) }] : [];
  });
}

/** keytool -list: alias → SHA-256 fingerprint (hex, lower case, no colons). */
function keytoolList(file: string): Map<string, string> {
  const r = spawnSync('keytool', ['-list', '-keystore', file, '-storepass', 'changeit'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr + r.stdout).to.equal(0);
  const out = new Map<string, string>();
  for (const m of r.stdout.matchAll(/^(\S.*?), [^\n]*, trustedCertEntry,\s*\nCertificate fingerprint \(SHA-256\): ([0-9A-F:]+)$/gm)) out.set(m[1], m[2].replace(/:/g, '').toLowerCase());
  return out;
}

describe('deb/java-keystore: the JKS store ca-certificates-java writes', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-jks-')); });
  after(() => {
    removeDownloadedDebs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The store the postinst's jar writes for the host's links: sorted by name, alias debian:NAME. */
  function storeOf(pems: { name: string; bytes: Buffer }[], date?: (alias: string) => number): TrustedCert[] {
    return [...pems].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
      .map((p) => ({ alias: `debian:${p.name}`, der: firstCertificate(p.bytes)!, date: date?.(jksAlias(`debian:${p.name}`)) }));
  }

  it('aliases are Java\'s modified UTF-8: U+0000 in two bytes, a supplementary character as two three-byte surrogates', () => {
    expect(writeUtf('a\u0000é€😀')).to.deep.equal(Buffer.from([0, 14, 0x61, 0xc0, 0x80, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]));
    expect(() => writeUtf('x'.repeat(0x10000))).to.throw(/longer than 65535/);
    expect(javaStringHash('hello')).to.equal(99162322); // "hello".hashCode() in Java
  });

  it('equals, byte for byte, what Debian\'s own jar writes for this machine\'s certificate links, given its entry dates', function () {
    needCommand(this, 'dpkg-deb');
    if (!haveCommand('java')) skipOrFail(this, 'java is not installed (openjdk-17-jre-headless)');
    const pems = hostPems();
    if (!pems.length) skipOrFail(this, 'no certificate links in /etc/ssl/certs');
    const { 'ca-certificates-java': deb } = downloadDebs(this, ['ca-certificates-java']);
    const tree = join(dir, 'ca-certificates-java');
    expect(spawnSync('dpkg-deb', ['-x', deb, tree]).status).to.equal(0);
    const file = join(dir, 'debian-cacerts');
    runDebianJar(join(tree, 'usr/share/ca-certificates-java/ca-certificates-java.jar'), file, storeOf(pems).map((c) => `/etc/ssl/certs/${c.alias.slice('debian:'.length)}`), dir);
    const theirs = readFileSync(file);
    const dates = new Map(readJks(theirs).map((e) => [e.alias, e.date]));
    expect(writeJks(storeOf(pems, (a) => dates.get(a)!), 'changeit').equals(theirs), 'the same bytes, the order and the MAC included').to.equal(true);
  });

  it('keytool reads our store: every alias, with the SHA-256 fingerprints of the host\'s store for the ones both hold', function () {
    if (!haveCommand('keytool')) skipOrFail(this, 'keytool is not installed (openjdk-17-jre-headless)');
    const pems = hostPems();
    if (!pems.length) skipOrFail(this, 'no certificate links in /etc/ssl/certs');
    const file = join(dir, 'cacerts');
    const store = storeOf(pems);
    writeFileSync(file, writeJks(store, 'changeit'));
    const listed = keytoolList(file);
    expect(new Map(store.map((c) => [jksAlias(c.alias), createHash('sha256').update(c.der).digest('hex')]))).to.deep.equal(listed);
    if (existsSync(HOST_STORE)) {
      const host = keytoolList(HOST_STORE);
      const shared = [...listed.keys()].filter((a) => host.has(a));
      expect(shared.length).to.be.greaterThan(listed.size / 2);
      for (const a of shared) expect(listed.get(a), a).to.equal(host.get(a));
    }
  });

  it('a JVM given our store as javax.net.ssl.trustStore trusts every certificate in it', function () {
    if (!haveCommand('java')) skipOrFail(this, 'java is not installed (openjdk-17-jre-headless)');
    const pems = hostPems();
    if (!pems.length) skipOrFail(this, 'no certificate links in /etc/ssl/certs');
    const file = join(dir, 'trust');
    writeFileSync(file, writeJks(storeOf(pems), 'changeit'));
    writeFileSync(join(dir, 'Trusted.java'), `import javax.net.ssl.*; import java.security.KeyStore;
public class Trusted { public static void main(String[] a) throws Exception {
  TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
  f.init((KeyStore) null);
  System.out.println(((X509TrustManager) f.getTrustManagers()[0]).getAcceptedIssuers().length);
} }\n`);
    const r = spawnSync('java', [`-Djavax.net.ssl.trustStore=${file}`, '-Djavax.net.ssl.trustStorePassword=changeit', join(dir, 'Trusted.java')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).to.equal(0);
    expect(Number(r.stdout.trim())).to.equal(new Set(storeOf(pems).map((c) => c.der.toString('hex'))).size);
  });

  it('entries go in the order Java\'s JKS Hashtable gives them, through rehashes, removals and non-ASCII aliases', function () {
    if (!haveCommand('java')) skipOrFail(this, 'java is not installed (openjdk-17-jre-headless)');
    const pems = hostPems();
    if (!pems.length) skipOrFail(this, 'no certificate links in /etc/ssl/certs');
    const der = firstCertificate(pems[0].bytes)!;
    writeFileSync(join(dir, 'cert.der'), der);
    // 700 aliases, some set twice (Debian's jar removes, then sets again) and some differing only in case.
    const aliases = Array.from({ length: 700 }, (_, i) => [`debian:Cert_${i}.pem`, `Ünïcödé-${i % 37}`, `debian:CERT_${i % 50}.PEM`, `x${i * 7919}`][i % 4]);
    writeFileSync(join(dir, 'aliases'), aliases.join('\n') + '\n');
    writeFileSync(join(dir, 'Order.java'), `import java.io.*; import java.nio.file.*; import java.security.*; import java.security.cert.*; import java.util.*;
public class Order { public static void main(String[] a) throws Exception {
  java.security.cert.Certificate c = CertificateFactory.getInstance("X.509").generateCertificate(new FileInputStream(a[0]));
  KeyStore ks = KeyStore.getInstance("JKS"); ks.load(null, null);
  for (String s : Files.readAllLines(Paths.get(a[1]))) { if (ks.containsAlias(s)) ks.deleteEntry(s); ks.setCertificateEntry(s, c); }
  PrintStream out = new PrintStream(System.out, true, "UTF-8");
  for (String s : Collections.list(ks.aliases())) out.println(s);
} }\n`);
    const r = spawnSync('java', ['-Dfile.encoding=UTF-8', join(dir, 'Order.java'), join(dir, 'cert.der'), join(dir, 'aliases')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).to.equal(0);
    const ours = readJks(writeJks(aliases.map((alias) => ({ alias, der })), 'changeit')).map((e) => e.alias);
    expect(ours).to.deep.equal(r.stdout.trimEnd().split('\n'));
  });

  it('/etc/default/cacerts: a plain storepass is the MAC\'s password, cacerts_updates=no makes no store, a file with no certificate is left out and said', function () {
    const pems = hostPems().slice(0, 3);
    if (!pems.length) skipOrFail(this, 'no certificate links in /etc/ssl/certs');
    const junk = { name: 'junk.pem', bytes: Buffer.from('not a certificate\n') };
    const fake = makeRoot({ 'etc/default/cacerts': "# defaults\nstorepass='s3cret!'\ncacerts_updates=yes\n" });
    try {
      const warnings: string[] = [];
      const made = javaCacertsFile(fake.root, [...pems, junk], warnings);
      expect(made && 'content' in made ? made.content : undefined).to.deep.equal(writeJks(storeOf(pems), 's3cret!'));
      expect(warnings).to.deep.equal([`ca-certificates-java: /etc/ssl/certs/junk.pem: no certificate Java would read: left out of ${JAVA_CACERTS}`]);
      fake.add({ 'etc/default/cacerts': 'cacerts_updates=no\n' });
      const off: string[] = [];
      expect(javaCacertsFile(fake.root, pems, off)).to.equal(undefined);
      expect(off).to.deep.equal([`ca-certificates-java: /etc/default/cacerts sets cacerts_updates=no: ${JAVA_CACERTS} not made`]);
      fake.add({ 'etc/default/cacerts': 'storepass="$(cat /x)"\n' });
      const odd: string[] = [];
      expect(javaCacertsFile(fake.root, pems, odd)).to.deep.include({ content: writeJks(storeOf(pems), 'changeit') });
      expect(odd).to.deep.equal(['ca-certificates-java: /etc/default/cacerts: storepass= is not a plain value: the default is used']);
    } finally {
      fake.cleanup();
    }
  });

  it('refuses more entries than its bound, and a certificate file without a whole certificate is none', () => {
    expect(() => writeJks(new Array(100_001).fill({ alias: 'a', der: Buffer.alloc(0) }), 'changeit')).to.throw(/more than 100000/);
    expect(firstCertificate(Buffer.from('-----BEGIN CERTIFICATE-----\nMAM=\n-----END CERTIFICATE-----\n'))).to.equal(undefined); // 30 03: a length past the end
    expect(firstCertificate(Buffer.from('-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n'))).to.equal(undefined);
    expect(firstCertificate(Buffer.from('text first\n-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n'))).to.deep.equal(Buffer.from([0x30, 0]));
  });
});
