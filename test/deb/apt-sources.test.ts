import { expect } from 'chai';
import { chooseArchive, chooseSuites, MAX_SOURCE_ENTRIES, MAX_SUITES, readAptSources, type SourcesReader } from '../../src/deb/apt-sources.js';
import { ElfpackError } from '../../src/errors.js';

/** A reader over given files, as a root would hold them. */
function files(map: Record<string, string>): SourcesReader {
  return {
    readText: (p) => map[p],
    list: (dir) => Object.keys(map).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
  };
}

function thrown(f: () => unknown): ElfpackError {
  try {
    f();
  } catch (err) {
    return err as ElfpackError;
  }
  throw new Error('did not throw');
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
    expect(e[0]).to.deep.include({ type: 'deb', uris: ['http://ftp.example.org/debian'], suites: ['bookworm'], components: ['main', 'contrib'], archs: ['amd64', 'arm64'], signedBy: '/usr/share/keyrings/k.gpg', origin: '/etc/apt/sources.list:2' });
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
    expect(e[0]).to.deep.include({ suites: ['bookworm', 'bookworm-updates'], archs: ['arm64'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg' });
    expect(e[2].signedBy).to.equal('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----');
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
    expect(chooseArchive(e, 'bookworm', 'amd64')).to.deep.equal({ mirror: 'http://all.example/d', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/k.gpg', origin: '/etc/apt/sources.list:4' });
    expect(chooseArchive(e, 'bookworm', 'arm64').mirror).to.equal('http://arm.example/d');
    expect(chooseArchive(e, 'bookworm', 'amd64', 'http://mirror.example/debian')).to.deep.include({ mirror: 'http://mirror.example/debian', components: ['main', 'contrib'], origin: '--mirror' });
  });

  it('no entry for the suite: an error saying to pass --mirror; with --mirror, its main component', () => {
    expect(thrown(() => chooseArchive([], 'bookworm', 'amd64')).message).to.match(/no apt source .* for suite bookworm and architecture amd64 .*--mirror URL/);
    expect(chooseArchive([], 'bookworm', 'amd64', 'http://m.example/debian')).to.deep.equal({ mirror: 'http://m.example/debian', suite: 'bookworm', components: ['main'], origin: '--mirror' });
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
    expect(c.choices.map((x) => [x.suite, x.mirror, x.components.join(' '), x.signedBy])).to.deep.equal([
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

  it('--mirror: the suite there with the host entry\'s components, and its -updates there only if it has them (optional); security is said not to be read', () => {
    const c = chooseSuites(readAptSources(host), ['bookworm'], 'amd64', 'http://mirror.example/debian');
    expect(c.choices).to.deep.equal([
      { mirror: 'http://mirror.example/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg', origin: '--mirror' },
      { mirror: 'http://mirror.example/debian', suite: 'bookworm-updates', components: ['main', 'contrib'], signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg', origin: '--mirror', optional: true },
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
});
