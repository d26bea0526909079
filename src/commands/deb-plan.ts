// `elfpack deb PACKAGE…`, its first half: which packages a minimal install of PACKAGE… takes from
// a Debian archive, as apt would choose them (--no-install-recommends, into an empty root), read
// from the archive's signed indexes. The plan is printed before anything is downloaded.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { DbReader } from '../root/db-files.js';
import { HostRoot } from '../root/host-root.js';
import { readOsReleaseVars } from '../root/os-release.js';
import { join } from 'node:path';
import { readSealedJson, writeSealedJson } from '../sealed-json.js';
import { chooseSuites, hostSourcesReader, readAptSources, readTrustedKeyrings, type SourcesReader } from '../deb/apt-sources.js';
import { openSuites, type ArchiveSet } from '../deb/archive-set.js';
import { describeProxies, type ProxyOptions } from '../deb/archive-proxy.js';
import { aptProxies, combineProxies, readAptConfig, type AptConfig } from '../deb/apt-config.js';
import { parsePackagesIndex, type PackageRecord } from '../deb/packages-index.js';
import { resolvePackages } from '../deb/resolve-deps.js';
import { buildUniverse, type IndexSource } from '../deb/universe.js';
import { chooseDistroPackage, DISTRO_PACKAGE } from '../deb/distro-files.js';
import { ElfpackError } from '../errors.js';

export interface DebPlanOptions {
  packages: string[];
  /**
   * Default: the host's codename when it is Debian, else bookworm; read with its -updates and
   * -security as the host's apt sources list them (apt-sources.ts chooseSuites). Several: exactly
   * those, the first the main one.
   */
  suite?: string | string[];
  /** A Debian architecture (amd64, arm64, armhf, i386, ppc64el, s390x, riscv64…); default the host's. */
  arch?: string;
  /** The archive's URL; default the host's apt source for the suite. */
  mirror?: string;
  /** Keyring files, replacing every source's Signed-By; default each source's, else apt's trusted keyrings, else Debian's (apt-sources.ts verificationFor). */
  keyring?: string[];
  insecureNoVerify?: boolean;
  /** Packages left out (and what only they would bring). */
  excludePackages?: string[];
  /** Where indexes and .debs are kept (the elfpack cache's deb/). */
  cacheDir: string;
  /** Where the host's files are read (apt sources, os-release): "/" unless a test says otherwise. */
  hostDir?: string;
  /**
   * HTTP proxies for the archives, as curl's http_proxy, https_proxy and no_proxy say; default none
   * (the CLI reads those variables). The host's apt.conf proxies are combined with them as apt does
   * (apt-config.ts combineProxies): Acquire::http::Proxy wins over http_proxy.
   */
  proxy?: ProxyOptions;
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
  /** The suite (one of the plan's sources) it is fetched from. */
  suite: string;
}

/** An archive the plan read. */
export interface DebPlanSource {
  mirror: string;
  suite: string;
  /** Fingerprints of the keys that signed its InRelease (none when not verified). */
  signers: string[];
}

