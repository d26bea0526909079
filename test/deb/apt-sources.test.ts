import { expect } from 'chai';
import {
  chooseArchive, chooseSuites, MAX_SIGNED_BY_ITEMS, MAX_SOURCE_ENTRIES, MAX_SUITES, MAX_TRUSTED_KEYRINGS, readAptSources, readTrustedKeyrings, verificationFor, type SourcesReader,
} from '../../src/deb/apt-sources.js';
import { ElfpackError } from '../../src/errors.js';
import { thrown } from '../support/helpers.js';

/** A reader over given files, as a root would hold them. */
function files(map: Record<string, string>): SourcesReader {
  return {
    readText: (p) => map[p],
    list: (dir) => Object.keys(map).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
  };
}

describe('deb/apt-sources', () => {
  it('reads the one-line form with options, comments and deb-src lines', () => {
    const e = readAptSources(files({
      '/etc/apt/sources.list': [
        '# the main archive',
        'deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/k.gpg] http://ftp.example.org/debian bookworm main contrib # trailing comment',
        'deb-src http://ftp.example.org/debian bookworm main',
        '',
        'deb https://local.example/repo ./',
      ].join('\n'),
    }));
    expect(e).to.have.length(3);
    expect(e[0]).to.deep.include({ type: 'deb', uris: ['http://ftp.example.org/debian'], suites: ['bookworm'], components: ['main', 'contrib'], archs: ['amd64', 'arm64'], signedBy: { keyrings: ['/usr/share/keyrings/k.gpg'], fingerprints: [], origin: '/etc/apt/sources.list:2' }, origin: '/etc/apt/sources.list:2' });
    expect(e[1].type).to.equal('deb-src');
    expect(e[2]).to.deep.include({ suites: ['./'], components: [] });
  });

  it('reads the deb822 form; Enabled: no leaves a paragraph out; an inline key block is kept as Signed-By', () => {
    const e = readAptSources(files({
      '/etc/apt/sources.list.d/debian.sources': [
        'Types: deb deb-src',
        '# a comment inside a paragraph',
        'URIs: http://deb.example.org/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Architectures: arm64',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://off.example.org/debian',
        'Suites: bookworm',
        'Components: main',
        'Enabled: no',
        '',
        'Types: deb',
        'URIs: http://inline.example.org/debian',
        'Suites: trixie',
        'Components: main',
        'Signed-By:',
        ' -----BEGIN PGP PUBLIC KEY BLOCK-----',
        ' .',
        ' AAAA',
        ' -----END PGP PUBLIC KEY BLOCK-----',
      ].join('\n'),
    }));
    expect(e.map((x) => `${x.type} ${x.uris[0]}`)).to.deep.equal(['deb http://deb.example.org/debian', 'deb-src http://deb.example.org/debian', 'deb http://inline.example.org/debian']);
    expect(e[0]).to.deep.include({ suites: ['bookworm', 'bookworm-updates'], archs: ['arm64'] });
    expect(e[0].signedBy?.keyrings).to.deep.equal(['/usr/share/keyrings/debian-archive-keyring.gpg']);
    expect(e[2].signedBy).to.deep.equal({ keyrings: ['-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----'], fingerprints: [], origin: '/etc/apt/sources.list.d/debian.sources:15' });
  });

  it('reads sources.list first, then sources.list.d by name; names apt ignores are ignored', () => {
    const e = readAptSources(files({
      '/etc/apt/sources.list.d/b.list': 'deb http://b.example/d s main\n',
      '/etc/apt/sources.list.d/a.sources': 'Types: deb\nURIs: http://a.example/d\nSuites: s\nComponents: main\n',
      '/etc/apt/sources.list.d/c.list.disabled-by-admin': 'deb http://c.example/d s main\n',
      '/etc/apt/sources.list.d/d.list.save': 'deb http://d.example/d s main\n',
      '/etc/apt/sources.list': 'deb http://first.example/d s main\n',
    }));
    expect(e.map((x) => x.uris[0])).to.deep.equal(['http://first.example/d', 'http://a.example/d', 'http://b.example/d']);
  });

  it('a line that is not a source, or a suite name without components, is one error naming the file and line', () => {
    const bad = thrown(() => readAptSources(files({ '/etc/apt/sources.list': 'deb\n' })));
    expect(bad.describe()).to.equal('/etc/apt/sources.list: line 1: not a "deb [options] URI SUITE [COMPONENT…]" line');
    const noComp = thrown(() => readAptSources(files({ '/etc/apt/sources.list.d/x.list': '\ndeb http://x/d bookworm\n' })));
    expect(noComp.describe()).to.equal('/etc/apt/sources.list.d/x.list: line 2: no components');
  });

  it(`more than ${MAX_SOURCE_ENTRIES} entries is an error`, () => {
    const text = 'deb http://x/d s main\n'.repeat(MAX_SOURCE_ENTRIES + 1);
    expect(thrown(() => readAptSources(files({ '/etc/apt/sources.list': text }))).message).to.match(/more than 1000 apt source entries/);
  });

  it('chooses the first deb entry (not deb-src) for the suite and architecture, as apt does', () => {
    const e = readAptSources(files({
      '/etc/apt/sources.list': [
        'deb-src http://src.example/d bookworm main',
        'deb [arch=arm64] http://arm.example/d bookworm main',
        'deb http://other.example/d trixie main',
        'deb [signed-by=/k.gpg] http://all.example/d bookworm main contrib',
      ].join('\n'),
    }));
    expect(chooseArchive(e, 'bookworm', 'amd64')).to.deep.equal({ mirror: 'http://all.example/d', suite: 'bookworm', components: ['main', 'contrib'], signedBy: { keyrings: ['/k.gpg'], fingerprints: [], origin: '/etc/apt/sources.list:4' }, origin: '/etc/apt/sources.list:4' });
    expect(chooseArchive(e, 'bookworm', 'arm64').mirror).to.equal('http://arm.example/d');
    expect(chooseArchive(e, 'bookworm', 'amd64', 'http://mirror.example/debian')).to.deep.include({ mirror: 'http://mirror.example/debian', components: ['main', 'contrib'], origin: '--mirror' });
  });

  it('no entry for the suite: an error saying to pass --mirror; with --mirror, its main component', () => {
    expect(thrown(() => chooseArchive([], 'bookworm', 'amd64')).message).to.match(/no apt source .* for suite bookworm and architecture amd64 .*--mirror URL/);
    expect(chooseArchive([], 'bookworm', 'amd64', 'http://m.example/debian')).to.deep.equal({ mirror: 'http://m.example/debian', suite: 'bookworm', components: ['main'], origin: '--mirror', noSource: true });
  });

  // This machine's layout: debian.sources with the main archive and security, plus third-party sources.
  const host = files({
    '/etc/apt/sources.list.d/debian.sources': [
      'Types: deb',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates bookworm-backports bookworm-proposed-updates',
      'Components: main contrib',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://deb.debian.org/debian-security',
      'Suites: bookworm-security',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-security.gpg',
    ].join('\n'),
    '/etc/apt/sources.list.d/google-cloud-sdk.list': 'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n',
    '/etc/apt/sources.list.d/nodesource.sources': 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\nSigned-By: /usr/share/keyrings/nodesource.gpg\n',
  });

  it('one suite: it, -updates and -security, each from its own entry (URI, components, Signed-By); not -backports, -proposed-updates or other sources', () => {
    const c = chooseSuites(readAptSources(host), ['bookworm'], 'amd64');
    expect(c.choices.map((x) => [x.suite, x.mirror, x.components.join(' '), x.signedBy?.keyrings[0]])).to.deep.equal([
      ['bookworm', 'http://deb.debian.org/debian', 'main contrib', '/usr/share/keyrings/debian-archive-keyring.gpg'],
      ['bookworm-updates', 'http://deb.debian.org/debian', 'main contrib', '/usr/share/keyrings/debian-archive-keyring.gpg'],
      ['bookworm-security', 'http://deb.debian.org/debian-security', 'main', '/usr/share/keyrings/debian-security.gpg'],
    ]);
    expect(c.choices.every((x) => !x.optional)).to.equal(true);
    expect(c.notRead).to.match(/not bookworm-backports/);
  });

  it('the old security naming SUITE/updates is a companion; each suite takes its first entry in apt\'s order, for the architecture', () => {
    const e = readAptSources(files({
      '/etc/apt/sources.list': [
        'deb http://archive.example/debian buster main',
        'deb [arch=arm64] http://arm-security.example/ buster/updates main',
        'deb http://security.example/ buster/updates main',
        'deb http://later.example/ buster/updates main',
      ].join('\n'),
    }));
    expect(chooseSuites(e, ['buster'], 'amd64').choices.map((x) => `${x.suite} ${x.mirror}`)).to.deep.equal(['buster http://archive.example/debian', 'buster/updates http://security.example/']);
    expect(chooseSuites(e, ['buster'], 'arm64').choices.map((x) => x.mirror)).to.deep.equal(['http://archive.example/debian', 'http://arm-security.example/']);
  });

  it('a host without companions reads the suite alone; without an entry for it, the error asks for --mirror', () => {
    const e = readAptSources(files({ '/etc/apt/sources.list': 'deb http://x.example/debian trixie main\n' }));
    expect(chooseSuites(e, ['trixie'], 'amd64').choices.map((x) => x.suite)).to.deep.equal(['trixie']);
    expect(thrown(() => chooseSuites(e, ['bookworm'], 'amd64')).message).to.match(/no apt source .* for suite bookworm .*--mirror URL/);
  });

  const debianKeyring = { keyrings: ['/usr/share/keyrings/debian-archive-keyring.gpg'], fingerprints: [], origin: '/etc/apt/sources.list.d/debian.sources:1' };

  it('--mirror: the suite there with the host entry\'s components, and its -updates there only if it has them (optional); security is said not to be read', () => {
    const c = chooseSuites(readAptSources(host), ['bookworm'], 'amd64', 'http://mirror.example/debian');
    expect(c.choices).to.deep.equal([
      { mirror: 'http://mirror.example/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: debianKeyring, origin: '--mirror' },
      { mirror: 'http://mirror.example/debian', suite: 'bookworm-updates', components: ['main', 'contrib'], signedBy: debianKeyring, origin: '--mirror', optional: true },
    ]);
    expect(c.notRead).to.match(/not bookworm-security.*security updates are missing/);
  });

  it('several suites: exactly those, in the order given, each from its entry, one the sources lack from the first suite\'s archive', () => {
    const c = chooseSuites(readAptSources(host), ['bookworm', 'bookworm-security', 'bookworm-backports', 'bookworm-fasttrack', 'bookworm'], 'amd64');
    expect(c.choices.map((x) => `${x.suite} ${x.mirror}`)).to.deep.equal([
      'bookworm http://deb.debian.org/debian',
      'bookworm-security http://deb.debian.org/debian-security',
      'bookworm-backports http://deb.debian.org/debian',
      'bookworm-fasttrack http://deb.debian.org/debian',
    ]);
    expect(c.how).to.equal('exactly those given with --suite');
    expect(thrown(() => chooseSuites([], Array.from({ length: MAX_SUITES + 1 }, (_, i) => `s${i}`), 'amd64', 'http://m.example/')).message).to.match(/more than 16 suites/);
  });

  describe('Signed-By', () => {
    const A = '4D64FEC119C2029067D6E791F8D2585B8783D481';
    const B = 'b8b80b5b623eab6ad8775c45b7c5d7d6350947f8';

    it('one-line form: files and fingerprints separated by commas, "!" kept, fingerprints upper-cased', () => {
      const [e] = readAptSources(files({ '/etc/apt/sources.list': `deb [signed-by=/k/a.gpg,${A},${B}!,/k/b.asc] http://x.example/d s main\n` }));
      expect(e.signedBy).to.deep.equal({ keyrings: ['/k/a.gpg', '/k/b.asc'], fingerprints: [A, `${B.toUpperCase()}!`], origin: '/etc/apt/sources.list:1' });
    });

    it('deb822 form: separated by commas or white space, over several lines; fingerprints alone leave the keyrings empty', () => {
      const e = readAptSources(files({
        '/etc/apt/sources.list.d/x.sources': [
          'Types: deb', 'URIs: http://x.example/d', 'Suites: s', 'Components: main', `Signed-By: ${A}, ${B}!`, '',
          'Types: deb', 'URIs: http://y.example/d', 'Suites: t', 'Components: main', 'Signed-By:', ' /k/a.gpg', ` /k/b.gpg ${A}`,
        ].join('\n'),
      }));
      expect(e[0].signedBy).to.deep.equal({ keyrings: [], fingerprints: [A, `${B.toUpperCase()}!`], origin: '/etc/apt/sources.list.d/x.sources:1' });
      expect(e[1].signedBy).to.deep.equal({ keyrings: ['/k/a.gpg', '/k/b.gpg'], fingerprints: [A], origin: '/etc/apt/sources.list.d/x.sources:7' });
    });

    it('an item that is neither an absolute path nor a 40-digit fingerprint is an error naming the file and line (apt refuses the source)', () => {
      for (const bad of ['keyring.gpg', 'F8D2585B8783D481', `${A}!!`, `${A}0`]) {
        const err = thrown(() => readAptSources(files({ '/etc/apt/sources.list': `\ndeb [signed-by=${bad}] http://x.example/d s main\n` })));
        expect(err.describe(), bad).to.match(/^\/etc\/apt\/sources\.list:2: Signed-By ".*": neither an absolute keyring path nor a fingerprint/);
      }
      const many = Array.from({ length: MAX_SIGNED_BY_ITEMS + 1 }, (_, i) => `/k/${i}.gpg`).join(',');
      expect(thrown(() => readAptSources(files({ '/etc/apt/sources.list': `deb [signed-by=${many}] http://x.example/d s main\n` }))).message).to.match(/more than 64 keyrings and fingerprints/);
    });

    it('an empty Signed-By is none', () => {
      const [e] = readAptSources(files({ '/etc/apt/sources.list': 'deb [signed-by=] http://x.example/d s main\n' }));
      expect(e).not.to.have.property('signedBy');
    });

    it('the trusted keyrings: trusted.gpg.d\'s *.gpg and *.asc by name, then trusted.gpg, under the reader\'s root; none on a host without them', () => {
      const reader: SourcesReader = {
        readText: () => undefined,
        list: (dir) => (dir === '/etc/apt/trusted.gpg.d' ? ['z.gpg', 'a.asc', 'notes.txt', 'b.gpg~', 'bad name.gpg'] : dir === '/etc/apt' ? ['trusted.gpg', 'trusted.gpg.d', 'sources.list'] : []),
        locate: (p) => `/host${p}`,
      };
      expect(readTrustedKeyrings(reader)).to.deep.equal(['/host/etc/apt/trusted.gpg.d/a.asc', '/host/etc/apt/trusted.gpg.d/z.gpg', '/host/etc/apt/trusted.gpg']);
      expect(readTrustedKeyrings(files({}))).to.deep.equal([]);
      const crowded: SourcesReader = { readText: () => undefined, list: (dir) => (dir === '/etc/apt/trusted.gpg.d' ? Array.from({ length: MAX_TRUSTED_KEYRINGS + 1 }, (_, i) => `k${i}.gpg`) : []) };
      expect(thrown(() => readTrustedKeyrings(crowded)).message).to.match(/more than 256 keyrings/);
    });

    it('verification: --keyring replaces Signed-By (fingerprints too); its files, else the trusted keyrings, else Debian\'s (undefined); --mirror alone is not an apt source', () => {
      const trusted = ['/etc/apt/trusted.gpg.d/a.asc'];
      const signedBy = { keyrings: ['/k/a.gpg'], fingerprints: [A], origin: 'x:1' };
      const choice = { mirror: 'http://x/', suite: 's', components: ['main'], origin: 'x:1' };
      expect(verificationFor({ ...choice, signedBy }, ['/mine.gpg'], trusted)).to.deep.equal({ keyring: ['/mine.gpg'] });
      expect(verificationFor({ ...choice, signedBy }, undefined, trusted)).to.deep.equal({ keyring: ['/k/a.gpg'], signedBy });
      const fprOnly = { ...signedBy, keyrings: [] };
      expect(verificationFor({ ...choice, signedBy: fprOnly }, [], trusted)).to.deep.equal({ keyring: trusted, signedBy: fprOnly });
      expect(verificationFor(choice, undefined, trusted)).to.deep.equal({ keyring: trusted });
      expect(verificationFor(choice, undefined, [])).to.deep.equal({});
      expect(verificationFor({ ...choice, noSource: true }, undefined, trusted)).to.deep.equal({});
    });
  });
});
