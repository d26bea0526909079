// gpgv's verdict on an InRelease is remembered by the bytes of the InRelease and of the keyrings:
// the same bytes again do not run gpgv; other bytes, an old verdict or a damaged one do; a refusal
// is never remembered. gpgv is counted through a wrapper script that runs the real one.
import { expect } from 'chai';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { MAX_VERDICT_AGE_MS, verifyClearsignedCached } from '../../src/deb/signature-cache.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { ElfpackError } from '../../src/errors.js';
import { haveCommand, skipOrFail } from '../support/helpers.js';

describe('deb/signature-cache: gpgv\'s verdict remembered by the bytes checked', function () {
  this.timeout(60_000);
  let dir: string;
  let inRelease: Buffer;
  let gpgv: string;
  const runs = () => (existsSync(join(dir, 'runs')) ? readFileSync(join(dir, 'runs'), 'utf8').split('\n').length - 1 : 0);
  const opts = (o: { now?: () => number } = {}) => ({ cacheDir: join(dir, 'cache'), gpgv, ...o });
  const verdicts = () => join(dir, 'cache', 'lists', 'verified');

  before(async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing (make deps installs them)');
    const h = new ArchiveHttp(15_000);
    try {
      inRelease = await h.getBytes('http://deb.debian.org/debian/dists/bookworm/InRelease', 16 << 20);
    } catch (err) {
      skipOrFail(this, `the Debian archive is unreachable: ${(err as Error).message}`);
    } finally {
      await h.close();
    }
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-verdict-'));
    gpgv = join(dir, 'gpgv');
    writeFileSync(gpgv, `#!/bin/sh\necho run >> '${join(dir, 'runs')}'\nexec gpgv "$@"\n`);
    chmodSync(gpgv, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the same InRelease and keyring again: the remembered signers and text, without gpgv', async () => {
    const first = await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts());
    expect(runs()).to.equal(1);
    expect(first.signers.length).to.be.greaterThan(0);
    const again = await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts());
    expect(runs()).to.equal(1);
    expect(again).to.deep.equal(first); // the primary keys too: Signed-By's fingerprints match on them
    expect(again.primarySigners).to.have.length(first.signers.length);
  });

  it('other keyrings, an old verdict, or a damaged or forged one: gpgv runs again', async () => {
    const first = await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts());
    const copy = join(dir, 'copy.gpg');
    copyFileSync(DEFAULT_KEYRING, copy);
    await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING, copy], 'InRelease', opts());
    expect(runs()).to.equal(2);
    await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts({ now: () => Date.now() + MAX_VERDICT_AGE_MS + 1000 }));
    expect(runs()).to.equal(3);
    const file = join(verdicts(), readdirSync(verdicts()).find((f) => !f.includes('.elfpack-tmp.'))!);
    for (const damage of [(t: string) => t.slice(0, t.length >> 1), (t: string) => t.replace(first.signers[0], 'ABCDEF0123456789ABCDEF0123456789ABCDEF01')]) {
      for (const f of readdirSync(verdicts())) writeFileSync(join(verdicts(), f), damage(readFileSync(join(verdicts(), f), 'utf8')));
      const before = runs();
      expect(await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts())).to.deep.equal(first);
      expect(runs()).to.equal(before + 1);
    }
    expect(existsSync(file)).to.equal(true);
  });

  it('a new verdict removes those past their age', async () => {
    await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING], 'InRelease', opts());
    const old = join(verdicts(), 'ab'.repeat(32));
    writeFileSync(old, 'an old verdict');
    utimesSync(old, new Date(Date.now() - MAX_VERDICT_AGE_MS - 60_000), new Date(Date.now() - MAX_VERDICT_AGE_MS - 60_000));
    await verifyClearsignedCached(inRelease, [DEFAULT_KEYRING, DEFAULT_KEYRING], 'InRelease', opts());
    expect(existsSync(old)).to.equal(false);
    expect(readdirSync(verdicts())).to.have.length(2);
  });

  it('a refused InRelease is refused every time: a bad verdict is not remembered', async () => {
    const bent = Buffer.from(inRelease);
    bent[bent.indexOf('\nOrigin: Debian') + 10] ^= 0x20;
    for (let i = 1; i <= 2; i++) {
      const err = await verifyClearsignedCached(bent, [DEFAULT_KEYRING], 'InRelease', opts()).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(ElfpackError);
      expect((err as ElfpackError).describe()).to.match(/BAD signature/);
      expect(runs()).to.equal(i);
    }
    expect(existsSync(verdicts()) ? readdirSync(verdicts()) : []).to.deep.equal([]);
  });
});
