// update-alternatives --install calls read from postinst text, and which one wins.
import { expect } from 'chai';
import { chooseAlternatives, parseAlternatives } from '../../src/deb/alternatives.js';

const MAWK = `#!/bin/sh
set -e
# Automatically added by dh_installalternatives/13.7.1
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \\
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \\
            --slave /usr/bin/nawk nawk /usr/bin/mawk
fi
`;

describe('deb/alternatives: what postinst asks update-alternatives for', () => {
  it('reads a debhelper --install call with its slaves across continued lines', () => {
    const { installs, skipped } = parseAlternatives(MAWK, 'mawk');
    expect(skipped).to.deep.equal([]);
    expect(installs).to.deep.equal([{
      link: '/usr/bin/awk', name: 'awk', path: '/usr/bin/mawk', priority: 5, pkg: 'mawk',
      slaves: [{ link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' }, { link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/mawk' }],
    }]);
  });

  it('skips, and says, a call built from shell variables; ignores --remove and comments', () => {
    const text = 'update-alternatives --install /usr/bin/x x "$DIR/x" 10\nupdate-alternatives --remove x /usr/bin/y\n# update-alternatives --install /a a /b 1\n';
    const { installs, skipped } = parseAlternatives(text, 'p');
    expect(installs).to.deep.equal([]);
    expect(skipped).to.have.length(1);
    expect(skipped[0]).to.match(/^p: postinst: an update-alternatives call that is not literal/);
  });

  it('the highest priority whose file the root holds wins; its slaves only where their files are', () => {
    const a = parseAlternatives('update-alternatives --install /usr/bin/editor editor /usr/bin/vim 50 --slave /usr/bin/ex ex /usr/bin/vim.ex', 'vim').installs;
    const b = parseAlternatives('update-alternatives --install /usr/bin/editor editor /usr/bin/nano 40 --slave /usr/bin/ex ex /usr/bin/nano.ex', 'nano').installs;
    const c = parseAlternatives('update-alternatives --install /usr/bin/editor editor /usr/bin/gone 90', 'gone').installs;
    const have = new Set(['/usr/bin/vim', '/usr/bin/nano', '/usr/bin/nano.ex']);
    const got = chooseAlternatives([...a, ...b, ...c], (p) => have.has(p));
    expect(got.map((g) => g.master.pkg)).to.deep.equal(['vim']);
    expect(got[0].links).to.deep.equal([{ link: '/usr/bin/editor', name: 'editor', path: '/usr/bin/vim' }]);
  });
});
