// closure/dlopen-notes: what a load's objects declare they dlopen, resolved as dlopen from the
// declaring object would, and what pack adds at each --dlopen level.
import { expect } from 'chai';
import { HostRoot } from '../../src/root/host-root.js';
import { Resolver } from '../../src/resolve/resolver.js';
import { inspectEntry, loadProgram, type ProgramLoad } from '../../src/closure/load-program.js';
import { declaredDlopens, findDlopenDeps, withinLevel } from '../../src/closure/dlopen-notes.js';
import { FIXTURES, fixture } from '../support/helpers.js';
import { copyDlopenFixture } from '../support/dlopen-fixture.js';

function loadApp(app: string): { resolver: Resolver; load: ProgramLoad } {
  const resolver = new Resolver(new HostRoot('/'));
  return { resolver, load: loadProgram(resolver, inspectEntry(resolver, app)) };
}

const D = `${FIXTURES}/dlopen`;

describe('closure/dlopen-notes', () => {
  it('resolves a declared soname from the declaring library: its RUNPATH finds the plug-in, the program\'s would not', function () {
    const { resolver, load } = loadApp(fixture(this, 'dlopen/bin/app'));
    const { declared, warnings } = declaredDlopens(resolver, load);
    expect(warnings).to.deep.equal([]);
    const plug = declared.find((d) => d.entry.feature === 'plug')!;
    expect(plug.declaredBy.path).to.equal(`${D}/bin/../lib/libnote.so.1`);
    // libplug.so.2, the first alternative, is nowhere: the second answers, through libnote's RUNPATH.
    expect(plug.name).to.equal('libplug.so.1');
    expect(plug.found!.via).to.equal('runpath');
    expect(plug.found!.path).to.equal(`${D}/bin/../lib/../plugins/libplug.so.1`);
    expect(plug.tried.filter((t) => t.path.endsWith('/libplug.so.2')).every((t) => t.outcome === 'absent')).to.equal(true);
    expect(plug.tried.some((t) => t.path.endsWith('/libplug.so.2'))).to.equal(true);
    // From the program (RUNPATH $ORIGIN/../lib), the plug-in is not found at all.
    expect(resolver.find('libplug.so.1', load.main!, load.profile!).found).to.equal(false);

    const absent = declared.find((d) => d.entry.feature === 'absent')!;
    expect(absent.name).to.equal(undefined);
    expect(absent.tried.map((t) => t.path)).to.include(`${D}/bin/../lib/../plugins/libabsent.so.9`);
    expect(declared.find((d) => d.entry.feature === 'extra')!.found!.path).to.equal(`${D}/bin/../lib/../plugins/libsuggest.so.1`);
  });

  it('a declared soname already in the process is what dlopen returns: nothing to search', function () {
    const copy = copyDlopenFixture(this, { patch: [['"libabsent.so.9"', '"libc.so.6"     ']] });
    try {
      const { resolver, load } = loadApp(copy.app);
      const d = declaredDlopens(resolver, load).declared.find((x) => x.entry.feature === 'absent')!;
      expect(d.name).to.equal('libc.so.6');
      expect(d.loaded!.realPath).to.match(/\/libc\.so\.6$/);
      expect(d.found).to.equal(undefined);
    } finally {
      copy.remove();
    }
  });

  it('levels: required ⊂ recommended ⊂ suggested; none follows nothing', () => {
    expect(withinLevel('required', 'required')).to.equal(true);
    expect(withinLevel('recommended', 'required')).to.equal(false);
    expect(withinLevel('recommended', 'recommended')).to.equal(true);
    expect(withinLevel('suggested', 'recommended')).to.equal(false);
    expect(withinLevel('suggested', 'suggested')).to.equal(true);
    expect(withinLevel('required', 'none')).to.equal(false);
  });

  it('by default adds the required plug-in with its own closure (libplugdep), notes the absent recommended one, leaves out the suggested one', function () {
    const { resolver, load } = loadApp(fixture(this, 'dlopen/bin/app'));
    const plan = findDlopenDeps(resolver, [load], 'recommended');
    expect(plan.deps.map((d) => d.library.realPath)).to.deep.equal([`${D}/plugins/libplug.so.1`, `${D}/plugins/libdeep.so.1`]);
    const dep = plan.deps[0];
    expect(dep.reason).to.equal(`libplug.so.1 (${D}/bin/../lib/../plugins/libplug.so.1 → ${D}/plugins/libplug.so.1): ${D}/bin/../lib/libnote.so.1's .note.dlopen declares it required for "plug" (Greets through a plug-in)`);
    // The dlopen itself, as a load of one object: found through RUNPATH, by the soname that answered, loaded by libnote.
    expect(dep.loads[0].objects.map((o) => [o.names, o.via, o.loader?.path])).to.deep.equal([[['libplug.so.1'], 'runpath', `${D}/bin/../lib/libnote.so.1`]]);
    expect(dep.loads[1].objects.map((o) => o.realPath)).to.include(`${D}/plugins/libplugdep.so.1`);
    expect(dep.elfFiles).to.deep.equal([`${D}/bin/../lib/../plugins/libplug.so.1`]);
    expect(plan.warnings).to.deep.equal([]);
    expect(plan.notes).to.have.length(2);
    expect(plan.notes[0]).to.match(/^libabsent\.so\.9: .*libnote\.so\.1's \.note\.dlopen declares it recommended for "absent" \(A library no root has\), but it is not in the root: not added$/);
    expect(plan.notes[1]).to.equal('left out 1 .note.dlopen entry below "recommended" (libsuggest.so.1): --dlopen suggested adds it');
    expect(plan.outcomes.map((o) => [o.sonames[0], o.outcome])).to.deep.equal([
      ['libsuggest.so.1', 'below-level'], ['libplug.so.2', 'added'], ['libabsent.so.9', 'not-found'], ['libdeep.so.1', 'added'],
    ]);
  });

  it('--dlopen required adds only the required entry; suggested adds the suggested one too; none reads no note', function () {
    const { resolver, load } = loadApp(fixture(this, 'dlopen/bin/app'));
    const required = findDlopenDeps(resolver, [load], 'required');
    expect(required.deps.map((d) => d.library.names[0])).to.deep.equal(['libplug.so.1', 'libdeep.so.1']);
    expect(required.notes).to.deep.equal(['left out 2 .note.dlopen entries below "required" (libsuggest.so.1, libabsent.so.9): --dlopen suggested adds them']);
    const suggested = findDlopenDeps(resolver, [load], 'suggested');
    expect(suggested.deps.map((d) => d.library.names[0]).sort()).to.deep.equal(['libdeep.so.1', 'libplug.so.1', 'libsuggest.so.1']);
    const none = findDlopenDeps(resolver, [load], 'none');
    expect(none).to.deep.equal({ deps: [], warnings: [], notes: [], outcomes: [] });
  });

  it('a required library missing from the root is a warning naming it, not a failure', function () {
    const copy = copyDlopenFixture(this, { drop: ['libplug.so.1'] });
    try {
      const { resolver, load } = loadApp(copy.app);
      const plan = findDlopenDeps(resolver, [load], 'recommended');
      expect(plan.deps).to.deep.equal([]);
      expect(plan.warnings).to.have.length(1);
      expect(plan.warnings[0]).to.match(/^libplug\.so\.2 or libplug\.so\.1: .*libnote\.so\.1's \.note\.dlopen declares it required for "plug" .*not in the root: not added; the program may fail where it loads it$/);
    } finally {
      copy.remove();
    }
  });

  it('a library whose own libraries are missing is not added, and says which', function () {
    const copy = copyDlopenFixture(this, { drop: ['libplugdep.so.1'] });
    try {
      const { resolver, load } = loadApp(copy.app);
      const plan = findDlopenDeps(resolver, [load], 'recommended');
      expect(plan.deps).to.deep.equal([]);
      expect(plan.warnings[0]).to.match(/libplug\.so\.1: .*found at .*\/plugins\/libplug\.so\.1, but it needs what the root does not have \(libplugdep\.so\.1\): not added$/);
      expect(plan.outcomes.find((o) => o.feature === 'plug')!.outcome).to.equal('incomplete');
    } finally {
      copy.remove();
    }
  });

  it('malformed JSON in a note is a warning naming the file; the other note of the file is still followed', function () {
    const copy = copyDlopenFixture(this, { patch: [['"priority":"required"}', '"priority":"required"!']] });
    try {
      const { resolver, load } = loadApp(copy.app);
      const plan = findDlopenDeps(resolver, [load], 'suggested');
      expect(plan.warnings).to.have.length(1);
      expect(plan.warnings[0]).to.match(new RegExp(`^${copy.dir}/bin/\\.\\./lib/libnote\\.so\\.1: \\.note\\.dlopen: a dlopen note is not valid JSON`));
      expect(plan.deps.map((d) => d.library.names[0])).to.deep.equal(['libsuggest.so.1']);
      expect(plan.outcomes.map((o) => o.sonames[0])).to.deep.equal(['libsuggest.so.1']);
    } finally {
      copy.remove();
    }
  });

  it('follows what an added library declares in turn (libplug declares libdeep), from that library, and reads each file once', function () {
    const { resolver, load } = loadApp(fixture(this, 'dlopen/bin/app'));
    // libnote is in two loads (the program's, and its own as an included file): its notes count once.
    const again = loadProgram(resolver, inspectEntry(resolver, fixture(this, 'dlopen/lib/libnote.so.1')));
    const plan = findDlopenDeps(resolver, [load, again], 'recommended');
    const deep = plan.deps.find((d) => d.library.names[0] === 'libdeep.so.1')!;
    // libplug's own load starts from its real path: $ORIGIN there is plugins/ itself.
    expect(deep.reason).to.equal(`libdeep.so.1 (${D}/plugins/libdeep.so.1): ${D}/bin/../lib/../plugins/libplug.so.1's .note.dlopen declares it required for "deep" (Declared by the plug-in itself)`);
    expect(deep.loads[0].objects[0].via).to.equal('runpath');
    expect(plan.outcomes).to.have.length(4);
  });
});
