// make bench: elfpack ldd against ldd, lddtree and libtree on the same files, one process per tool
// where the tool takes many files. Prints each time, the ratios, elfpack's peak memory, and the goals.
// Not a test: figures depend on the machine; nothing here fails a build.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, isElfFile } from '../support/helpers.js';
import { listMembers } from '../../src/oci/blob-source.js';
import { canWriteZstd } from '../../src/oci/zstd-layer.js';
import { FileByteSource } from '../../src/elf/byte-source.js';
import { readElf } from '../../src/elf/read-elf.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { PLAIN_REGISTRY } from '../support/registry.js';
import { debBench } from './deb-bench.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// Node reads NODE_EXTRA_CA_CERTS at start-up (tens of ms here); it has nothing to do with the work measured.
const ENV = { ...process.env };
delete ENV.NODE_EXTRA_CA_CERTS;

/**
 * The floor for any Node program over these files: node starting, then opening, stat-ing and
 * reading the first 8 KiB of each file, nothing parsed (what elfpack's reader reads at least).
 */
const NODE_READS = `const fs = require('fs'); const b = Buffer.allocUnsafe(8192);
for (const f of process.argv.slice(1)) { const fd = fs.openSync(f, 'r'); fs.fstatSync(fd); fs.readSync(fd, b, 0, 8192, 0); fs.closeSync(fd); }`;

/** Set 1: every ELF executable in /usr/bin and /usr/sbin, by real path, once each. */
function executables(): string[] {
  const out = new Set<string>();
  for (const d of ['/usr/bin', '/usr/sbin']) {
    for (const n of readdirSync(d)) {
      try {
        const real = realpathSync(join(d, n));
        const st = statSync(real);
        if (st.isFile() && (st.mode & 0o111) && isElfFile(real)) out.add(real);
      } catch { /* dangling link */ }
    }
  }
  return [...out].sort();
}

/** Set 2: every regular ELF file under /usr (executables, libraries, plugins). */
function allElf(dir = '/usr', out: string[] = []): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) allElf(p, out);
    else if (st.isFile() && st.size > 64 && isElfFile(p)) out.push(p);
  }
  return out;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

interface Timing { seconds: number; maxRssMb?: number; }

/** Median wall time of RUNS runs of `cmd files...`; peak RSS through /usr/bin/time when there. */
function time(cmd: string[], files: string[]): Timing {
  const times: number[] = [];
  let rss: number | undefined;
  const useTime = have('/usr/bin/time');
  for (let i = 0; i < RUNS; i++) {
    const argv = useTime ? ['/usr/bin/time', '-f', '%M', ...cmd, ...files] : [...cmd, ...files];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env: ENV, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 256 << 20 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    // A tool that takes seconds varies by far less than its distance from the others: once is enough.
    const slow = times[times.length - 1] > 5;
    if (useTime) {
      const lines = r.stderr.toString().trim().split('\n');
      const kb = Number(lines[lines.length - 1]);
      if (Number.isFinite(kb)) rss = Math.max(rss ?? 0, kb / 1024);
    }
    if (slow) break;
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], maxRssMb: rss };
}

function row(cells: string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(12))).join(' ');
}

function runSet(name: string, files: string[], tools: string[]): Map<string, Timing> {
  console.log(`\n${name}: ${files.length} files, median of ${RUNS} runs (one run for a tool that takes over 5 s)`);
  const results = new Map<string, Timing>();
  // Run as a user runs it, so that bin/elfpack's V8 flags (its #! line) apply.
  const elfpack = [join(REPO, 'bin/elfpack'), 'ldd'];
  // lddtree is a Python script that needs Debian's python3-pyelftools: run it with Debian's python3,
  // whatever python3 comes first on PATH.
  const cmds: Record<string, string[]> = {
    elfpack, ldd: ['ldd'], libtree: ['libtree'], lddtree: ['/usr/bin/python3', '/usr/bin/lddtree'],
    'node reads': [process.execPath, '-e', NODE_READS],
  };
  console.log(row(['tool', 'seconds', 'vs elfpack', 'peak MB']));
  for (const tool of tools) {
    if (tool !== 'elfpack' && tool !== 'node reads' && !have(cmds[tool][cmds[tool].length - 1])) {
      console.log(row([tool, 'not installed', '', '']));
      continue;
    }
    const t = time(cmds[tool], files);
    results.set(tool, t);
    const ours = results.get('elfpack')!;
    console.log(row([tool, t.seconds.toFixed(3), tool === 'elfpack' ? '1.0×' : `${(t.seconds / ours.seconds).toFixed(1)}×`, t.maxRssMb ? t.maxRssMb.toFixed(0) : '-']));
  }
  return results;
}

