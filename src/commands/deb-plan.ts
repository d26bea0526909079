// `elfpack deb PACKAGE…`, its first half: which packages a minimal install of PACKAGE… takes from
// a Debian archive, as apt would choose them (--no-install-recommends, into an empty root), read
// from the archive's signed indexes. The plan is printed before anything is downloaded.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { DbReader } from '../root/db-files.js';
import { HostRoot } from '../root/host-root.js';
import { readOsReleaseVars } from '../root/os-release.js';
import { join } from 'node:path';
import { writeFileAtomically } from '../temp-files.js';
import { chooseArchive, hostSourcesReader, readAptSources } from '../deb/apt-sources.js';
import { openArchive, type DebArchive } from '../deb/archive.js';
import { parsePackagesIndex, type PackageRecord } from '../deb/packages-index.js';
import { resolvePackages } from '../deb/resolve-deps.js';
import { buildUniverse } from '../deb/universe.js';
import { chooseDistroPackage, DISTRO_PACKAGE } from '../deb/distro-files.js';
import { ElfpackError } from '../errors.js';

export interface DebPlanOptions {
  packages: string[];
  /** Default: the host's codename when it is Debian, else bookworm. */
  suite?: string;
  /** A Debian architecture (amd64, arm64, armhf, i386, ppc64el, s390x, riscv64…); default the host's. */
  arch?: string;
  /** The archive's URL; default the host's apt source for the suite. */
  mirror?: string;
  /** Keyring files; default the apt source's Signed-By, else Debian's archive keyring. */
  keyring?: string[];
  insecureNoVerify?: boolean;
  /** Packages left out (and what only they would bring). */
  excludePackages?: string[];
  /** Where indexes and .debs are kept (the elfpack cache's deb/). */
  cacheDir: string;
  /** Where the host's files are read (apt sources, os-release): "/" unless a test says otherwise. */
  hostDir?: string;
  onWarning?: (line: string) => void;
  onProgress?: (line: string) => void;
}

export interface DebPlanPackage {
  name: string;
  version: string;
  arch: string;
  /** The .deb's size and the installed size (bytes). */
  size: number;
  installedSize: number | null;
  filename: string;
  sha256: string;
  /** Requested, or the chain that pulled it in. */
  why: string[];
}

export interface DebPlan {
  suite: string;
  arch: string;
  mirror: string;
  /** Fingerprints of the keys that signed the suite's InRelease (none when not verified). */
  signers: string[];
  packages: DebPlanPackage[];
  /**
   * The suite's base-files when no package of the plan is it: only its os-release and
   * debian_version go into the root, so scanners know the distribution (deb/distro-files.ts).
   */
  distroFiles?: DebPlanPackage;
  notes: string[];
}

/** Node's process.arch → Debian's architecture name. */
export function hostDebArch(arch: string = process.arch): string {
  const deb: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armhf', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', mipsel: 'mipsel' };
  return deb[arch] ?? arch;
}

/** The host's Debian codename (os-release VERSION_CODENAME with ID=debian), else bookworm. */
export function defaultSuite(hostDir = '/'): string {
  const vars = readOsReleaseVars(new DbReader(new HostRoot(hostDir)))?.vars;
  return vars?.ID === 'debian' && vars.VERSION_CODENAME ? vars.VERSION_CODENAME : 'bookworm';
}

