// A name an included library needs that only a library loaded by path answers (a JDK's JNI
// libraries and libjvm.so): a warning naming the library and the assumption, not an error; none
// when a traced run saw it loaded; still an error for a program, or when no file has the name.
// And, in the engine, Debian's JDK packed with --include of its lib directory runs java -version.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectEntry, loadProgram } from '../../src/closure/load-program.js';
import { ImageTreeBuilder } from '../../src/image/image-tree.js';
import { missingIncludedError, openedByRun } from '../../src/image/loaded-by-path.js';
import { selfCheck } from '../../src/image/self-check.js';
import { TreeRoot } from '../../src/image/tree-root.js';
import { HostRoot } from '../../src/root/host-root.js';
import { Resolver } from '../../src/resolve/resolver.js';
import { buildElf } from '../support/elf-builder.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine } from '../support/engine.js';
import { runCli, skipOrFail } from '../support/helpers.js';

const LDSO = '/lib64/ld-linux-x86-64.so.2';
const JVM = '/opt/jdk/lib/server/libjvm.so';

/** A JDK in miniature: libjvm.so in lib/server, JNI libraries in lib needing it, a tool program needing it too. */
function miniJdk(this: Mocha.Context): ImageTreeBuilder {
  if (!existsSync(LDSO)) skipOrFail(this, `${LDSO} is missing`);
  const b = new ImageTreeBuilder(new HostRoot('/'));
  b.addRootPath(LDSO, 'interpreter');
  const lib = (path: string, spec: Parameters<typeof buildElf>[0]) => b.addContent(path, buildElf(spec), 0o644, 'include');
  lib(JVM, { soname: 'libjvm.so' });
  lib('/opt/jdk/lib/libjava.so', { soname: 'libjava.so', needed: ['libjvm.so'] });
  lib('/opt/jdk/lib/libnio.so', { soname: 'libnio.so', needed: ['libjava.so', 'libjvm.so'], runpath: '$ORIGIN' });
  b.addContent('/opt/jdk/bin/tool', buildElf({ type: 2, interp: LDSO, needed: ['libjvm.so'] }), 0o755, 'include');
  return b;
}

describe('loaded-by-path: libraries a program loads before the libraries that need them', () => {
  it('an included library needing libjvm.so, which the image has in lib/server, is a warning naming both, not a problem', function () {
    const b = miniJdk.call(this);
    const r = selfCheck(b.tree, ['/opt/jdk/lib/libjava.so', '/opt/jdk/lib/libnio.so', JVM]);
    expect(r.problems).to.deep.equal([]);
    expect(r.warnings).to.deep.equal([
      'libjvm.so, needed by 2 libraries (/opt/jdk/lib/libjava.so, /opt/jdk/lib/libnio.so), is found by no library search in the image; '
      + 'packed on the assumption that the program loads /opt/jdk/lib/server/libjvm.so by its path (dlopen) before them',
    ]);
    expect(r.warnings.join()).to.not.match(/program needs/);
  });

  it('with a traced run that saw libjvm.so loaded, no warning is needed', function () {
    const b = miniJdk.call(this);
    const r = selfCheck(b.tree, ['/opt/jdk/lib/libjava.so', JVM], { loadedByPath: new Set([JVM]) });
    expect(r).to.deep.equal({ problems: [], warnings: [] });
    // A trace that saw other files does not settle it.
    expect(selfCheck(b.tree, ['/opt/jdk/lib/libjava.so', JVM], { loadedByPath: new Set(['/opt/jdk/lib/libjava.so']) }).warnings).to.have.length(1);
  });

  it('what a traced run opened or ran counts as loaded, by real path; what it only stat\'ed does not', function () {
    const b = miniJdk.call(this);
    b.tree.addSymlink('/opt/jdk/lib/jvm-link.so', 'server/libjvm.so');
    const root = new TreeRoot(b.tree);
    const opened = openedByRun(root, [
      { path: '/opt/jdk/lib/jvm-link.so', use: 'read' },
      { path: '/opt/jdk/lib/libjava.so', use: 'stat' },
      { path: '/opt/jdk/bin/tool', use: 'exec' },
      { path: '/opt/jdk/lib/gone.so', use: 'read' },
      { path: '/opt/jdk/lib', use: 'list' },
    ]);
    expect([...opened].sort()).to.deep.equal(['/opt/jdk/bin/tool', JVM]);
  });

  it('a program needing the same name is still a problem: nothing loads before a program\'s own needs', function () {
    const b = miniJdk.call(this);
    const r = selfCheck(b.tree, ['/opt/jdk/bin/tool', JVM]);
    expect(r.problems).to.deep.equal(['/opt/jdk/bin/tool: libjvm.so would not be found']);
    expect(r.warnings).to.deep.equal([]);
  });

  it('a name no file of the image carries is still a problem', function () {
    const b = miniJdk.call(this);
    b.addContent('/opt/jdk/lib/libx.so', buildElf({ soname: 'libx.so', needed: ['libgone.so'] }), 0o644, 'include');
    expect(selfCheck(b.tree, ['/opt/jdk/lib/libx.so', JVM]).problems).to.deep.equal(['/opt/jdk/lib/libx.so: libgone.so would not be found']);
  });

  it('the error for included files names every file that needs a name, counted past five, and calls a library a library', function () {
    const b = miniJdk.call(this);
    const resolver = new Resolver(new TreeRoot(b.tree), { hwcaps: [] });
    const files: string[] = [];
    for (let i = 0; i < 7; i++) {
      const p = `/opt/x/lib${i}.so`;
      b.addContent(p, buildElf({ soname: `lib${i}.so`, needed: ['libgone.so'] }), 0o644, 'include');
      files.push(p);
    }
    const loads = files.map((f) => loadProgram(resolver, inspectEntry(resolver, f))).map((load) => ({ load, missing: load.missing }));
    const one = missingIncludedError(loads.slice(0, 1));
    expect(one.message).to.equal('included library needs what the root does not have, so no image was written: libgone.so (needed by /opt/x/lib0.so): not found');
    const all = missingIncludedError(loads);
    expect(all.code).to.equal('MISSING_LIBRARY');
    expect(all.message).to.equal('7 included libraries need what the root does not have, so no image was written: '
      + 'libgone.so (needed by /opt/x/lib0.so, /opt/x/lib1.so, /opt/x/lib2.so, /opt/x/lib3.so, /opt/x/lib4.so, and 2 more): not found');
  });
});

