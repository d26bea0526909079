// pack and .note.dlopen: a library's declared dlopen dependencies go into the image (with their own
// closures) at the level --dlopen sets; the images are loaded into the real engine and run.
import { expect } from 'chai';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { planPack, type PackResult } from '../../src/commands/pack.js';
import type { DlopenLevel } from '../../src/closure/dlopen-notes.js';
import { FIXTURES, fixture, runCli } from '../support/helpers.js';
import { dockerRmi, dockerRun, needEngine, needImageTools } from '../support/engine.js';
import { copyDlopenFixture } from '../support/dlopen-fixture.js';
import { packAndLoad as packAndLoadIn } from '../support/pack-and-load.js';

const D = `${FIXTURES}/dlopen`;
const PLUGINS = ['libplug.so.1', 'libplugdep.so.1', 'libdeep.so.1', 'libsuggest.so.1'];

function plan(ctx: Mocha.Context, dlopen?: DlopenLevel): PackResult {
  return planPack({ root: new HostRoot('/'), program: fixture(ctx, 'dlopen/bin/app'), dlopen, bare: true }).result;
}

/** The plug-in directory's files in the image, by name, with why each is there. */
function plugins(r: PackResult): Record<string, string> {
  return Object.fromEntries(r.files.filter((f) => f.path.startsWith(`${D}/plugins/`)).map((f) => [f.path.slice(D.length + 9), f.reason]));
}