/** Opens the archive (signature, indexes), resolves the packages; the archive stays open for fetching. */
export async function planDeb(opts: DebPlanOptions): Promise<{ plan: DebPlan; archive: DebArchive }> {
  if (!opts.packages.length) throw new ElfpackError('USAGE', 'name at least one package');
  const suite = opts.suite ?? defaultSuite(opts.hostDir);
  const arch = opts.arch ?? hostDebArch();
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(arch)) throw new ElfpackError('USAGE', `--arch ${arch.slice(0, 40)}: not a Debian architecture name (amd64, arm64, armhf…)`);
  const choice = chooseArchive(readAptSources(hostSourcesReader(opts.hostDir ?? '/')), suite, arch, opts.mirror);
  opts.onProgress?.(`reading ${choice.mirror} ${suite} (${choice.components.join(', ')}) for ${arch}`);
  const archive = await openArchive({
    mirror: choice.mirror, suite, arch, components: choice.components,
    keyring: opts.keyring?.length ? opts.keyring : choice.signedBy, cacheDir: opts.cacheDir,
    insecureNoVerify: opts.insecureNoVerify, onWarning: opts.onWarning, deferIndexes: true,
  });
  try {
    // The same request against the same indexes (by the SHA256 the verified Release gives them)
    // has the same answer: a warm run skips reading and resolving the indexes (50 MB for main).
    const indexFiles = [...archive.release.files.values()]
      .filter((f) => archive.components.some((c) => f.path.startsWith(`${c}/binary-${arch}/Packages`)))
      .map((f) => `${f.path} ${f.sha256}`).sort();
    const key = createHash('sha256').update(JSON.stringify({ v: PLAN_CACHE_VERSION, mirror: archive.mirror, suite, arch, indexFiles, packages: opts.packages, exclude: opts.excludePackages ?? [] })).digest('hex');
    const cachedPlan = join(opts.cacheDir, 'plans', `${key}.json`);
    const hit = readCachedPlan(cachedPlan);
    if (hit) return { plan: { suite, arch, mirror: archive.mirror, signers: archive.signers, ...hit }, archive };
    const indexes = (await archive.indexes()).map((p) => {
      const idx = parsePackagesIndex(p.text, p.path);
      for (const w of idx.warnings.slice(0, 5)) opts.onWarning?.(w);
      return idx.records;
    });
    const universe = buildUniverse(indexes);
    const resolved = resolvePackages(universe, opts.packages, { arch, exclude: opts.excludePackages });
    const packages = resolved.packages.map(({ record: r, why }) => planPackage(r, why));
    const distro = chooseDistroPackage(universe, arch, packages.map((p) => p.name));
    const found = { packages, ...(distro ? { distroFiles: planPackage(distro, [DISTRO_PACKAGE]) } : {}), notes: resolved.notes };
    if (indexFiles.length) {
      mkdirSync(join(opts.cacheDir, 'plans'), { recursive: true });
      await writeFileAtomically(cachedPlan, async (out) => { out.end(JSON.stringify(found)); });
    }
    return { plan: { suite, arch, mirror: archive.mirror, signers: archive.signers, ...found }, archive };
  } catch (err) {
    await archive.close();
    throw err;
  }
}

/** Bumped when what a plan holds, or how it is chosen, changes: older cached plans are then not used. */
const PLAN_CACHE_VERSION = 2; // 2: distroFiles
const MAX_CACHED_PLAN_BYTES = 16 << 20;

/** A plan this cache wrote, or undefined (missing, too large, or not of the expected shape: then resolved again). */
function readCachedPlan(path: string): { packages: DebPlanPackage[]; distroFiles?: DebPlanPackage; notes: string[] } | undefined {
  try {
    if (statSync(path).size > MAX_CACHED_PLAN_BYTES) return undefined;
    const v = JSON.parse(readFileSync(path, 'utf8')) as { packages?: unknown; distroFiles?: unknown; notes?: unknown };
    const isPackage = (p: Partial<DebPlanPackage>) =>
      typeof p?.name === 'string' && typeof p.version === 'string' && typeof p.filename === 'string' && /^[0-9a-f]{64}$/.test(p.sha256 ?? '') && Number.isSafeInteger(p.size) && Array.isArray(p.why);
    const ok = Array.isArray(v.packages) && Array.isArray(v.notes) && v.packages.every(isPackage) && (v.distroFiles === undefined || isPackage(v.distroFiles as Partial<DebPlanPackage>));
    return ok ? v as { packages: DebPlanPackage[]; distroFiles?: DebPlanPackage; notes: string[] } : undefined;
  } catch {
    return undefined;
  }
}

function planPackage(r: PackageRecord, why: string[]): DebPlanPackage {
  return { name: r.package, version: r.version, arch: r.architecture, size: r.size, installedSize: r.installedSize === undefined ? null : r.installedSize * 1024, filename: r.filename, sha256: r.sha256, why };
}

/** The plan for people: one line per package, with why it is there. */
export function renderDebPlan(plan: DebPlan): string[] {
  const mb = (n: number) => (n < 1e5 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);
  const download = plan.packages.reduce((n, p) => n + p.size, 0);
  const installed = plan.packages.reduce((n, p) => n + (p.installedSize ?? 0), 0);
  const lines = [`${plan.packages.length} packages from ${plan.mirror} ${plan.suite} ${plan.arch}${plan.signers.length ? ` (signed by ${plan.signers.map((s) => s.slice(-16)).join(', ')})` : ' (NOT VERIFIED)'}: ${mb(download)} to download, ${mb(installed)} installed`];
  for (const p of plan.packages) lines.push(`  ${p.name} ${p.version} (${mb(p.size)})${p.why.length > 1 ? ` ← ${p.why.slice(0, -1).join(' → ')}` : ''}`);
  if (plan.distroFiles) lines.push(`  + ${plan.distroFiles.name} ${plan.distroFiles.version} (${mb(plan.distroFiles.size)}): only /etc/os-release and /etc/debian_version, so scanners know the distribution`);
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** The plan for machines (schema elfpack.deb-plan/v1). */
export function debPlanToJson(plan: DebPlan): object {
  return { schema: 'elfpack.deb-plan/v1', ...plan };
}