describe("loaded-by-path: Debian's JDK in the engine", function () {
  this.timeout(300_000);
  const JDK = '/usr/lib/jvm/java-17-openjdk-amd64';
  let dir: string;
  const tag = 'elfpack-lean-extras-java:1';
  after(() => {
    dockerRmi(tag);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('java with --include of the JDK\'s lib packs with a libjvm.so warning instead of failing, and java -version runs', async function () {
    if (!existsSync(`${JDK}/bin/java`) || !existsSync(`${JDK}/lib/server/libjvm.so`)) skipOrFail(this, 'openjdk-17-jre-headless is not installed (make deps installs it)');
    needEngine(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-jdk-'));
    const out = join(dir, 'java.tar');
    const r = await runCli([`${JDK}/bin/java`, '--include', `${JDK}/lib`, '--out', out, '--tag', tag, '--json', '--', '-version']);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout);
    const warning = json.warnings.find((w: string) => w.startsWith('libjvm.so, needed by '));
    expect(warning, json.warnings.join('\n')).to.match(/needed by \d+ libraries \(.*libjava\.so.*, and \d+ more\)/);
    expect(warning).to.include(`the program loads ${JDK}/lib/server/libjvm.so by its path (dlopen) before them`);
    // jvm.cfg is a link out of lib (to /etc/java-17-openjdk): its target came along.
    expect(json.added.join('\n')).to.match(/lib\/jvm\.cfg → \/etc\/java-17-openjdk\/jvm-amd64\.cfg/);
    expect(dockerLoad(out)).to.equal(tag);
    const run = dockerRun(tag);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/^openjdk version "17\./);
  });

  it('without lib/server in the image, the JNI libraries\' need of libjvm.so is an error naming them, and nothing is written', async function () {
    if (!existsSync(`${JDK}/bin/java`)) skipOrFail(this, 'openjdk-17-jre-headless is not installed (make deps installs it)');
    dir ??= mkdtempSync(join(tmpdir(), 'elfpack-jdk-'));
    const out = join(dir, 'noserver.tar');
    const r = await runCli([`${JDK}/bin/java`, '--include', `${JDK}/lib`, '--exclude', '**/server/**', '--out', out]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^elfpack: .*: \d+ included libraries need what the root does not have, so no image was written: libjvm\.so \(needed by .*lib\/libattach\.so, .*, and \d+ more\): not found\n$/);
    expect(existsSync(out)).to.equal(false);
  });
});
