// Search directories and candidates that cannot be used (a symlink loop, something that is not a
// directory, no permission), per errno as each loader acts: glibc's open_path, musl's path_open,
// ldconfig for ld.so.conf. Checked against the system's ld.so where it can run them, and noted as
// skipped in --json and --tree.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HostRoot } from '../../src/root/host-root.js';
import { RootPathError } from '../../src/errors.js';
import type { FileType, RootStat } from '../../src/root/root.js';
import { hostHwcaps } from '../../src/resolve/hwcaps.js';
import { ldd, lddToJson, renderLdd, renderTree, type LddOptions } from '../../src/commands/ldd.js';
import { needCommand, skipOrFail, systemLdd } from '../support/helpers.js';
import { buildElf } from '../support/elf-builder.js';

const T = 'x86_64-linux-gnu';
const GLIBC_INTERP = '/lib64/ld-linux-x86-64.so.2';
const MUSL_INTERP = '/lib/ld-musl-x86_64.so.1';

function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')}: ${r.stderr}`);
}

/** A host directory as a root where paths under `denied` answer EACCES and cannot be listed, as for a user without permission. */
class DeniedRoot extends HostRoot {
  constructor(dir: string, private denied: string[]) {
    super(dir);
  }
  private check(path: string): void {
    if (this.denied.some((d) => path.startsWith(`${d}/`))) {
      throw new RootPathError('IO', 'cannot stat: EACCES: permission denied', path, Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }));
    }
  }
  override lstat(path: string): RootStat | undefined { this.check(path); return super.lstat(path); }
  override kind(path: string): FileType | undefined { this.check(path); return super.kind(path); }
  override readdirTypes(path: string): Map<string, FileType | undefined> | undefined { return this.denied.includes(path) ? undefined : super.readdirTypes(path); }
  override readdir(path: string): string[] | undefined { return this.denied.includes(path) ? undefined : super.readdir(path); }
}