describe('pack: .note.dlopen', () => {
  it('by default adds the required plug-in, its own libraries and what it declares in turn; not the suggested extra', function () {
    const r = plan(this);
    expect(plugins(r)).to.deep.equal({ 'libplug.so.1': 'dlopen', 'libplugdep.so.1': 'library', 'libdeep.so.1': 'dlopen' });
    expect(r.added).to.include(`libplug.so.1 (${D}/bin/../lib/../plugins/libplug.so.1 → ${D}/plugins/libplug.so.1): ${D}/bin/../lib/libnote.so.1's .note.dlopen declares it required for "plug" (Greets through a plug-in)`);
    expect(r.warnings).to.deep.equal([]);
    expect(r.notes!.join('\n')).to.match(/libabsent\.so\.9: .* not in the root: not added/).and.match(/\(libsuggest\.so\.1\): --dlopen suggested adds it/);
  });

  it('--dlopen suggested adds the suggested extra too; required the required ones only; none leaves every note out', function () {
    expect(Object.keys(plugins(plan(this, 'suggested'))).sort()).to.deep.equal([...PLUGINS].sort());
    expect(Object.keys(plugins(plan(this, 'required'))).sort()).to.deep.equal(['libdeep.so.1', 'libplug.so.1', 'libplugdep.so.1']);
    const none = plan(this, 'none');
    expect(plugins(none)).to.deep.equal({});
    expect(none.dlopen).to.deep.equal([]);
    expect(none.notes).to.deep.equal([]);
  });

  it('the summary prints each addition with the library, the feature and the description; notes and warnings on their own lines', async function () {
    const copy = copyDlopenFixture(this, { drop: ['libdeep.so.1'] });
    const out = mkdtempSync(join(tmpdir(), 'elfpack-dlopen-out-'));
    try {
      const r = await runCli([copy.app, '--rootfs', join(out, 'fs'), '--bare']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include(`  added libplug.so.1 (${copy.dir}/bin/../lib/../plugins/libplug.so.1 → ${copy.dir}/plugins/libplug.so.1): ${copy.dir}/bin/../lib/libnote.so.1's .note.dlopen declares it required for "plug" (Greets through a plug-in)\n`);
      expect(r.stderr).to.match(/\n {2}note: libabsent\.so\.9: /);
      // A required library that is not there: a warning naming it, and the pack still succeeds.
      expect(r.stderr).to.match(/\n {2}warning: libdeep\.so\.1: .*libplug\.so\.1's \.note\.dlopen declares it required for "deep" \(Declared by the plug-in itself\), but it is not in the root: not added; the program may fail where it loads it\n/);
    } finally {
      copy.remove();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--json lists every entry with what became of it, and the warnings and notes', async function () {
    const out = mkdtempSync(join(tmpdir(), 'elfpack-dlopen-out-'));
    try {
      const r = await runCli([fixture(this, 'dlopen/bin/app'), '--rootfs', join(out, 'fs'), '--json', '--bare']);
      expect(r.code, r.stderr).to.equal(0);
      const j = JSON.parse(r.stdout);
      expect(j.warnings).to.deep.equal([]);
      expect(j.notes).to.have.length(2);
      expect(j.dlopen.find((d: { feature: string }) => d.feature === 'plug')).to.deep.equal({
        declaredBy: `${D}/bin/../lib/libnote.so.1`, sonames: ['libplug.so.2', 'libplug.so.1'], feature: 'plug', description: 'Greets through a plug-in',
        priority: 'required', outcome: 'added', name: 'libplug.so.1', path: `${D}/bin/../lib/../plugins/libplug.so.1`, via: 'runpath',
      });
      expect(j.dlopen.map((d: { sonames: string[]; outcome: string }) => `${d.sonames[0]} ${d.outcome}`).sort()).to.deep.equal([
        'libabsent.so.9 not-found', 'libdeep.so.1 added', 'libplug.so.2 added', 'libsuggest.so.1 below-level',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('with --as, a plug-in found through a moved library\'s $ORIGIN moves with it, and so does what it finds through its own', function () {
    const r = planPack({ root: new HostRoot('/'), program: fixture(this, 'dlopen/bin/app'), as: '/app/bin/app', bare: true }).result;
    const files = Object.fromEntries(r.files.filter((f) => f.path.startsWith('/app/')).map((f) => [f.path, f.reason]));
    expect(files).to.deep.equal({
      '/app/bin/app': 'program', '/app/lib/libnote.so.1': 'library',
      '/app/plugins/libplug.so.1': 'dlopen', '/app/plugins/libplugdep.so.1': 'library', '/app/plugins/libdeep.so.1': 'dlopen',
    });
    expect(r.files.filter((f) => f.path.startsWith(D))).to.deep.equal([]);
  });

  it('--dlopen takes required, recommended, suggested or none: anything else is a usage error', async function () {
    const r = await runCli([fixture(this, 'dlopen/bin/app'), '--dlopen', 'all', '--out', '/nonexistent/x.tar']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--dlopen all: want required, recommended, suggested or none/);
  });
});

describe('pack: .note.dlopen images that run in the engine', function () {
  this.timeout(300_000);
  let dir: string;
  const loaded: string[] = [];

  before(function () {
    needEngine(this);
    needImageTools(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-dlopen-'));
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const packAndLoad = (name: string, args: string[]) => packAndLoadIn({ dir, loaded, prefix: 'dlopen-notes-test', validate: true }, name, args);

  it('a program whose library dlopens a plug-in by soname runs, packed with no --include', async function () {
    const { tag, stderr } = await packAndLoad('default', [fixture(this, 'dlopen/bin/app')]);
    expect(stderr).to.match(/added libplug\.so\.1 \(.*\): .*libnote\.so\.1's \.note\.dlopen declares it required for "plug" \(Greets through a plug-in\)/);
    const r = dockerRun(tag);
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal("hello from the dlopen'd plug (7)\n");
  });

  it('with --dlopen none the plug-in is left out, and the program fails where it dlopens it (the notes are needed)', async function () {
    const { tag } = await packAndLoad('none', [fixture(this, 'dlopen/bin/app'), '--dlopen', 'none']);
    const r = dockerRun(tag);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/dlopen: libplug\.so\.1: cannot open shared object file/);
  });

  it('moved with --as, the program still finds its plug-in', async function () {
    const { tag } = await packAndLoad('as', [fixture(this, 'dlopen/bin/app'), '--as', '/app/bin/app']);
    const r = dockerRun(tag);
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal("hello from the dlopen'd plug (7)\n");
  });

  it('a plug-in found through the root\'s ld.so.conf goes into the image\'s own ld.so.cache, where dlopen finds it', async function () {
    const root = join(dir, 'root');
    const multi = join(root, 'usr/lib/x86_64-linux-gnu');
    for (const d of [multi, join(root, 'usr/bin'), join(root, 'opt/plugins'), join(root, 'etc'), join(root, 'lib64')]) mkdirSync(d, { recursive: true });
    symlinkSync('usr/lib', join(root, 'lib'));
    copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(multi, 'libc.so.6'));
    copyFileSync('/lib64/ld-linux-x86-64.so.2', join(multi, 'ld-linux-x86-64.so.2'));
    symlinkSync('/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'lib64/ld-linux-x86-64.so.2'));
    // app's RUNPATH $ORIGIN/../lib is /usr/lib; libnote's $ORIGIN/../plugins (/usr/plugins) is not there.
    copyFileSync(fixture(this, 'dlopen/bin/app'), join(root, 'usr/bin/app'));
    copyFileSync(`${D}/lib/libnote.so.1`, join(root, 'usr/lib/libnote.so.1'));
    for (const f of ['libplug.so.1', 'libplugdep.so.1', 'libdeep.so.1']) copyFileSync(`${D}/plugins/${f}`, join(root, 'opt/plugins', f));
    writeFileSync(join(root, 'etc/ld.so.conf'), '/opt/plugins\n');
    const { tag, stderr } = await packAndLoad('ldsoconf', ['/usr/bin/app', '--root', root, '--bare']);
    expect(stderr).to.match(/added libplug\.so\.1 \(\/opt\/plugins\/libplug\.so\.1\): \/usr\/bin\/\.\.\/lib\/libnote\.so\.1's \.note\.dlopen/);
    expect(stderr).to.match(/added \/etc\/ld\.so\.cache \(\d+ entries\): \/opt\/plugins\/libplug\.so\.1 found through/);
    const r = dockerRun(tag);
    expect(r.stderr).to.equal('');
    expect(r.stdout.toString()).to.equal("hello from the dlopen'd plug (7)\n");
  });
});
