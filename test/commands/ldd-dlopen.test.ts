// elfpack ldd and .note.dlopen: --tree and --json show the declared dlopen dependencies, marked as
// such, found or not; the default output stays ldd's own.
import { expect } from 'chai';
import { fixture, needCommand, runCli, systemLdd, FIXTURES } from '../support/helpers.js';
import { copyDlopenFixture } from '../support/dlopen-fixture.js';

const D = `${FIXTURES}/dlopen`;

describe('ldd: .note.dlopen', () => {
  it('--tree shows each declared dlopen dependency under the library that declares it: found, how, or not found', async function () {
    const r = await runCli(['ldd', '--tree', fixture(this, 'dlopen/bin/app')]);
    // A declared library that is missing is not a missing DT_NEEDED: ldd still succeeds.
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    const lines = r.stdout.split('\n');
    const note = lines.findIndex((l) => l === `    libnote.so.1 => ${D}/bin/../lib/libnote.so.1 [runpath]`);
    expect(note).to.be.greaterThan(0);
    expect(lines.slice(note + 1)).to.include.members([
      `        libplug.so.1 => ${D}/bin/../lib/../plugins/libplug.so.1 [dlopen, required for "plug" (Greets through a plug-in); runpath]`,
      '        libabsent.so.9 => not found [dlopen, recommended for "absent" (A library no root has)]',
      `        libsuggest.so.1 => ${D}/bin/../lib/../plugins/libsuggest.so.1 [dlopen, suggested for "extra" (An optional extra); runpath]`,
    ]);
  });

  it('--json lists the declared dependencies with the declarer, the entry, and the search', async function () {
    const r = await runCli(['ldd', '--json', fixture(this, 'dlopen/bin/app')]);
    expect(r.code, r.stderr).to.equal(0);
    const f = JSON.parse(r.stdout).files[0];
    expect(f.dlopenWarnings).to.deep.equal([]);
    const plug = f.dlopen.find((d: { feature: string }) => d.feature === 'plug');
    expect(plug).to.include({
      declaredBy: `${D}/bin/../lib/libnote.so.1`, feature: 'plug', description: 'Greets through a plug-in', priority: 'required',
      found: true, name: 'libplug.so.1', path: `${D}/bin/../lib/../plugins/libplug.so.1`, realPath: `${D}/plugins/libplug.so.1`, via: 'runpath', error: null,
    });
    expect(plug.sonames).to.deep.equal(['libplug.so.2', 'libplug.so.1']);
    // libplug.so.2 was looked for first, everywhere dlopen from libnote would look.
    expect(plug.tried.map((t: { path: string }) => t.path)).to.include(`${D}/bin/../lib/../plugins/libplug.so.2`);
    const absent = f.dlopen.find((d: { feature: string }) => d.feature === 'absent');
    expect(absent).to.include({ found: false, name: null, path: null, via: null, priority: 'recommended' });
    expect(absent.tried.length).to.be.greaterThan(1);
    expect(f.dlopen.map((d: { sonames: string[] }) => d.sonames[0]).sort()).to.deep.equal(['libabsent.so.9', 'libplug.so.2', 'libsuggest.so.1']);
    // The libraries list is still DT_NEEDED's alone.
    expect(f.libraries.map((l: { name: string }) => l.name)).to.deep.equal(['libnote.so.1', 'libc.so.6']);
  });

  it('the default output is unchanged: what the system ldd prints, nothing about notes', async function () {
    needCommand(this, 'ldd');
    const app = fixture(this, 'dlopen/bin/app');
    const r = await runCli(['ldd', app]);
    expect(r.code).to.equal(0);
    expect(r.stdout.replace(/\n$/, '')).to.equal(systemLdd([app]));
    expect(r.stdout).to.not.match(/libplug|libsuggest|\[dlopen/);
  });

  it('a malformed note is a warning on stderr naming the file; ldd --tree still succeeds', async function () {
    const copy = copyDlopenFixture(this, { patch: [['"priority":"required"}', '"priority":"required"!']] });
    try {
      const r = await runCli(['ldd', '--tree', copy.app]);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.match(new RegExp(`^elfpack: ${copy.dir}/bin/\\.\\./lib/libnote\\.so\\.1: \\.note\\.dlopen: a dlopen note is not valid JSON .*: left out\\n$`));
      expect(r.stdout).to.match(/libsuggest\.so\.1 => .* \[dlopen, suggested/);
      expect(r.stdout).to.not.match(/libplug/);
    } finally {
      copy.remove();
    }
  });
});
