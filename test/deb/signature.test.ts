// Signed-By's fingerprints against the real bookworm InRelease, as apt's gpgv method filters
// signatures: a primary key's fingerprint counts its subkeys' signatures, "!" only that very key's;
// a fingerprint that did not sign is one line naming the signers and the Signed-By. The keys are
// read from Debian's keyring at test time (gpg --show-keys), not written down here.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { ArchiveHttp } from '../../src/deb/archive-http.js';
import { checkSignedBy, DEFAULT_KEYRING, verifyClearsigned, type VerifiedText } from '../../src/deb/signature.js';
import { ElfpackError } from '../../src/errors.js';
import { hostArchiveUrl } from '../support/archive-proxy.js';
import { keyByUid, listKeys, type KeyListing } from '../support/gpg-keys.js';
import { haveCommand, skipOrFail } from '../support/helpers.js';

const URL_ = new URL('dists/bookworm/InRelease', hostArchiveUrl('bookworm')).toString();

describe('deb/signature: Signed-By fingerprints', function () {
  this.timeout(60_000);
  let verified: VerifiedText;
  let stable: KeyListing; // Debian Stable Release Key (12/bookworm): signs with its primary key
  let automatic: KeyListing; // Debian Archive Automatic Signing Key (12/bookworm): signs with a subkey
  let unrelated: KeyListing; // a key of the keyring that did not sign bookworm

  before(async function () {
    for (const cmd of ['gpgv', 'gpg']) if (!haveCommand(cmd)) skipOrFail(this, `${cmd} is not installed`);
    if (!existsSync(DEFAULT_KEYRING)) skipOrFail(this, `${DEFAULT_KEYRING} is missing (debian-archive-keyring)`);
    const h = new ArchiveHttp(15_000);
    let inRelease: Buffer;
    try {
      inRelease = await h.getBytes(URL_, 16 << 20);
    } catch (err) {
      skipOrFail(this, `${URL_} is unreachable: ${(err as Error).message}`);
    } finally {
      await h.close();
    }
    verified = await verifyClearsigned(inRelease, [DEFAULT_KEYRING], URL_);
    const keys = listKeys(DEFAULT_KEYRING);
    stable = keyByUid(keys, 'Debian Stable Release Key (12/bookworm)');
    automatic = keyByUid(keys, 'Debian Archive Automatic Signing Key (12/bookworm)');
    const signed = new Set([...verified.signers, ...verified.primarySigners]);
    unrelated = keys.find((k) => !signed.has(k.primary) && !k.subkeys.some((s) => signed.has(s)))!;
    expect(unrelated, 'a key of the keyring that did not sign bookworm').to.not.equal(undefined);
  });

  const refusal = (f: () => unknown): ElfpackError => {
    try {
      f();
    } catch (err) {
      expect(err).to.be.instanceOf(ElfpackError);
      return err as ElfpackError;
    }
    throw new Error('accepted');
  };

  it('gpgv\'s verdict names each signer\'s primary key: the stable key itself, the automatic key for its subkey', () => {
    const i = verified.signers.indexOf(stable.primary);
    expect(i, 'the stable key signed').to.be.at.least(0);
    expect(verified.primarySigners[i]).to.equal(stable.primary);
    const sub = verified.signers.findIndex((s) => automatic.subkeys.includes(s));
    expect(sub, 'a subkey of the automatic key signed').to.be.at.least(0);
    expect(verified.primarySigners[sub]).to.equal(automatic.primary);
    expect(verified.primarySigners).to.have.length(verified.signers.length);
  });

  it('the stable key\'s fingerprint: accepted, and the signers are those it lists', () => {
    const v = checkSignedBy(verified, [stable.primary], 'x.sources:1', URL_);
    expect(v.signers).to.deep.equal([stable.primary]);
    expect(v.text).to.equal(verified.text);
  });

  it('a primary key\'s fingerprint counts its subkey\'s signature; with "!" it does not; a subkey\'s fingerprint counts with or without "!"', () => {
    const sub = verified.signers.find((s) => automatic.subkeys.includes(s))!;
    expect(checkSignedBy(verified, [automatic.primary], 'x:1', URL_).signers).to.deep.equal([sub]);
    expect(checkSignedBy(verified, [`${sub}!`], 'x:1', URL_).primarySigners).to.deep.equal([automatic.primary]);
    expect(checkSignedBy(verified, [sub], 'x:1', URL_).signers).to.deep.equal([sub]);
    expect(refusal(() => checkSignedBy(verified, [`${automatic.primary}!`], 'x:1', URL_)).describe()).to.include(`which the source's Signed-By (x:1) does not list`);
    // "!" on a primary key that signs itself is that key exactly.
    expect(checkSignedBy(verified, [`${stable.primary}!`], 'x:1', URL_).signers).to.deep.equal([stable.primary]);
  });

  it('a fingerprint that did not sign is refused in one line naming the signers and the Signed-By', () => {
    const err = refusal(() => checkSignedBy(verified, [unrelated.primary], '/etc/apt/sources.list.d/debian.sources:7', URL_));
    const sub = verified.signers.find((s) => automatic.subkeys.includes(s))!;
    expect(err.code).to.equal('DEB_SIGNATURE');
    expect(err.describe()).to.match(new RegExp(`^${URL_.replace(/[.]/g, '\\.')}: signed by .*, which the source's Signed-By \\(/etc/apt/sources\\.list\\.d/debian\\.sources:7\\) does not list$`));
    expect(err.describe()).to.include(`${sub} (a subkey of ${automatic.primary})`).and.include(stable.primary);
  });
});