function goal(text: string, ok: boolean | undefined): void {
  console.log(`  ${ok === undefined ? 'n/a ' : ok ? 'MET ' : 'MISS'}  ${text}`);
}

/** One big file read in-process: the time per read, and how much memory it took. */
function bigFile(): void {
  const files = allElf();
  let big = files[0];
  let size = 0;
  for (const f of files) {
    const sz = statSync(f).size;
    if (sz > size) { size = sz; big = f; }
  }
  const before = process.memoryUsage().rss;
  const n = 200;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const fd = openSync(big, 'r');
    const src = new FileByteSource(fd, statSync(big).size);
    try { readElf(src); } finally { src.close(); }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / n;
  const grew = (process.memoryUsage().rss - before) / 1048576;
  console.log(`largest ELF file under /usr: ${big} (${(size / 1048576).toFixed(0)} MB): read in ${ms.toFixed(3)} ms, memory grew ${grew.toFixed(1)} MB over ${n} reads`);
}

function lddBench(): void {
  bigFile();
  const set1 = executables();
  const r1 = runSet('set 1 (ELF executables in /usr/bin, /usr/sbin)', set1, ['elfpack', 'ldd', 'lddtree', 'libtree', 'node reads']);
  const set2 = allElf();
  const r2 = runSet('set 2 (every ELF file under /usr)', set2, ['elfpack', 'ldd', 'libtree', 'node reads']);

  const e1 = r1.get('elfpack')!;
  const e2 = r2.get('elfpack')!;
  const ratio = (a?: Timing, b?: Timing) => (a && b ? a.seconds / b.seconds : undefined);
  console.log('\ngoals');
  const l1 = ratio(r1.get('ldd'), e1);
  const t1 = ratio(r1.get('lddtree'), e1);
  const lt2 = ratio(e2, r2.get('libtree'));
  goal(`set 1: at least 20× faster than ldd (${l1?.toFixed(1) ?? '-'}×)`, l1 === undefined ? undefined : l1 >= 20);
  goal(`set 1: at least 50× faster than lddtree (${t1?.toFixed(1) ?? '-'}×)`, t1 === undefined ? undefined : t1 >= 50);
  goal(`set 2: within 1.5× of libtree (${lt2?.toFixed(2) ?? '-'}× libtree's time)`, lt2 === undefined ? undefined : lt2 <= 1.5);
  const floor = ratio(r2.get('node reads'), r2.get('libtree'));
  if (floor !== undefined) console.log(`        (set 2: node opening and reading the files, nothing more, takes ${floor.toFixed(2)}× libtree's time)`);
  const peak = Math.max(e1.maxRssMb ?? 0, e2.maxRssMb ?? 0);
  goal(`peak memory under 150 MB (${peak ? peak.toFixed(0) : '-'} MB)`, peak ? peak < 150 : undefined);
}

