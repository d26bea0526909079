// `elfpack go`: `go build` with the static-linking recipe (CGO_ENABLED=0, -trimpath, -s -w,
// -buildvcs=false) for each platform, then pack: one image, or one OCI image index holding a
// manifest per platform. The same source gives the same bytes, so the same index digest.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ElfpackError } from '../errors.js';
import { tempNameFor } from '../temp-files.js';
import type { Platform } from '../oci/platform.js';
import { HostRoot } from '../root/host-root.js';
import { imageNameFor, preparePack, type PackOptions, type PackPlan, type PackResult } from './pack.js';
import { prepareLayerOutput, sinksOf, writePlans } from './pack-output.js';
import { archiveSink } from '../sinks/archive.js';
import type { PushResult } from '../sinks/registry.js';
import { checkSinks } from '../sinks/sink.js';

export interface GoOptions extends Omit<PackOptions, 'root' | 'program' | 'platform' | 'cwd'> {
  /** The package to build (default "."), as `go build` takes it. */
  pkg?: string;
  /** Host directory a relative PKG and the default ./NAME.tar start from. */
  cwd: string;
  /** "linux/amd64", "linux/arm/v7"… (default: the host's). */
  platforms?: string[];
  /** Build with cgo and pack the program's libraries (host platform only). */
  cgo?: boolean;
  /** Extra `go build` flags (after "--"). */
  buildFlags?: string[];
  /** The environment go runs in (PATH, HOME, GOPATH…); the library never reads process.env. */
  goEnv: NodeJS.ProcessEnv;
  /** go's own output (build errors), as it comes. */
  onGoOutput?: (text: string) => void;
  /** The `go` program (default "go" on PATH). */
  goBinary?: string;
}

export interface GoResult {
  images: PackResult[];
  /** The image index's digest: for several platforms, or with SBOMs attached. */
  indexDigest?: string;
  out?: string;
  tag: string;
  pushed?: PushResult;
  /** Set by --verify: the image ran in the engine and exited 0. */
  verified?: { exitCode: number; seconds: number };
}

/** Node's process.arch → the OCI architecture (the host's platform, the default). */
export function hostPlatform(arch: string = process.arch): string {
  const oci: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mipsel: 'mipsle' };
  return `linux/${oci[arch] ?? arch}`;
}

interface GoPlatform {
  name: string;
  goarch: string;
  goarm?: string;
  platform?: Platform;
}

/** OCI platform names are Go's GOOS/GOARCH; the toolchain's own list says which it builds. */
function parseGoPlatform(p: string, known: Set<string>): GoPlatform {
  const [os, goarch, variant, extra] = p.split('/');
  if (os !== 'linux' || !goarch || extra !== undefined || !known.has(`linux/${goarch}`)) {
    throw new ElfpackError('USAGE', `--platform ${p}: not a Linux platform this Go builds for (see go tool dist list)`);
  }
  if (variant && !(goarch === 'arm' ? /^v[567]$/.test(variant) : goarch === 'arm64' && variant === 'v8')) {
    throw new ElfpackError('USAGE', `--platform ${p}: unknown variant ${variant}`);
  }
  // arm images say their variant (v7 unless GOARM says otherwise); the rest take it from the ELF header.
  const goarm = goarch === 'arm' ? variant?.slice(1) ?? '7' : undefined;
  const platform: Platform | undefined = goarm ? { os: 'linux', architecture: 'arm', variant: `v${goarm}` } : undefined;
  return { name: p, goarch, goarm, platform };
}

interface Run { code: number; stdout: string; stderr: string }

function runGo(opts: GoOptions, cwd: string, args: string[], env: NodeJS.ProcessEnv, echo: boolean): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.goBinary ?? 'go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (echo) opts.onGoOutput?.(d.toString());
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT'
        ? new ElfpackError('NOT_FOUND', 'no Go toolchain: "go" is not on PATH (install golang-go, or put go on PATH)', { step: 'go' })
        : new ElfpackError('IO', `cannot run go: ${err.message}`, { step: 'go', cause: err }));
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Nothing is ever downloaded behind the user's back: the local toolchain, as it is. */
function goBaseEnv(opts: GoOptions): NodeJS.ProcessEnv {
  return { GOTOOLCHAIN: 'local', ...opts.goEnv, GOOS: 'linux', GOFLAGS: opts.goEnv.GOFLAGS ?? '' };
}

/** At most this many packages from one `go list` (a pattern over a large tree). */
const MAX_LISTED = 10_000;

/** `go list` of a package or pattern, run in `cwd`: each package's name, import path and directory. */
export async function listGoPackages(opts: GoOptions, cwd: string, pkg: string, shown: string): Promise<{ name: string; importPath: string; dir: string }[]> {
  const list = await runGo(opts, cwd, ['list', '-f', '{{.Name}}\t{{.ImportPath}}\t{{.Dir}}', pkg], goBaseEnv(opts), false);
  if (list.code !== 0) throw new ElfpackError('USAGE', `go list: ${firstLines(list.stderr)}`, { path: shown, step: 'go' });
  const lines = list.stdout.split('\n').filter(Boolean);
  if (lines.length > MAX_LISTED) throw new ElfpackError('USAGE', `names more than ${MAX_LISTED} packages: narrow the pattern`, { path: shown, step: 'go' });
  return lines.map((l) => {
    const [name, importPath, dir] = l.split('\t');
    return { name, importPath, dir };
  });
}