describe('resolve: directories and files that cannot be used', () => {
  describe('against the system ld.so (glibc, on the host)', () => {
    let dir: string;
    const prog = (name: string, runpath: string) => {
      gcc(['-o', join(dir, name), join(dir, 'm.c'), '-L', join(dir, 'good'), '-l:libfoo.so.1', `-Wl,--enable-new-dtags,-rpath,${runpath}`]);
      return join(dir, name);
    };
    before(function () {
      needCommand(this, 'gcc');
      needCommand(this, 'ldd');
      dir = mkdtempSync(join(tmpdir(), 'elfpack-unusable-'));
      for (const d of ['good', 'good2', 'a']) mkdirSync(join(dir, d));
      writeFileSync(join(dir, 'l.c'), 'int f(void) { return 1; }\n');
      writeFileSync(join(dir, 'm.c'), 'int f(void);\nint main(void) { return f(); }\n');
      gcc(['-shared', '-fPIC', '-Wl,-soname,libfoo.so.1', '-o', join(dir, 'good/libfoo.so.1'), join(dir, 'l.c')]);
      gcc(['-shared', '-fPIC', '-Wl,-soname,libfoo.so.1', '-o', join(dir, 'good2/libfoo.so.1'), join(dir, 'l.c')]);
      symlinkSync('loopdir', join(dir, 'loopdir'));
      writeFileSync(join(dir, 'file'), 'not a directory\n');
      symlinkSync('libfoo.so.1', join(dir, 'a/libfoo.so.1')); // a loop where the library should be
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));
    const same = (file: string, opts: LddOptions = {}) => {
      const ours = ldd(new HostRoot('/'), [file], opts);
      expect(renderLdd(ours).join('\n')).to.equal(systemLdd([file]));
      return ours;
    };

    it('a RUNPATH directory that is a symlink loop or a file is passed over, and the search goes on to the next', () => {
      const r = same(prog('p1', `${dir}/loopdir:${dir}/file:${dir}/good`));
      const json = lddToJson(r) as { files: { libraries: { name: string; path: string; via: string }[]; skipped: { path: string; via: string; reason: string }[] }[] };
      expect(json.files[0].libraries.find((l) => l.name === 'libfoo.so.1')).to.include({ path: `${dir}/good/libfoo.so.1`, via: 'runpath' });
      expect(json.files[0].skipped.map((k) => `${k.path} ${k.via} ${k.reason}`)).to.deep.equal([
        `${dir}/loopdir runpath too many levels of symbolic links (ELOOP): passed over, as the loader does`,
        `${dir}/file runpath is a regular file, not a directory (ENOTDIR): passed over, as the loader does`,
      ]);
      expect(renderTree(r)).to.include(`    note: skipped ${dir}/loopdir [runpath]: too many levels of symbolic links (ELOOP): passed over, as the loader does`);
    });

    it('a library that is a symlink loop (ELOOP) ends that RUNPATH: its later directories are not searched', () => {
      const r = same(prog('p2', `${dir}/a:${dir}/good`));
      const load = r.reports[0].load!;
      expect(load.missing.map((m) => m.name)).to.deep.equal(['libfoo.so.1']);
      const tried = load.missing[0].tried.map((t) => `${t.path} ${t.outcome}`);
      expect(tried).to.include(`${dir}/a/libfoo.so.1 skipped`);
      expect(tried).to.not.include(`${dir}/good/libfoo.so.1 absent`);
      expect(load.skipped[0].reason).to.equal('too many levels of symbolic links (ELOOP): the rest of this RUNPATH is skipped, as ld.so does');
    });

    it('glibc-hwcaps: a subdirectory that is a loop, or a library there that is one, does not end the search', function () {
      const best = hostHwcaps()[0];
      if (!best) skipOrFail(this, 'this CPU supports no glibc-hwcaps level (x86-64-v2 or above), so ld.so searches no glibc-hwcaps directory here');
      mkdirSync(join(dir, 'good/glibc-hwcaps'), { recursive: true });
      symlinkSync(best, join(dir, 'good/glibc-hwcaps', best)); // a loop
      mkdirSync(join(dir, 'good2/glibc-hwcaps', best), { recursive: true });
      symlinkSync('libfoo.so.1', join(dir, 'good2/glibc-hwcaps', best, 'libfoo.so.1'));
      const opts = { hwcaps: hostHwcaps() };
      const r1 = same(prog('p3', `${dir}/good`), opts);
      expect(r1.reports[0].load!.skipped.map((k) => k.path)).to.deep.equal([`${dir}/good/glibc-hwcaps/${best}`]);
      const r2 = same(prog('p4', `${dir}/good2:${dir}/good`), opts);
      expect(r2.reports[0].load!.objects.find((o) => o.names.includes('libfoo.so.1'))!.path).to.equal(`${dir}/good2/libfoo.so.1`);
    });
  });

  describe('inside a root (files built here)', () => {
    let dir: string;
    const put = (path: string, bytes: Buffer | string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes, { mode: 0o755 });
    };
    const lib = () => buildElf({ soname: 'libfoo.so.1', needed: [] });
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'elfpack-unusable-root-'));
      put(GLIBC_INTERP, buildElf({ soname: 'ld-linux-x86-64.so.2', needed: [] }));
      put(MUSL_INTERP, buildElf({ needed: [] }));
      put(`usr/lib/${T}/libc.so.6`, buildElf({ soname: 'libc.so.6', needed: [] }));
      put('opt/good/libfoo.so.1', lib());
      put('opt/noperm/libfoo.so.1', lib());
      put('opt/file', 'not a directory\n');
      mkdirSync(join(dir, 'opt/unlisted'), { recursive: true });
      symlinkSync('/opt/loop', join(dir, 'opt/loop'));
      put('etc/ld.so.conf', '/opt/loop\n/opt/file\n/opt/unlisted\n/opt/missing\n/opt/good\n');
      put('bin/conf', buildElf({ interp: GLIBC_INTERP, needed: ['libfoo.so.1'] }));
      put('bin/noperm', buildElf({ interp: GLIBC_INTERP, needed: ['libfoo.so.1'], runpath: '/opt/noperm:/opt/good' }));
      mkdirSync(join(dir, 'opt/through-file'), { recursive: true });
      symlinkSync('/opt/file/libfoo.so.1', join(dir, 'opt/through-file/libfoo.so.1'));
      put('bin/notdir', buildElf({ interp: GLIBC_INTERP, needed: ['libfoo.so.1'], runpath: '/opt/through-file:/opt/good' }));
      put('bin/musl-loop', buildElf({ interp: MUSL_INTERP, needed: ['libfoo.so.1'], runpath: '/opt/loop:/opt/good' }));
      put('bin/musl-file', buildElf({ interp: MUSL_INTERP, needed: ['libfoo.so.1'], runpath: '/opt/file:/opt/noperm:/opt/good' }));
    });
    after(() => dir && rmSync(dir, { recursive: true, force: true }));
    const root = () => new DeniedRoot(dir, ['/opt/noperm', '/opt/unlisted']);

    it('ld.so.conf (no cache): a loop, a file and a directory that cannot be listed are left out as ldconfig leaves them, each noted; the search goes on', () => {
      const r = ldd(root(), ['/bin/conf']);
      const json = lddToJson(r) as { files: { libraries: { name: string; path: string; via: string }[]; skipped: { path: string; via: string; reason: string }[] }[] };
      expect(json.files[0].libraries.find((l) => l.name === 'libfoo.so.1')).to.include({ path: '/opt/good/libfoo.so.1', via: 'ld_so_conf' });
      expect(json.files[0].skipped).to.deep.equal([
        { path: '/opt/loop', via: 'ld_so_conf', reason: 'too many levels of symbolic links (ELOOP): passed over, as ldconfig does' },
        { path: '/opt/file', via: 'ld_so_conf', reason: 'is a regular file, not a directory (ENOTDIR): passed over, as ldconfig does' },
        { path: '/opt/unlisted', via: 'ld_so_conf', reason: 'cannot be listed (opendir fails): passed over, as ldconfig does' },
      ]);
      expect(renderTree(r).filter((l) => l.includes('note:'))).to.deep.equal([
        '    note: skipped /opt/loop [ld.so.conf]: too many levels of symbolic links (ELOOP): passed over, as ldconfig does',
        '    note: skipped /opt/file [ld.so.conf]: is a regular file, not a directory (ENOTDIR): passed over, as ldconfig does',
        '    note: skipped /opt/unlisted [ld.so.conf]: cannot be listed (opendir fails): passed over, as ldconfig does',
      ]);
      expect(r.ok).to.equal(true);
    });

    it('glibc: a library that cannot be opened for permission (EACCES) is passed over with a note, and the same RUNPATH goes on', () => {
      const load = ldd(root(), ['/bin/noperm']).reports[0].load!;
      expect(load.objects.find((o) => o.names.includes('libfoo.so.1'))!.path).to.equal('/opt/good/libfoo.so.1');
      expect(load.skipped).to.deep.equal([{ path: '/opt/noperm/libfoo.so.1', via: 'runpath', reason: 'permission denied (EACCES): passed over, as the loader does' }]);
    });

    it('glibc: a library whose path runs through a file (ENOTDIR) is absent and the RUNPATH goes on, as glibc 2.39 (2.36 gave the RUNPATH up)', () => {
      const load = ldd(root(), ['/bin/notdir']).reports[0].load!;
      expect(load.objects.find((o) => o.names.includes('libfoo.so.1'))!.path).to.equal('/opt/good/libfoo.so.1');
      expect(load.skipped).to.deep.equal([]);
    });

    it('musl: ENOTDIR and EACCES go on to the next directory; a symlink loop (ELOOP) ends the whole search, as path_open does', () => {
      const file = ldd(root(), ['/bin/musl-file']).reports[0].load!;
      expect(file.profile!.libc).to.equal('musl');
      expect(file.objects.find((o) => o.names.includes('libfoo.so.1'))!.path).to.equal('/opt/good/libfoo.so.1');
      const loop = ldd(root(), ['/bin/musl-loop']).reports[0].load!;
      expect(loop.missing.map((m) => m.name)).to.deep.equal(['libfoo.so.1']);
      expect(loop.missing[0].error).to.equal('/opt/loop/libfoo.so.1: too many levels of symbolic links (ELOOP): musl stops searching here');
    });
  });
});
