import { expect } from 'chai';
import { chooseArchive, MAX_SOURCE_ENTRIES, readAptSources, type SourcesReader } from '../../src/deb/apt-sources.js';
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
});