export async function goPack(opts: GoOptions): Promise<GoResult> {
  const sinks = sinksOf(opts);
  await checkSinks(sinks);
  const shownPkg = opts.pkg ?? '.';
  // A directory is built from inside it, so that go finds the module it belongs to (go itself
  // would look for the module of the current directory).
  const asDir = /^(\.{1,2}(\/|$)|\/)/.test(shownPkg) ? resolve(opts.cwd, shownPkg) : undefined;
  const inDir = !!asDir && !!statSync(asDir, { throwIfNoEntry: false })?.isDirectory();
  const buildCwd = inDir ? asDir! : opts.cwd;
  const pkg = inDir ? '.' : shownPkg;
  const baseEnv = goBaseEnv(opts);
  const listed = await listGoPackages(opts, buildCwd, pkg, shownPkg);
  if (listed.length !== 1) throw new ElfpackError('USAGE', `names ${listed.length} packages: give one main package (a pattern with ... packs each main package)`, { path: shownPkg, step: 'go' });
  const { name, importPath, dir } = listed[0];
  if (name !== 'main') throw new ElfpackError('USAGE', `is package ${name}, not main: there is no program to build`, { path: shownPkg, step: 'go' });
  const known = new Set((await runGo(opts, buildCwd, ['tool', 'dist', 'list'], baseEnv, false)).stdout.split('\n').map((l) => l.trim()));
  const platforms = (opts.platforms?.length ? opts.platforms : [hostPlatform()]).map((p) => parseGoPlatform(p, known));
  if (new Set(platforms.map((p) => p.name)).size !== platforms.length) throw new ElfpackError('USAGE', '--platform lists a platform twice');
  const host = hostPlatform();
  if (opts.cgo && (platforms.length > 1 || `linux/${platforms[0].goarch}` !== host)) {
    throw new ElfpackError('USAGE', `--cgo builds for the host platform (${host}) only: a cgo cross build needs a C cross toolchain and the target's libraries`);
  }
  const progName = imageNameFor(importPath === 'command-line-arguments' ? dir : importPath);
  const at = opts.as ?? `/${progName}`;
  const tag = opts.tag ?? `${progName}:latest`;
  // Without an image output (--sbom-out alone is not one), ./NAME.tar.
  if (!sinks.some((s) => s.kind !== 'sbom')) sinks.push(archiveSink(join(opts.cwd, `${progName}.tar`)));
  const layers = await prepareLayerOutput(opts.compression, sinks);
  // Named as temp-files names its temporaries: a killed run's build directory goes with the next run.
  const work = tempNameFor(join(tmpdir(), 'elfpack-go'));
  // A traced run's sandbox user (uid 65534 outside, when elfpack runs as root) must reach the program.
  mkdirSync(work, { mode: opts.trace ? 0o755 : 0o700 });
  try {
    const plans: PackPlan[] = [];
    for (const p of platforms) {
      const bin = join(work, `${progName}-${p.goarch}${p.goarm ?? ''}`);
      const flags = ['-trimpath', '-buildvcs=false', '-ldflags=-s -w', ...(opts.tzdata ? ['-tags', 'timetzdata'] : []), ...(opts.buildFlags ?? [])];
      const env = { ...baseEnv, CGO_ENABLED: opts.cgo ? '1' : '0', GOARCH: p.goarch, ...(p.goarm ? { GOARM: p.goarm } : {}) };
      opts.onProgress?.(`go build ${shownPkg} for ${p.name}`);
      const b = await runGo(opts, buildCwd, ['build', ...flags, '-o', bin, pkg], env, true);
      if (b.code !== 0) throw new ElfpackError('BUILD_FAILED', `go build failed for ${p.name} (exit ${b.code}): ${firstLines(b.stderr)}`, { path: shownPkg, step: 'go' });
      const plan = await preparePack({
        ...opts, root: new HostRoot('/'), program: bin, cwd: '/', as: at, tag, platform: p.platform,
        // The image's zoneinfo comes from the binary itself with -tags timetzdata.
        tzdata: false, createdBy: `elfpack go ${shownPkg}`,
      });
      if (plan.result.linkage === 'dynamic' && !opts.cgo) {
        throw new ElfpackError('BUILD_FAILED', `the build for ${p.name} is dynamically linked (a build flag or a dependency asks for cgo): use --cgo to pack its libraries`, { path: shownPkg, step: 'go' });
      }
      plan.result.program = `${shownPkg} (${p.name})`;
      plans.push(plan);
    }
    const result: GoResult = { images: plans.map((p) => p.result), tag: plans[0].result.tag };
    // docker load takes manifest.json's one image: the host's when it was built.
    const hostIndex = Math.max(0, platforms.findIndex((p) => `linux/${p.goarch}` === host));
    const { report, indexDigest } = await writePlans(plans, sinks, layers, hostIndex);
    Object.assign(result, {
      ...(indexDigest ? { indexDigest } : {}), ...(report.out ? { out: report.out } : {}),
      ...(report.pushed ? { pushed: report.pushed } : {}), ...(report.verified ? { verified: report.verified } : {}),
    });
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function firstLines(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l && !l.startsWith('#'));
  return lines.slice(0, 3).join('; ') || 'no output';
}

/** The result for machines (schema elfpack.go/v1). */
export function goToJson(r: GoResult, packJson: (p: PackResult) => object): object {
  return { schema: 'elfpack.go/v1', tag: r.tag, out: r.out ?? null, indexDigest: r.indexDigest ?? null, pushed: r.pushed ?? null, verified: r.verified ?? null, images: r.images.map(packJson) };
}
