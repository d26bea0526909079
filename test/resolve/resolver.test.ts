import { expect } from 'chai';
import { HostRoot } from '../../src/root/host-root.js';
import { ldd, renderLdd, type LddResult } from '../../src/commands/ldd.js';
import { fixture, systemLdd, FIXTURES } from '../support/helpers.js';
import { RecordingRoot } from '../support/recording-root.js';

function libs(r: LddResult, i = 0): Record<string, { path: string; via: string }> {
  const out: Record<string, { path: string; via: string }> = {};
  for (const o of r.reports[i].load!.objects) if (o.role === 'library') out[o.names[0]] = { path: o.path, via: o.via };
  return out;
}

const host = new HostRoot('/');

describe('resolve/resolver: loader rules on real fixtures', () => {
  it('$ORIGIN RUNPATH: the program\'s own lib dir, and the library\'s own RUNPATH for its needs', function () {
    const app = fixture(this, 'origin/bin/app');
    const r = ldd(host, [app]);
    const l = libs(r);
    expect(l['libgreet.so.1']).to.deep.equal({ path: `${FIXTURES}/origin/bin/../lib/libgreet.so.1`, via: 'runpath' });
    expect(l['libdep.so.1'].via).to.equal('runpath');
    expect(r.ok).to.equal(true);
    expect(renderLdd(r).join('\n')).to.equal(systemLdd([app]));
  });

  it('DT_RPATH of the loading chain applies to a library\'s needs', function () {
    const app = fixture(this, 'rpath/bin/app');
    const r = ldd(host, [app]);
    expect(libs(r)['libinner.so.1'].via).to.equal('rpath');
    expect(r.ok).to.equal(true);
    expect(renderLdd(r).join('\n')).to.equal(systemLdd([app]));
  });

  it('rpath is ignored when runpath is set, and runpath is not inherited', function () {
    const app = fixture(this, 'rpath/bin/app-runpath');
    const r = ldd(host, [app]);
    expect(r.ok).to.equal(false);
    expect(r.reports[0].load!.missing.map((m) => m.name)).to.deep.equal(['libinner.so.1']);
    expect(renderLdd(r).join('\n')).to.equal(systemLdd([app]));
  });

  it('a library of the wrong class earlier on the path is skipped, as ld.so does', function () {
    const app = fixture(this, 'wrongarch/bin/app');
    const r = ldd(host, [app]);
    const load = r.reports[0].load!;
    const lib = load.objects.find((o) => o.names.includes('libwa.so.1'))!;
    expect(lib.path).to.match(/lib64\/libwa\.so\.1$/);
    expect(renderLdd(r).join('\n')).to.equal(systemLdd([app]));
  });

  it('a missing library is reported with every place tried, and the walk goes on', function () {
    const app = fixture(this, 'missing/app-missing');
    const r = ldd(host, [app]);
    const miss = r.reports[0].load!.missing;
    expect(miss.map((m) => m.name)).to.deep.equal(['libgone.so.1']);
    expect(miss[0].tried.map((t) => t.path)).to.include('/lib/x86_64-linux-gnu/libgone.so.1');
    expect(libs(r)['libc.so.6']).to.not.equal(undefined);
    expect(renderLdd(r).join('\n')).to.equal(systemLdd([app]));
  });

  it('C++: libstdc++, libm, libgcc_s as ldd finds them', function () {
    const app = fixture(this, 'cxx/hello-cxx');
    expect(renderLdd(ldd(host, [app])).join('\n')).to.equal(systemLdd([app]));
  });

  it('a Go cgo binary needs libc; a Go static one is not dynamic', function () {
    const cgo = fixture(this, 'go/gocgo');
    const st = fixture(this, 'go/gostatic');
    expect(renderLdd(ldd(host, [cgo])).join('\n')).to.equal(systemLdd([cgo]));
    expect(renderLdd(ldd(host, [st]))).to.deep.equal(['\tnot a dynamic executable']);
  });

  it('static and static-pie print what ldd prints', function () {
    const st = fixture(this, 'static/hello-static');
    const sp = fixture(this, 'static/hello-static-pie');
    expect(renderLdd(ldd(host, [st])).join('\n')).to.equal(systemLdd([st]).replace(/\n$/, ''));
    expect(renderLdd(ldd(host, [sp])).join('\n')).to.equal(systemLdd([sp]).replace(/\n$/, ''));
  });

  it('musl: libc.so is the loader itself; the loader line comes first', function () {
    const app = fixture(this, 'musl/hello-musl');
    const r = ldd(host, [app]);
    expect(r.reports[0].load!.profile!.libc).to.equal('musl');
    const lines = renderLdd(r);
    expect(lines[0]).to.equal('\t/lib/ld-musl-x86_64.so.1');
    expect(lines).to.include('\tlibc.so => /lib/ld-musl-x86_64.so.1');
    expect(r.ok).to.equal(true);
  });

  describe('inside a root (--root)', () => {
    it('a library known only through ld.so.conf (no cache in the root) is found there', function () {
      fixture(this, 'confroot/usr/bin/app-conf');
      const root = new RecordingRoot(`${FIXTURES}/confroot`);
      const r = ldd(root, ['/usr/bin/app-conf']);
      expect(libs(r)['libconf.so.1']).to.deep.equal({ path: '/opt/conflib/libconf.so.1', via: 'ld_so_conf' });
      expect(libs(r)['libc.so.6'].via).to.equal('default');
      expect(r.ok).to.equal(true);
      expect(root.escapes()).to.deep.equal([]);
    });

    it('with the root\'s own ld.so.cache, the library comes from the cache', function () {
      fixture(this, 'confroot-cache/etc/ld.so.cache');
      const r = ldd(new HostRoot(`${FIXTURES}/confroot-cache`), ['/usr/bin/app-conf']);
      expect(libs(r)['libconf.so.1']).to.deep.equal({ path: '/opt/conflib/libconf.so.1', via: 'ld_so_cache' });
    });

    it('the host\'s LD_LIBRARY_PATH and cache are not used inside a root', function () {
      fixture(this, 'confroot/usr/bin/app-conf');
      const r = ldd(new HostRoot(`${FIXTURES}/confroot`), ['/usr/bin/app-conf'], { libraryPath: undefined });
      for (const o of r.reports[0].load!.objects) expect(o.via).to.not.equal('ld_so_cache');
    });
  });
});
