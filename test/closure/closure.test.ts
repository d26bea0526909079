import { expect } from 'chai';
import { HostRoot } from '../../src/root/host-root.js';
import { computeClosure } from '../../src/closure/closure.js';
import { FIXTURES, fixture } from '../support/helpers.js';

describe('closure/closure', () => {
  it('keeps every symlink met: libgreet.so.1 -> libgreet.so.1.0.0 stays with its target', function () {
    const app = fixture(this, 'origin/bin/app');
    const c = computeClosure(new HostRoot('/'), [app]);
    const greet = c.nodes.find((n) => n.realPath.endsWith('/origin/lib/libgreet.so.1.0.0'))!;
    expect(greet.paths).to.deep.equal([`${FIXTURES}/origin/bin/../lib/libgreet.so.1`]);
    expect(c.symlinks).to.deep.include({ path: `${FIXTURES}/origin/lib/libgreet.so.1`, target: 'libgreet.so.1.0.0' });
    // Debian's /lib64/ld-linux-x86-64.so.2 is a link into /lib/x86_64-linux-gnu (and on a merged-/usr
    // system /lib64 -> usr/lib64, /lib -> usr/lib): every hop is kept.
    expect(c.symlinks.map((l) => l.target)).to.include('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
    expect(c.nodes.find((n) => n.role === 'interpreter')!.paths).to.deep.equal(['/lib64/ld-linux-x86-64.so.2']);
  });

  it('merges several programs: each file once, edges from who needs whom, missing names kept', function () {
    const a = fixture(this, 'origin/bin/app');
    const b = fixture(this, 'missing/app-missing');
    const c = computeClosure(new HostRoot('/'), [a, b]);
    const libcs = c.nodes.filter((n) => n.realPath.endsWith('/libc.so.6'));
    expect(libcs).to.have.length(1);
    expect(c.programs).to.have.length(2);
    expect(c.missing.map((m) => m.name)).to.deep.equal(['libgone.so.1']);
    const greet = c.nodes.find((n) => n.realPath.endsWith('libgreet.so.1.0.0'))!;
    expect(c.edges.filter((e) => e.from === greet.realPath).map((e) => e.name)).to.deep.equal(['libdep.so.1', 'libc.so.6']);
    expect(c.edges.find((e) => e.name === 'libgone.so.1')!.to).to.equal(undefined);
  });

  it('a static program is a node of its own with nothing to load', function () {
    const s = fixture(this, 'go/gostatic');
    const c = computeClosure(new HostRoot('/'), [s]);
    expect(c.nodes.map((n) => n.role)).to.deep.equal(['program']);
    expect(c.edges).to.deep.equal([]);
  });
});
