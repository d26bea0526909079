// make bench, BENCH_ONLY=deb: an image straight from Debian packages. `elfpack deb python3.11`
// (a cold cache, then the cache warm: the median of three runs) against fetchy's published 35 MB
// and against the usual way without elfpack, `debootstrap --variant=minbase` + `apt-get install
// --no-install-recommends`, whose root is measured as it is.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FETCHY_PYTHON_MB = 35;

interface Run { seconds: number; ok: boolean; stderr: string }

function timed(argv: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, ok: r.status === 0, stderr: String(r.stderr ?? '').trim().split('\n').pop() ?? '' };
}

function duBytes(dir: string): number {
  const r = spawnSync('du', ['-sb', '--exclude=./proc', '--exclude=./sys', '--exclude=./dev', dir], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0]) || 0;
}

export function debBench(repo: string, goal: (text: string, ok: boolean | undefined) => void): void {
  const work = mkdtempSync(join(tmpdir(), 'elfpack-bench-deb-'));
  try {
    const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };
    const tar = join(work, 'python.tar');
    // The whole standard library, as fetchy's image had it (a traced run would keep only what it imports).
    const args = [join(repo, 'bin/elfpack'), 'deb', 'python3.11', '--entrypoint', '/usr/bin/python3.11', '--include', '/usr/lib/python3.11',
      '--exclude', '**/test/**', '--exclude', '**/__pycache__/**', '--compression', 'none', '--sbom', 'none', '--out', tar];
    console.log('\nelfpack deb python3.11 --include /usr/lib/python3.11 (no builder; uncompressed tar): a cold cache, then warm; against fetchy and debootstrap + apt-get');
    const cold = timed(args, env);
    if (!cold.ok) {
      console.log(`  skipped: elfpack deb failed (${cold.stderr}); it needs the Debian archive`);
      return;
    }
    // Each warm run does the same work (the cold one saved the plan, the root and gpgv's verdict):
    // the median of three, as the other parts of the bench take, evens out this machine's noise.
    const warms = [timed(args, env), timed(args, env), timed(args, env)];
    const warm = [...warms].sort((a, b) => a.seconds - b.seconds)[1];
    const image = statSync(tar).size;
    console.log(`${'way'.padEnd(40)} ${'seconds'.padStart(10)} ${'MB'.padStart(10)}`);
    console.log(`${'elfpack deb, cold cache (downloads)'.padEnd(40)} ${cold.seconds.toFixed(2).padStart(10)} ${(image / 1e6).toFixed(1).padStart(10)}`);
    console.log(`${'elfpack deb, warm cache (median of 3)'.padEnd(40)} ${warm.seconds.toFixed(2).padStart(10)} ${(image / 1e6).toFixed(1).padStart(10)}  (${warms.map((w) => w.seconds.toFixed(2)).join(', ')})`);
    // The evidence-based image: a traced run keeps what it imported.
    const traced = join(work, 'python-traced.tar');
    const t = timed([join(repo, 'bin/elfpack'), 'deb', 'python3.11', '--entrypoint', '/usr/bin/python3.11', '--trace', '--compression', 'none', '--sbom', 'none', '--out', traced,
      '--', '-c', 'import json, sqlite3, ssl, hashlib; print(json.dumps([1]))'], env);
    console.log(`${'elfpack deb --trace (json sqlite3 ssl)'.padEnd(40)} ${t.seconds.toFixed(2).padStart(10)} ${t.ok ? (statSync(traced).size / 1e6).toFixed(1).padStart(10) : `failed: ${t.stderr}`}`);
    console.log(`${'fetchy (published)'.padEnd(40)} ${'-'.padStart(10)} ${FETCHY_PYTHON_MB.toFixed(1).padStart(10)}`);
    const root = join(work, 'debootstrap');
    const canDebootstrap = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status === 0;
    if (canDebootstrap && process.env.BENCH_DEBOOTSTRAP !== '0') {
      const boot = timed(['sh', '-c', 'debootstrap --variant=minbase bookworm "$1" http://deb.debian.org/debian >/dev/null && chroot "$1" apt-get install -y -qq --no-install-recommends python3.11 >/dev/null', 'sh', root]);
      console.log(`${'debootstrap minbase + apt-get install'.padEnd(40)} ${boot.seconds.toFixed(2).padStart(10)} ${boot.ok ? (duBytes(root) / 1e6).toFixed(1).padStart(10) : `failed: ${boot.stderr}`}`);
    } else console.log(`${'debootstrap minbase + apt-get install'.padEnd(40)} ${'not run (needs root and debootstrap; BENCH_DEBOOTSTRAP=0 skips it)'}`);
    goal(`a warm cache takes at most 1/10 of the cold run (${(warm.seconds / cold.seconds).toFixed(2)}×)`, warm.seconds <= cold.seconds / 10);
    goal(`traced: smaller than fetchy's ${FETCHY_PYTHON_MB} MB (${t.ok ? (statSync(traced).size / 1e6).toFixed(1) : '-'} MB)`, t.ok ? statSync(traced).size / 1e6 < FETCHY_PYTHON_MB : undefined);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