export interface DebPlan {
  /** The main suite, its archive and signers (the first of `sources`). */
  suite: string;
  arch: string;
  mirror: string;
  /** Fingerprints of the keys that signed the suite's InRelease (none when not verified). */
  signers: string[];
  /** Every suite read, the main one first. */
  sources: DebPlanSource[];
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

/** Opens the suites' archives (signatures, indexes), resolves the packages; the archives stay open for fetching. */
export async function planDeb(opts: DebPlanOptions): Promise<{ plan: DebPlan; archives: ArchiveSet }> {
  if (!opts.packages.length) throw new ElfpackError('USAGE', 'name at least one package');
  const suites = opts.suite === undefined ? [defaultSuite(opts.hostDir)] : typeof opts.suite === 'string' ? [opts.suite] : opts.suite;
  const arch = opts.arch ?? hostDebArch();
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(arch)) throw new ElfpackError('USAGE', `--arch ${arch.slice(0, 40)}: not a Debian architecture name (amd64, arm64, armhf…)`);
  const host = hostSourcesReader(opts.hostDir ?? '/');
  const chosen = chooseSuites(readAptSources(host), suites, arch, opts.mirror);
  const apt = aptProxies(readAptConfigOrWarn(host, opts.onWarning));
  for (const a of apt.autoDetect) opts.onWarning?.(`${a.setting.file}:${a.setting.line}: ${a.name} is not run by elfpack; set Acquire::http::Proxy or http_proxy instead`);
  const proxy = combineProxies(opts.proxy, apt);
  const proxies = describeProxies(proxy);
  if (proxies) opts.onProgress?.(`proxy: ${proxies}`);
  for (const c of chosen.choices) opts.onProgress?.(`reading ${c.mirror} ${c.suite} (${c.components.join(', ')}) for ${arch}${c.optional ? ' if it is there' : ''}`);
  const archives = await openSuites(chosen.choices, {
    arch, keyring: opts.keyring, trustedKeyrings: readTrustedKeyrings(host), cacheDir: opts.cacheDir, insecureNoVerify: opts.insecureNoVerify, onWarning: opts.onWarning, deferIndexes: true, proxy,
  });
  try {
    const main = archives.suites[0];
    const sources = archives.suites.map(({ archive, choice }) => ({ mirror: archive.mirror, suite: choice.suite, signers: archive.signers }));
    const head = { suite: main.choice.suite, arch, mirror: main.archive.mirror, signers: main.archive.signers, sources };
    const readNote = `suites read (${chosen.how}): ${sources.map((s) => `${s.suite}${s.mirror === head.mirror ? '' : ` from ${s.mirror}`}`).join(', ')}${chosen.notRead ? `; ${chosen.notRead}` : ''}`;
    // The same request against the same indexes (by the SHA256 the verified Release gives them)
    // has the same answer: a warm run skips reading and resolving the indexes (50 MB for main).
    const indexFiles = archives.suites.map(({ archive, source }) => ({
      mirror: source.mirror, suite: source.suite, priority: source.priority,
      files: [...archive.release.files.values()]
        .filter((f) => archive.components.some((c) => f.path.startsWith(`${c}/binary-${arch}/Packages`)))
        .map((f) => `${f.path} ${f.sha256}`).sort(),
    }));
    const key = createHash('sha256').update(JSON.stringify({ v: PLAN_CACHE_VERSION, arch, indexFiles, packages: opts.packages, exclude: opts.excludePackages ?? [] })).digest('hex');
    const cachedPlan = join(opts.cacheDir, 'plans', `${key}.json`);
    const hit = readCachedPlan(cachedPlan, sources.map((s) => s.suite));
    if (hit) return { plan: { ...head, ...hit, notes: [readNote, ...hit.notes] }, archives };
    const indexes: PackageRecord[][] = [];
    const indexSources: IndexSource[] = [];
    for (const { archive, source } of archives.suites) {
      for (const p of await archive.indexes()) {
        const idx = parsePackagesIndex(p.text, p.path);
        for (const w of idx.warnings.slice(0, 5)) opts.onWarning?.(w);
        indexes.push(idx.records);
        indexSources.push(source);
      }
    }
    const universe = buildUniverse(indexes, indexSources);
    const resolved = resolvePackages(universe, opts.packages, { arch, exclude: opts.excludePackages });
    const suiteOf = (r: PackageRecord) => universe.sources.get(r)![0].suite;
    const packages = resolved.packages.map(({ record: r, why }) => planPackage(r, why, suiteOf(r)));
    const distro = chooseDistroPackage(universe, arch, packages.map((p) => p.name));
    const found = { packages, ...(distro ? { distroFiles: planPackage(distro, [DISTRO_PACKAGE], suiteOf(distro)) } : {}), notes: resolved.notes };
    if (indexFiles.every((x) => x.files.length)) {
      mkdirSync(join(opts.cacheDir, 'plans'), { recursive: true });
      await writeSealedJson(cachedPlan, PLAN_MAGIC, found);
    }
    return { plan: { ...head, ...found, notes: [readNote, ...resolved.notes] }, archives };
  } catch (err) {
    await archives.close();
    throw err;
  }
}

