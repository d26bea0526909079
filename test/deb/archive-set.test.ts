// openSuites against the real archive through a local proxy that can answer a path itself: an
// optional suite missing (404) is left out, anything else fails the whole set; the security
// archive's Packages.xz is read and checked; a .deb is fetched from its suite's archive only.
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { openSuites } from '../../src/deb/archive-set.js';
import { hostSourcesReader, readTrustedKeyrings, type ArchiveChoice } from '../../src/deb/apt-sources.js';
import { DEFAULT_KEYRING } from '../../src/deb/signature.js';
import { ElfpackError } from '../../src/errors.js';
import { archiveProxy } from '../support/archive-proxy.js';
import { exportKey, keyByUid, listKeys } from '../support/gpg-keys.js';
import { haveCommand, skipOrFail } from '../support/helpers.js';

const REAL = 'http://deb.debian.org/';

/** 127.0.0.1 in front of deb.debian.org: `answer` gives a path's status, or undefined to pass it on. */
const proxy = (answer: (path: string) => number | undefined) => archiveProxy(REAL, (path) => {
  const status = answer(path);
  return status === undefined ? undefined : { status };
});

describe('deb/archive-set', function () {
  this.timeout(180_000);
  let cache: string;
  before(async function () {
    if (!haveCommand('gpgv') || !existsSync(DEFAULT_KEYRING)) skipOrFail(this, 'gpgv or the Debian archive keyring is missing');
    const h = new ArchiveHttp(15_000);
    try {
      await h.getBytes(`${REAL}debian/dists/bookworm/InRelease`, 16 << 20);
    } catch (err) {
      skipOrFail(this, `${REAL} is unreachable: ${(err as Error).message}`);
    } finally {
      await h.close();
    }
    cache = mkdtempSync(join(tmpdir(), 'elfpack-archive-set-'));
  });
  after(() => { if (cache) rmSync(cache, { recursive: true, force: true }); });

  const choice = (mirror: string, suite: string, optional?: boolean): ArchiveChoice => ({ mirror, suite, components: ['main'], origin: 'test', ...(optional ? { optional } : {}) });

  it('an optional suite whose InRelease is 404 is left out; the others open, each with its Release\'s names and pin priority', async () => {
    const p = await proxy((path) => (path.includes('/bookworm-updates/') ? 404 : undefined));
    try {
      const set = await openSuites([choice(`${p.base}debian`, 'bookworm'), choice(`${p.base}debian`, 'bookworm-updates', true), choice(`${p.base}debian`, 'bookworm-backports')], { arch: 'amd64', cacheDir: cache, deferIndexes: true });
      try {
        expect(set.suites.map((s) => [s.source.suite, s.source.priority])).to.deep.equal([['bookworm', 500], ['bookworm-backports', 100]]);
        expect(set.suites[0].source.aliases).to.include('oldstable');
      } finally {
        await set.close();
      }
    } finally {
      await p.close();
    }
  });

  it('an optional suite failing otherwise (500), or a required one missing (404), fails the set: the first choice\'s error', async () => {
    const p = await proxy((path) => (path.includes('/bookworm-updates/') ? 500 : path.includes('/bookworm-proposed-updates/') ? 404 : undefined));
    try {
      const fail = async (choices: ArchiveChoice[]) => {
        try {
          await (await openSuites(choices, { arch: 'amd64', cacheDir: cache, deferIndexes: true })).close();
        } catch (err) {
          expect(err).to.be.instanceOf(ElfpackError);
          return (err as Error).message;
        }
        throw new Error('opened');
      };
      expect(await fail([choice(`${p.base}debian`, 'bookworm'), choice(`${p.base}debian`, 'bookworm-updates', true)])).to.match(/bookworm-updates\/InRelease: 500/);
      expect(await fail([choice(`${p.base}debian`, 'bookworm'), choice(`${p.base}debian`, 'bookworm-proposed-updates'), choice(`${p.base}debian`, 'bookworm-updates', true)])).to.match(/bookworm-proposed-updates\/InRelease: 404/);
    } finally {
      await p.close();
    }
  });

  it('the security archive: "updates/main" components, Packages.xz read and checked; a .deb is fetched from its own suite only', async () => {
    const set = await openSuites([choice(`${REAL}debian`, 'bookworm'), choice(`${REAL}debian-security`, 'bookworm-security')], { arch: 'amd64', cacheDir: cache, deferIndexes: true });
    try {
      const [index] = await set.suites[1].archive.indexes();
      expect(index.path).to.equal('main/binary-amd64/Packages.xz');
      expect(index.text).to.match(/^Package: /m);
      let err: unknown;
      try {
        await set.fetchDeb('bookworm-updates', 'pool/main/j/jq/jq.deb', '0'.repeat(64), 1);
      } catch (e) {
        err = e;
      }
      expect((err as Error)?.message).to.equal('pool/main/j/jq/jq.deb: from suite bookworm-updates, which is not open (opened: bookworm, bookworm-security)');
    } finally {
      await set.close();
    }
  });

  it('a source without Signed-By is checked with the host\'s trusted.gpg.d (as apt does), not Debian\'s keyring; a host without it, or --mirror alone, with Debian\'s', async function () {
    if (!haveCommand('gpg')) skipOrFail(this, 'gpg is not installed (it exports the test\'s keys)');
    const keys = listKeys(DEFAULT_KEYRING);
    const host = (name: string, uid?: string) => {
      const dir = join(cache, name);
      mkdirSync(join(dir, 'etc/apt/trusted.gpg.d'), { recursive: true });
      if (uid) exportKey(DEFAULT_KEYRING, keyByUid(keys, uid).primary, join(dir, 'etc/apt/trusted.gpg.d', 'the-key.asc'));
      return readTrustedKeyrings(hostSourcesReader(dir));
    };
    const bookworm = host('host-bookworm', 'Debian Stable Release Key (12/bookworm)');
    const trixie = host('host-trixie', 'Debian Stable Release Key (13/trixie)'); // does not sign bookworm
    const none = host('host-none');
    expect(bookworm).to.deep.equal([join(cache, 'host-bookworm/etc/apt/trusted.gpg.d/the-key.asc')]);
    expect(none).to.deep.equal([]);
    const open = async (trustedKeyrings: string[], c: ArchiveChoice = choice(`${REAL}debian`, 'bookworm')) => {
      const set = await openSuites([c], { arch: 'amd64', cacheDir: cache, deferIndexes: true, trustedKeyrings });
      await set.close();
      return set.suites[0].archive.signers;
    };
    // Only the bookworm stable key is trusted: it is the one signer that counts.
    expect(await open(bookworm)).to.deep.equal([keyByUid(keys, 'Debian Stable Release Key (12/bookworm)').primary]);
    try {
      await open(trixie);
      throw new Error('opened');
    } catch (err) {
      expect((err as ElfpackError).code).to.equal('DEB_SIGNATURE');
      expect((err as Error).message).to.match(/not signed by a key of the keyring/);
    }
    expect((await open(none)).length).to.be.greaterThan(1); // Debian's whole keyring: every signature counts
    expect((await open(trixie, { ...choice(`${REAL}debian`, 'bookworm'), noSource: true })).length).to.be.greaterThan(1);
  });
});