/** Packing: elfpack against lddtree --copy-to-tree + tar, the pipeline people write by hand. */
function packBench(): void {
  const work = mkdtempSync(join(tmpdir(), 'elfpack-bench-'));
  const progs = ['/usr/bin/node', '/usr/bin/curl'].filter((p) => existsSync(p));
  // The same files both ways: --bare --no-runtime-deps --no-package-metadata packs the DT_NEEDED
  // closure, as lddtree copies it, into an uncompressed tar as tar writes one. The default pack
  // (extras, libgcc_s/NSS, package metadata, gzip layers) is timed too, for scale.
  console.log(`\npacking (median of ${RUNS} runs): elfpack BIN --bare --no-runtime-deps --no-package-metadata --compression none against lddtree --copy-to-tree + tar`);
  console.log(row(['program', 'elfpack s', 'pipeline s', 'ratio', 'peak MB', 'default s']));
  let worstRss = 0;
  let slower = false;
  for (const prog of progs) {
    const name = prog.split('/').pop()!;
    const ours = time([join(REPO, 'bin/elfpack'), prog, '--bare', '--no-runtime-deps', '--no-package-metadata', '--compression', 'none', '--out', join(work, `${name}.tar`)], []);
    const full = time([join(REPO, 'bin/elfpack'), prog, '--out', join(work, `${name}-full.tar`)], []);
    const tree = join(work, `${name}-tree`);
    const theirs = have('/usr/bin/lddtree')
      ? time(['sh', '-c', `rm -rf "$1" && /usr/bin/python3 /usr/bin/lddtree --copy-to-tree "$1" "$2" >/dev/null && tar -C "$1" -cf "$1.tar" .`, 'sh', tree, prog], [])
      : undefined;
    worstRss = Math.max(worstRss, ours.maxRssMb ?? 0, full.maxRssMb ?? 0);
    if (theirs && ours.seconds > theirs.seconds) slower = true;
    const size = statSync(join(work, `${name}.tar`)).size;
    console.log(row([`${name} (${(size / 1e6).toFixed(0)} MB)`, ours.seconds.toFixed(3), theirs ? theirs.seconds.toFixed(3) : 'no lddtree', theirs ? `${(theirs.seconds / ours.seconds).toFixed(1)}×` : '-', ours.maxRssMb?.toFixed(0) ?? '-', full.seconds.toFixed(3)]));
  }
  rmSync(work, { recursive: true, force: true });
  goal('packing: no slower than lddtree --copy-to-tree + tar', progs.length ? !slower : undefined);
  goal(`packing: peak memory under 200 MB (${worstRss.toFixed(0)} MB)`, worstRss ? worstRss < 200 : undefined);
}
/**
 * Traced packs of real programs: the image against lddtree --copy-to-tree of the program plus the
 * directories a user would copy for it by hand, and the traced pack's time against the program's own run.
 */