/**
 * apt's configuration, for its proxies. apt stops on a file it cannot parse; elfpack reads the
 * files only for the proxies, so it goes on without them and says so (a run that needs the proxy
 * then fails to connect, after this line).
 */
function readAptConfigOrWarn(host: SourcesReader, onWarning?: (line: string) => void): AptConfig {
  try {
    return readAptConfig(host);
  } catch (err) {
    if (!(err instanceof ElfpackError)) throw err;
    // Its syntax errors name FILE:LINE in the message already; its other errors, by their path.
    const line = err.path && !err.message.startsWith(err.path) ? err.describe() : err.message;
    onWarning?.(`${line}; apt's configuration is not used, nor any proxy it sets`);
    return new Map();
  }
}

/** Bumped when what a plan holds, or how it is chosen, changes: older cached plans are then not used. */
const PLAN_CACHE_VERSION = 4; // 2: distroFiles; 3: each package's suite; 4: sealed (sealed-json.ts)
const PLAN_MAGIC = `elfpack-deb-plan/${PLAN_CACHE_VERSION}`;
const MAX_CACHED_PLAN_BYTES = 16 << 20;

type CachedPlan = { packages: DebPlanPackage[]; distroFiles?: DebPlanPackage; notes: string[] };

/** A plan this cache wrote, or undefined (missing, too large, damaged, or not of the expected shape: then resolved again). */
function readCachedPlan(path: string, suites: string[]): CachedPlan | undefined {
  const v = readSealedJson(path, PLAN_MAGIC, MAX_CACHED_PLAN_BYTES) as { packages?: unknown; distroFiles?: unknown; notes?: unknown } | undefined;
  const isPackage = (p: Partial<DebPlanPackage>) =>
    typeof p?.name === 'string' && typeof p.version === 'string' && typeof p.filename === 'string' && /^[0-9a-f]{64}$/.test(p.sha256 ?? '') && Number.isSafeInteger(p.size) && Array.isArray(p.why) && suites.includes(p.suite as string);
  const ok = !!v && Array.isArray(v.packages) && Array.isArray(v.notes) && v.packages.every(isPackage) && (v.distroFiles === undefined || isPackage(v.distroFiles as Partial<DebPlanPackage>));
  return ok ? v as CachedPlan : undefined;
}

function planPackage(r: PackageRecord, why: string[], suite: string): DebPlanPackage {
  return { name: r.package, version: r.version, arch: r.architecture, size: r.size, installedSize: r.installedSize === undefined ? null : r.installedSize * 1024, filename: r.filename, sha256: r.sha256, why, suite };
}

/** The plan for people: one line per package, with why it is there. */
export function renderDebPlan(plan: DebPlan): string[] {
  const mb = (n: number) => (n < 1e5 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`);
  const download = plan.packages.reduce((n, p) => n + p.size, 0);
  const installed = plan.packages.reduce((n, p) => n + (p.installedSize ?? 0), 0);
  const lines = [`${plan.packages.length} packages from ${plan.mirror} ${plan.suite} ${plan.arch}${plan.signers.length ? ` (signed by ${plan.signers.map((s) => s.slice(-16)).join(', ')})` : ' (NOT VERIFIED)'}: ${mb(download)} to download, ${mb(installed)} installed`];
  // The suite is shown only where it is not the main one: what came from -security stands out.
  for (const p of plan.packages) lines.push(`  ${p.name} ${p.version}${p.suite === plan.suite ? '' : ` (${p.suite})`} (${mb(p.size)})${p.why.length > 1 ? ` ← ${p.why.slice(0, -1).join(' → ')}` : ''}`);
  if (plan.distroFiles) lines.push(`  + ${plan.distroFiles.name} ${plan.distroFiles.version} (${mb(plan.distroFiles.size)}): only /etc/os-release and /etc/debian_version, so scanners know the distribution`);
  for (const n of plan.notes) lines.push(`  note: ${n}`);
  return lines;
}

/** The plan for machines (schema elfpack.deb-plan/v1). */
export function debPlanToJson(plan: DebPlan): object {
  return { schema: 'elfpack.deb-plan/v1', ...plan };
}
