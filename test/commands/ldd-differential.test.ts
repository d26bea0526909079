// For every ELF executable in /usr/bin and /usr/sbin, elfpack ldd must list what the system ldd
// lists. Programs are given by their real path: ldd runs a program through ld.so by the name it
// is given, so for a symlinked program its $ORIGIN is the link's directory, whereas the kernel's
// exec (what an image does, and what we follow) gives the target's. On the real path both agree.
import { expect } from 'chai';
import { closeSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { HostRoot } from '../../src/root/host-root.js';
import { hostHwcaps } from '../../src/resolve/hwcaps.js';
import { ldd, renderLdd } from '../../src/commands/ldd.js';
import { needCommand, systemLdd } from '../support/helpers.js';

function elfExecutables(dirs: string[]): string[] {
  const out = new Set<string>();
  for (const d of dirs) {
    for (const name of readdirSync(d)) {
      let real: string;
      try {
        real = realpathSync(`${d}/${name}`);
        const st = statSync(real);
        if (!st.isFile() || (st.mode & 0o111) === 0) continue;
      } catch {
        continue;
      }
      const fd = openSync(real, 'r');
      const b = Buffer.alloc(4);
      const n = readSync(fd, b, 0, 4, 0);
      closeSync(fd);
      if (n === 4 && b.toString('latin1') === '\x7fELF') out.add(real);
    }
  }
  return [...out].sort();
}

describe('commands/ldd: differential against the system ldd', () => {
  it('gives the same libraries and paths for every ELF executable in /usr/bin and /usr/sbin', function () {
    this.timeout(300000);
    needCommand(this, 'ldd');
    const files = elfExecutables(['/usr/bin', '/usr/sbin']);
    expect(files.length).to.be.greaterThan(100);
    const ours = renderLdd(ldd(new HostRoot('/'), files, { libraryPath: process.env.LD_LIBRARY_PATH, hwcaps: hostHwcaps() }));
    // One ldd run per batch: ldd takes many files and prints "FILE:" headers, as we do.
    const theirs: string[] = [];
    for (let i = 0; i < files.length; i += 200) theirs.push(systemLdd(files.slice(i, i + 200)).replace(/\n$/, ''));
    const a = ours.join('\n').split('\n');
    const b = theirs.join('\n').split('\n');
    const diff: string[] = [];
    let file = '';
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (b[i]?.endsWith(':')) file = b[i];
      if (a[i] !== b[i]) diff.push(`${file} ours=${JSON.stringify(a[i])} ldd=${JSON.stringify(b[i])}`);
      if (diff.length > 10) break;
    }
    expect(diff, 'first differences').to.deep.equal([]);
  });
});
