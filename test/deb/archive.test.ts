import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { openArchive, type OpenArchiveOptions } from '../../src/deb/archive.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { ElfpackError } from '../../src/errors.js';
import { archiveProxy, hostArchiveUrl, type ProxyAnswer } from '../support/archive-proxy.js';
import { keyByUid, listKeys } from '../support/gpg-keys.js';
import { haveCommand, refusal, skipOrFail } from '../support/helpers.js';

const SUITE = 'bookworm';
const REAL = hostArchiveUrl(SUITE);
const OTHER_KEYRING = '/usr/share/keyrings/debian-archive-trixie-stable.gpg'; // does not sign bookworm

/** A local archive on 127.0.0.1: `routes` answers a path, or undefined to pass the GET to the real archive. */
async function localArchive(routes: (path: string) => ProxyAnswer | undefined) {
  const p = await archiveProxy(REAL, routes);
  return { mirror: p.base.replace(/\/$/, ''), requests: p.requests, close: p.close };
}

/** jq's Filename, Size and SHA256 from a Packages text (a regex is enough here). */
function jqEntry(text: string): { filename: string; size: number; sha256: string } {
  const p = /(?:^|\n)Package: jq\n((?:[^\n]+\n)+)/.exec(text);
  expect(p, 'jq in Packages').to.not.equal(null);
  const field = (name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(p![1])![1];
  return { filename: field('Filename'), size: Number(field('Size')), sha256: field('SHA256') };
}

describe('deb/archive', function () {
  this.timeout(180_000);
  let inRelease: Buffer | undefined;
  let unreachable = '';
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'elfpack-deb-'));
    dirs.push(d);
    return d;
  };
  let shared: string;

  before(async () => {
    shared = tmp();
    const h = new ArchiveHttp(15_000);
    try {
      inRelease = await h.getBytes(new URL(`dists/${SUITE}/InRelease`, REAL).toString(), 16 << 20);
    } catch (err) {
      unreachable = `${REAL} is unreachable: ${(err as Error).message}`;
    } finally {
      await h.close();
    }
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function need(ctx: Mocha.Context): void {
    if (!inRelease) skipOrFail(ctx, unreachable);
    if (!haveCommand('gpgv')) skipOrFail(ctx, 'gpgv is not installed');
    if (!existsSync(DEFAULT_KEYRING)) skipOrFail(ctx, `${DEFAULT_KEYRING} is missing (debian-archive-keyring)`);
  }
  const base = (o: Partial<OpenArchiveOptions>): OpenArchiveOptions => ({ mirror: REAL, suite: SUITE, arch: 'amd64', cacheDir: shared, ...o });

  for (const arch of ['amd64', 'arm64']) {
    it(`opens ${SUITE} main ${arch}: the signature checked with the host keyring, jq in its Packages`, async function () {
      need(this);
      const a = await openArchive(base({ arch }));
      try {
        expect(a.signers.length).to.be.greaterThan(0);
        expect(a.release.codename).to.equal(SUITE);
        expect(a.packages.map((p) => p.path)).to.deep.equal([`main/binary-${arch}/Packages.gz`]);
        const jq = jqEntry(a.packages[0].text);
        expect(jq.filename).to.match(new RegExp(`^pool/main/j/jq/jq_.*_${arch}\\.deb$`));
        expect(a.debUrl(jq.filename)).to.equal(new URL(jq.filename, REAL).toString());
      } finally {
        await a.close();
      }
    });
  }

  it("fetches jq's .deb once into the cache by its SHA256; with the archive gone, the cache is enough", async function () {
    need(this);
    const local = await localArchive(() => undefined);
    const a = await openArchive(base({ mirror: local.mirror }));
    const jq = jqEntry(a.packages[0].text);
    const path = await a.fetchDeb(jq.filename, jq.sha256, jq.size);
    expect(path).to.equal(join(shared, 'debs', 'sha256', `${jq.sha256}.deb`));
    expect(readFileSync(path).length).to.equal(jq.size);
    await a.close();
    await local.close(); // nothing listens there any more
    const notes: string[] = [];
    const b = await openArchive(base({ mirror: local.mirror, onWarning: (l) => notes.push(l) }));
    try {
      expect(notes).to.have.length(1);
      expect(notes[0]).to.match(/^note: GET http:\/\/127\.0\.0\.1:\d+\/dists\/bookworm\/InRelease: connection refused .*; using the InRelease cached on /);
      expect(jqEntry(b.packages[0].text)).to.deep.equal(jq);
      expect(await b.fetchDeb(jq.filename, jq.sha256, jq.size)).to.equal(path);
    } finally {
      await b.close();
    }
  });

  it('a Packages.gz that differs from the signed Release is refused in one line naming it', async function () {
    need(this);
    const real = Buffer.from(await (await fetch(new URL(`dists/${SUITE}/non-free-firmware/binary-amd64/Packages.gz`, REAL))).arrayBuffer());
    real[real.length - 20] ^= 1;
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: inRelease } : p.includes('/binary-amd64/') ? { body: real } : { status: 404 }));
    try {
      const err = await refusal(openArchive(base({ mirror: local.mirror, cacheDir: tmp(), components: ['non-free-firmware'] })));
      expect(err.code).to.equal('DEB_ARCHIVE');
      expect(err.describe()).to.match(/^GET http:\/\/127\.0\.0\.1:\d+\/dists\/bookworm\/non-free-firmware\/binary-amd64\/(by-hash\/SHA256\/[0-9a-f]{64}|Packages\.gz): SHA256 [0-9a-f]{64}, its index says [0-9a-f]{64}: refused/);
    } finally {
      await local.close();
    }
  });

  it('an InRelease with one byte changed in its signed text is refused: a bad signature', async function () {
    need(this);
    const bent = Buffer.from(inRelease!);
    const at = bent.indexOf('\nOrigin: Debian') + 10;
    bent[at] ^= 0x20; // "Debian" → "debian"
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: bent } : undefined));
    try {
      const err = await refusal(openArchive(base({ mirror: local.mirror, cacheDir: tmp() })));
      expect(err.code).to.equal('DEB_SIGNATURE');
      expect(err.describe()).to.match(/InRelease: BAD signature by key [0-9A-F]{16}: the file was changed after it was signed; refused$/);
    } finally {
      await local.close();
    }
  });

  it('unsigned data outside the signed frame is refused', async function () {
    need(this);
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: Buffer.concat([inRelease!, Buffer.from('Architectures: mips\n')]) } : undefined));
    try {
      const err = await refusal(openArchive(base({ mirror: local.mirror, cacheDir: tmp() })));
      expect(err.describe()).to.match(/InRelease: data after the signature: not a clearsigned InRelease, refused$/);
    } finally {
      await local.close();
    }
  });

  it('a keyring without the signing keys is refused, naming the keys that signed', async function () {
    need(this);
    if (!existsSync(OTHER_KEYRING)) skipOrFail(this, `${OTHER_KEYRING} is missing (debian-archive-keyring)`);
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: inRelease } : undefined));
    try {
      const err = await refusal(openArchive(base({ mirror: local.mirror, cacheDir: tmp(), keyring: OTHER_KEYRING })));
      expect(err.code).to.equal('DEB_SIGNATURE');
      expect(err.describe()).to.match(/InRelease: not signed by a key of the keyring: signed by [0-9A-F]{16}(, [0-9A-F]{16})*; refused/);
      const missing = await refusal(openArchive(base({ mirror: local.mirror, cacheDir: tmp(), keyring: '/nonexistent/k.gpg' })));
      expect(missing.describe()).to.equal('/nonexistent/k.gpg: keyring not found');
    } finally {
      await local.close();
    }
  });

  it('Signed-By fingerprints: only a listed key\'s signature counts; an unlisted one is refused in one line, from a remembered verdict too, and nothing is cached', async function () {
    need(this);
    if (!haveCommand('gpg')) skipOrFail(this, 'gpg is not installed (it lists the keyring\'s fingerprints)');
    const keys = listKeys(DEFAULT_KEYRING);
    const stable = keyByUid(keys, 'Debian Stable Release Key (12/bookworm)').primary;
    const trixie = keyByUid(keys, 'Debian Stable Release Key (13/trixie)').primary; // does not sign bookworm
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: inRelease } : undefined));
    const cacheDir = tmp();
    try {
      const a = await openArchive(base({ mirror: local.mirror, cacheDir, signedBy: { keyrings: [], fingerprints: [stable], origin: 'test.sources:1' } }));
      expect(a.signers).to.deep.equal([stable]);
      await a.close();
      const lists = join(cacheDir, 'lists');
      const before = readdirSync(lists).filter((f) => f.endsWith('InRelease'));
      for (const f of before) rmSync(join(lists, f));
      // gpgv's verdict on these bytes is remembered now: the fingerprints are still checked.
      const err = await refusal(openArchive(base({ mirror: local.mirror, cacheDir, signedBy: { keyrings: [], fingerprints: [trixie], origin: '/etc/apt/sources.list:3' } })));
      expect(err.code).to.equal('DEB_SIGNATURE');
      expect(err.describe()).to.match(/\/dists\/bookworm\/InRelease: signed by [0-9A-F]{40}.*, which the source's Signed-By \(\/etc\/apt\/sources\.list:3\) does not list$/);
      expect(readdirSync(lists).filter((f) => f.endsWith('InRelease'))).to.deep.equal([]);
    } finally {
      await local.close();
    }
  });

  it('an armored keyring (.asc) works as its binary form', async function () {
    need(this);
    const b64 = readFileSync(DEFAULT_KEYRING).toString('base64').replace(/.{64}/g, '$&\n');
    const asc = join(tmp(), 'debian.asc');
    writeFileSync(asc, `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${b64}\n-----END PGP PUBLIC KEY BLOCK-----\n`);
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: inRelease } : undefined));
    try {
      const a = await openArchive(base({ mirror: local.mirror, keyring: asc, components: ['non-free-firmware'] }));
      expect(a.signers.length).to.be.greaterThan(0);
      await a.close();
    } finally {
      await local.close();
    }
  });

  it('an architecture the suite does not have: one error listing those it has', async function () {
    need(this);
    const err = await refusal(openArchive(base({ arch: 'mips', cacheDir: tmp() })));
    expect(err.describe()).to.match(/\/dists\/bookworm\/InRelease: suite bookworm has no architecture mips; it has amd64, arm64, .*s390x$/);
    const comp = await refusal(openArchive(base({ components: ['main', 'extra'], cacheDir: tmp() })));
    expect(comp.describe()).to.match(/suite bookworm has no component extra; it has main, contrib/);
  });

  it("another suite's signed InRelease is refused (no replay across suites)", async function () {
    need(this);
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: inRelease } : undefined));
    try {
      const err = await refusal(openArchive(base({ mirror: local.mirror, suite: 'trixie', cacheDir: tmp() })));
      expect(err.describe()).to.match(/\/dists\/trixie\/InRelease: for suite \S+ \(codename bookworm\), not trixie: refused$/);
    } finally {
      await local.close();
    }
  });

  it('a Release past its Valid-Until is refused unless allowed', async function () {
    need(this);
    const security = REAL.replace(/\/debian\/$/, '/debian-security/');
    const err = await refusal(openArchive(base({ mirror: security, suite: `${SUITE}-security`, cacheDir: tmp(), now: new Date('2100-01-01') })));
    expect(err.describe()).to.match(/InRelease: expired on .* \(Valid-Until\): a stale or replayed archive, refused$/);
  });

  it('--insecure-no-verify takes an unverified InRelease, with a loud warning', async function () {
    need(this);
    const bent = Buffer.from(inRelease!);
    bent[bent.indexOf('\nOrigin: Debian') + 10] ^= 0x20;
    const local = await localArchive((p) => (p.endsWith('/InRelease') ? { body: bent } : undefined));
    const warnings: string[] = [];
    try {
      const a = await openArchive(base({ mirror: local.mirror, cacheDir: tmp(), components: ['non-free-firmware'], insecureNoVerify: true, onWarning: (l) => warnings.push(l) }));
      expect(a.signers).to.deep.equal([]);
      expect(a.packages[0].text).to.match(/^Package: /m);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/^WARNING: .*\/InRelease: signature NOT checked/);
      await a.close();
    } finally {
      await local.close();
    }
  });

  it('an archive answering 404, or redirecting without end, is one line naming the URL', async () => {
    const local = await localArchive((p) => (p.includes('loop') ? { status: 302, location: p } : { status: 404 }));
    try {
      const notFound = await refusal(openArchive({ mirror: local.mirror, suite: SUITE, arch: 'amd64', cacheDir: tmp() }));
      expect(notFound.message).to.equal(`GET ${local.mirror}/dists/bookworm/InRelease: 404 Not Found`);
      const loop = await refusal(openArchive({ mirror: `${local.mirror}/loop`, suite: SUITE, arch: 'amd64', cacheDir: tmp() }));
      expect(loop.message).to.equal(`GET ${local.mirror}/loop/dists/bookworm/InRelease: more than 5 redirects`);
    } finally {
      await local.close();
    }
  });

  it('a second open asks for the InRelease conditionally (its ETag and Last-Modified); a 304 uses the cached copy, checked as new bytes are', async function () {
    need(this);
    const seen: string[] = [];
    let etag = '"v1"';
    const server = http.createServer((q, a) => {
      if (!q.url?.endsWith('/InRelease')) return a.writeHead(404).end();
      const asked = `${q.headers['if-none-match'] ?? '-'} ${q.headers['if-modified-since'] ?? '-'}`;
      seen.push(asked);
      if (q.headers['if-none-match'] === etag) return a.writeHead(304, { etag }).end();
      a.writeHead(200, { etag, 'last-modified': 'Sat, 01 Jun 2024 10:00:00 GMT' }).end(inRelease);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
    const cacheDir = tmp();
    const open = async () => {
      const a = await openArchive(base({ mirror, cacheDir, deferIndexes: true }));
      await a.close();
      return a.signers;
    };
    try {
      const signers = await open();
      expect(await open()).to.deep.equal(signers);
      expect(seen).to.deep.equal(['- -', '"v1" Sat, 01 Jun 2024 10:00:00 GMT']);
      // A cached copy that is not the one the validators were given for is not asked about.
      const lists = join(cacheDir, 'lists');
      const copy = join(lists, readdirSync(lists).find((f) => f.endsWith('_InRelease'))!);
      writeFileSync(copy, Buffer.concat([readFileSync(copy), Buffer.from('\n')]));
      expect(await open()).to.deep.equal(signers);
      expect(seen[2]).to.equal('- -');
      etag = '"v2"'; // the archive changed: the new bytes come, and are kept with their new ETag
      expect(await open()).to.deep.equal(signers);
      expect(await open()).to.deep.equal(signers);
      expect(seen.slice(3)).to.deep.equal(['"v1" Sat, 01 Jun 2024 10:00:00 GMT', '"v2" Sat, 01 Jun 2024 10:00:00 GMT']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a Filename that would leave the archive is refused', async function () {
    need(this);
    const a = await openArchive(base({ components: ['non-free-firmware'] }));
    try {
      for (const bad of ['../etc/passwd', '/pool/x.deb', 'http://evil.example/x.deb', 'pool/../../x.deb']) {
        expect(() => a.debUrl(bad)).to.throw(ElfpackError, /not a path inside the archive/);
      }
      const err = await refusal(a.fetchDeb('pool/x.deb', 'nothex', 1));
      expect(err.describe()).to.match(/SHA256 "nothex" is not 64 hex digits/);
    } finally {
      await a.close();
    }
  });
});

describe('deb/archive cache', function () {
  this.timeout(120_000);
  const REAL_MIRROR = 'http://deb.debian.org/debian';
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'elfpack-deb-cache-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a damaged index or .deb in the cache is fetched again', async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian keyring is missing');
    const opts = { mirror: REAL_MIRROR, suite: SUITE, arch: 'amd64', components: ['non-free-firmware'], cacheDir: dir };
    let a;
    try {
      a = await openArchive(opts);
    } catch (err) {
      if ((err as ElfpackError).code === 'DEB_UNREACHABLE') skipOrFail(this, (err as Error).message);
      throw err;
    }
    const entry = a.release.files.get('non-free-firmware/binary-amd64/Packages.gz')!;
    const cached = join(dir, 'lists', 'sha256', entry.sha256);
    const bytes = readFileSync(cached);
    bytes[bytes.length - 5] ^= 1;
    writeFileSync(cached, bytes);
    const text = a.packages[0].text;
    const p = /(?:^|\n)Package: (\S+)\n(?:[^\n]+\n)*?Filename: (\S+)\n(?:[^\n]+\n)*?Size: (\d+)\n(?:[^\n]+\n)*?SHA256: (\S+)/.exec(text)!;
    // The first package's .deb (a few hundred KB in bookworm's non-free-firmware).
    const deb = await a.fetchDeb(p[2], p[4], Number(p[3]));
    await a.close();
    writeFileSync(deb, 'damaged');
    const b = await openArchive(opts);
    try {
      expect(b.packages[0].text).to.equal(text);
      expect(createHashHex(readFileSync(cached))).to.equal(entry.sha256);
      expect(createHashHex(readFileSync(await b.fetchDeb(p[2], p[4], Number(p[3]))))).to.equal(p[4]);
    } finally {
      await b.close();
    }
  });
});

function createHashHex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