function traceBench(): void {
  const cases: { name: string; program: string; args: string[]; include: string[] }[] = [
    { name: 'python3', program: '/usr/bin/python3', args: ['-c', 'import json, sqlite3, ssl, hashlib, zlib, ctypes'], include: ['/usr/lib/python3.11'] },
    { name: 'convert', program: '/usr/bin/convert', args: ['rose:', '/tmp/elfpack-bench-rose.png'], include: ['/usr/lib/x86_64-linux-gnu/ImageMagick-6.9.11', '/etc/ImageMagick-6'] },
    { name: 'php', program: '/usr/bin/php', args: ['-r', 'echo ctype_digit("1");'], include: ['/usr/lib/php', '/etc/php'] },
    { name: 'java', program: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', args: ['-version'], include: ['/usr/lib/jvm/java-17-openjdk-amd64'] },
  ].filter((c) => existsSync(c.program));
  if (!have('bwrap') || !have('strace') || !cases.length) {
    console.log('\ntraced packs: skipped (needs bwrap, strace and the programs: make deps)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'elfpack-bench-trace-'));
  console.log(`\ntraced packs (median of ${RUNS}): image size against lddtree --copy-to-tree + the program's directories; time against the program's own run`);
  console.log(row(['program', 'traced MB', 'lddtree MB', 'size ratio', 'run s', 'traced s', 'time ratio']));
  for (const c of cases) {
    const out = join(work, `${c.name}.tar`);
    const own = time([c.program, ...c.args], []);
    const traced = time([join(REPO, 'bin/elfpack'), c.program, '--trace', '--out', out, '--', ...c.args], []);
    const size = existsSync(out) ? statSync(out).size : NaN;
    const tree = join(work, `${c.name}-tree`);
    let theirs = NaN;
    if (have('/usr/bin/lddtree')) {
      const copy = spawnSync('sh', ['-c', 'T="$1"; rm -rf "$T" && /usr/bin/python3 /usr/bin/lddtree --copy-to-tree "$T" "$2" >/dev/null && shift 2 && for d; do mkdir -p "$T$(dirname "$d")" && cp -a "$d" "$T$d"; done; du -sb "$T" | cut -f1', 'sh', tree, c.program, ...c.include], { encoding: 'utf8' });
      theirs = Number(copy.stdout.trim().split('\n').pop());
    }
    console.log(row([c.name, (size / 1e6).toFixed(1), (theirs / 1e6).toFixed(1), `${(size / theirs).toFixed(2)}×`, own.seconds.toFixed(3), traced.seconds.toFixed(3), `${(traced.seconds / own.seconds).toFixed(1)}×`]));
  }
  rmSync(work, { recursive: true, force: true });
}

/** The largest file under `dir` (an OCI layout's layer blob) and its size. */
function largestBlob(dir: string): number {
  let size = 0;
  for (const n of readdirSync(join(dir, 'blobs/sha256'))) size = Math.max(size, statSync(join(dir, 'blobs/sha256', n)).size);
  return size;
}

/**
 * Compressing node's closure: elfpack's gzip writer over the layer of an uncompressed image of
 * `node --bare --no-runtime-deps`, against `skopeo copy --dest-compress docker-archive:… oci:…`
 * of the same image, each a process of its own, side by side; zstd too where this Node writes it.
 */
async function compressBench(): Promise<void> {
  if (!existsSync('/usr/bin/node') || !have('skopeo')) {
    console.log('\ncompression: skipped (needs /usr/bin/node and skopeo: make deps)');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'elfpack-bench-compress-'));
  try {
    const plain = join(work, 'node.tar');
    spawnSync(join(REPO, 'bin/elfpack'), ['/usr/bin/node', '--bare', '--no-runtime-deps', '--compression', 'none', '--out', plain, '--tag', 'elfpack-bench-node:1'], { env: ENV, stdio: 'ignore' });
    // The layer is the largest blob: an elfpack image of one layer has one config and one manifest besides.
    const layer = [...(await listMembers(plain)).values()].sort((a, b) => b.size - a.size)[0];
    console.log(`\ncompressing node's closure (a ${(layer.size / 1e6).toFixed(0)} MB layer; median of ${RUNS}, ${availableParallelism()} cores): elfpack's writer against skopeo copy`);
    console.log(row(['format', 'elfpack s', 'skopeo s', 'time ratio', 'elfpack MB', 'skopeo MB', 'size ratio', 'peak MB']));
    const kinds: ('gzip' | 'zstd')[] = canWriteZstd() ? ['gzip', 'zstd'] : ['gzip'];
    let gzip: { t: number; s: number } | undefined;
    for (const kind of kinds) {
      const out = join(work, `layer.${kind}`);
      const ours = time([process.execPath, join(REPO, 'dist/test/bench/compress-layer.js'), plain, String(layer.offset), String(layer.size), out, kind], []);
      const dest = join(work, `skopeo-${kind}`);
      const flags = kind === 'gzip' ? '--dest-compress' : '--dest-compress-format zstd';
      const theirs = time(['sh', '-c', `rm -rf "$1" && exec skopeo copy -q ${flags} "docker-archive:$2" "oci:$1:x"`, 'sh', dest, plain], []);
      const mine = statSync(out).size;
      const skopeo = largestBlob(dest);
      console.log(row([kind, ours.seconds.toFixed(3), theirs.seconds.toFixed(3), `${(ours.seconds / theirs.seconds).toFixed(2)}×`, (mine / 1e6).toFixed(1), (skopeo / 1e6).toFixed(1), `${(mine / skopeo).toFixed(3)}×`, ours.maxRssMb?.toFixed(0) ?? '-']));
      if (kind === 'gzip') gzip = { t: ours.seconds / theirs.seconds, s: mine / skopeo };
    }
    if (!canWriteZstd()) console.log(row(['zstd', `not on Node ${process.versions.node} (22.15+ writes it)`]));
    goal(`gzip: no slower than skopeo copy --dest-compress (${gzip ? gzip.t.toFixed(2) : '-'}× its time)`, gzip ? gzip.t <= 1 : undefined);
    goal(`gzip: at most 1.05× skopeo's size (${gzip ? gzip.s.toFixed(3) : '-'}×)`, gzip ? gzip.s <= 1.05 : undefined);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs a command without blocking this process (the counting proxy lives in it); resolves to its exit status. */
function runAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: 'ignore' });
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
}

/**
 * Layers images share: jq then curl pushed to one repository of the local registry, the bytes
 * each push sent counted at a proxy in front of it; with --layers auto curl's push skips the base
 * jq's sent, with --layers 1 nothing is shared.
 */
async function layersBench(): Promise<void> {
  const progs = ['/usr/bin/jq', '/usr/bin/curl'];
  const up = await fetch(`http://${PLAIN_REGISTRY}/v2/`).then(() => true, () => false);
  if (!progs.every((p) => existsSync(p)) || !up) {
    console.log(`\nlayers: skipped (needs ${progs.join(' and ')} and the registry on ${PLAIN_REGISTRY}: make deps)`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'elfpack-bench-layers-'));
  // Its own record of pushed blobs: a mount from an earlier run's repository would hide the upload.
  const env = { ...ENV, XDG_CACHE_HOME: join(work, 'cache') };
  const proxy = await startFaultProxy(PLAIN_REGISTRY);
  try {
    console.log('\nlayers: bytes pushed for jq, then for curl into the same repository (the base is the loader and libc; gzip layers, --sbom none)');
    console.log(row(['--layers', 'jq MB', 'curl MB', 'layers', 'curl s']));
    for (const mode of ['auto', '1']) {
      const repo = `${proxy.host}/elfpack-bench/layers-${mode}-${process.pid}-${Date.now()}`;
      const sent: number[] = [];
      let seconds = 0;
      let count = 0;
      for (const prog of progs) {
        const name = prog.split('/').pop()!;
        const from = proxy.requests.length;
        const t0 = process.hrtime.bigint();
        const code = await runAsync(join(REPO, 'bin/elfpack'), [prog, '--layers', mode, '--sbom', 'none', '--push', `${repo}:${name}`, '--', '--version'], env);
        seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (code !== 0) throw new Error(`elfpack ${prog} --push failed (exit ${code})`);
        const reqs = proxy.requests.slice(from);
        sent.push(reqs.reduce((n, q) => n + q.bytesIn, 0));
        count = reqs.filter((q) => q.method === 'HEAD' && q.url.includes('/blobs/')).length - 1; // the config's HEAD aside
      }
      console.log(row([mode, (sent[0] / 1e6).toFixed(2), (sent[1] / 1e6).toFixed(2), String(count), seconds.toFixed(3)]));
    }
  } finally {
    await proxy.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// BENCH_ONLY=ldd, pack, trace, compress, layers or deb runs one part.
const only = process.env.BENCH_ONLY;
if (!only || only === 'ldd') lddBench();
if (!only || only === 'pack') packBench();
if (!only || only === 'trace') traceBench();
if (!only || only === 'compress') await compressBench();
if (!only || only === 'layers') await layersBench();
if (!only || only === 'deb') debBench(REPO, goal);
const startup = time([process.execPath, '-e', '0'], []);
console.log(`\nfor scale: node itself starts in ${startup.seconds.toFixed(3)} s here`);
