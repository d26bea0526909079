// The packages `apt-get install --no-install-recommends REQUESTED` would install into an empty root,
// chosen as apt 2.6's pkgDepCache::MarkInstall does (apt-pkg/depcache.cc): depth first, each
// package's Pre-Depends then Depends in order; a dependency already met by the set is skipped;
// otherwise its alternatives' candidates in order, each alternative's providers sorted as apt's
// CompareProviders, the first whose own dependencies can be met by some candidate is installed.
// Where we differ from apt, it is said where it happens.
import { ElfpackError } from '../errors.js';
import { installOrder } from './install-order.js';
import type { DebDependency, DebDependencyGroup, PackageRecord } from './packages-index.js';
import { closeNames } from './suggest-names.js';
import { candidateOf, type PackageUniverse } from './universe.js';
import { compareDebVersions, satisfiesRelation } from './version.js';

/** Packages in one install set (a desktop is about 2,000). */
export const MAX_INSTALL_SET = 20_000;
/** Entries of a package's `why` before the middle is elided. */
export const MAX_WHY = 32;
/** Steps of the search (a dependency group looked at, a candidate tried). */
export const MAX_RESOLVE_STEPS = 2_000_000;

export interface ResolveOptions {
  /** The dpkg architecture (amd64, arm64…); Architecture: all packages go with every one. */
  arch: string;
  /** Packages left out: any dependency on them (or on what they provide) counts as met, and is noted. */
  exclude?: string[];
}

export interface ResolvedPackage {
  record: PackageRecord;
  /** Why it is there: a requested package, then each package that pulled in the next, ending with this one. */
  why: string[];
  /** The packages of the set chosen to meet its Pre-Depends and Depends. */
  dependsOn: string[];
}

export interface ResolveResult {
  /** Dependencies before their dependents, ties by name (install-order.ts). */
  packages: ResolvedPackage[];
  /** What was decided that the list does not show: excluded dependencies, a virtual request's provider. */
  notes: string[];
}

/** apt's priorities as numbers (pkgCache::State::VerPriority): lower is more important; a missing field is 0, as in apt's cache. */
const PRIORITY: Record<string, number> = { required: 1, important: 2, standard: 3, optional: 4, extra: 5 };

function resolveError(message: string): ElfpackError {
  return new ElfpackError('DEB_RESOLVE', message, { step: 'deb-resolve' });
}

export function formatDependency(d: DebDependency): string {
  return `${d.name}${d.archQualifier ? `:${d.archQualifier}` : ''}${d.relation ? ` (${d.relation} ${d.version})` : ''}`;
}

interface Frame {
  rec: PackageRecord;
  groups: DebDependencyGroup[];
  gi: number;
  /** The current group's candidates in apt's order, once the group was found unmet. */
  solutions?: PackageRecord[];
  si: number;
}

class Resolver {
  private candidates = new Map<string, PackageRecord | null>();
  readonly selected = new Map<string, PackageRecord>();
  readonly parent = new Map<string, string>();
  readonly edges = new Map<string, string[]>();
  readonly notes: string[] = [];
  private excluded: Set<string>;
  private steps = 0;

  constructor(private u: PackageUniverse, readonly arch: string, exclude: string[]) {
    this.excluded = new Set(exclude);
  }

  /** The version apt would install of a name (universe.ts candidateOf), remembered; a request NAME=VERSION or NAME/SUITE sets it first. */
  candidate(name: string): PackageRecord | undefined {
    let c = this.candidates.get(name);
    if (c === undefined) this.candidates.set(name, c = candidateOf(this.u, name, this.arch) ?? null);
    return c ?? undefined;
  }

  /** Makes `r` the candidate of its name, as apt-get does for NAME=VERSION and NAME/SUITE. */
  setCandidate(r: PackageRecord): void {
    this.candidates.set(r.package, r);
  }

  /** The versions of a name for this architecture (or "all"), highest first. */
  versionsOf(name: string): PackageRecord[] {
    return (this.u.byName.get(name) ?? []).filter((r) => r.architecture === this.arch || r.architecture === 'all').sort((a, b) => compareDebVersions(b.version, a.version));
  }

  /** The highest version of a name in a suite (by the name the sources give it, its Suite or its Codename), as apt's pkgVersionMatch finds NAME/SUITE. */
  inSuite(name: string, suite: string): PackageRecord | undefined {
    return this.versionsOf(name).find((r) => (this.u.sources.get(r) ?? []).some((s) => s.suite === suite || s.aliases?.includes(suite)));
  }

  /**
   * apt-get's NAME/SUITE also moves dependencies to that suite (pkgDepCache::SetCandidateRelease):
   * a versioned Depends or Pre-Depends that no candidate meets takes the suite's version of an
   * alternative when it meets it, and so on for what that version needs. apt undoes a switch that
   * leads nowhere; here it stays, and the install reports the unmet dependency.
   */
  switchToSuite(root: PackageRecord, suite: string): void {
    const work = [root];
    const done = new Set(work);
    while (work.length) {
      const r = work.pop()!;
      for (const g of [...r.preDepends, ...r.depends]) {
        this.step();
        if (g.some((d) => this.solutionsOf(d).length > 0)) continue;
        for (const d of g) {
          const v = d.relation ? this.inSuite(d.name, suite) : undefined;
          if (!v || !this.meetsByName(v, d)) continue;
          this.setCandidate(v);
          if (!done.has(v)) {
            done.add(v);
            work.push(v);
          }
          break;
        }
      }
    }
  }

  /**
   * Whether the qualifier lets a dependency be met at all here: none, ":native" and ":ARCH" of
   * this architecture are the same thing with one architecture; ":any" needs Multi-Arch: allowed
   * (checked per package); another architecture is not supported (one architecture per image).
   */
  private qualifierOk(d: DebDependency): boolean {
    const q = d.archQualifier;
    return q === undefined || q === 'any' || q === 'native' || q === this.arch;
  }

  /** Whether the package version `r` meets `d` by its own name. */
  private meetsByName(r: PackageRecord, d: DebDependency): boolean {
    if (r.package !== d.name || !this.qualifierOk(d)) return false;
    // dpkg's archsatisfied: "pkg:any" is met by a Multi-Arch: allowed package, and a foreign one meets any architecture.
    if (d.archQualifier === 'any' && r.multiArch !== 'allowed' && r.multiArch !== 'foreign') return false;
    return !d.relation || satisfiesRelation(r.version, d.relation, d.version!);
  }

  /** The provide of `r` that meets `d`: an unversioned provide meets only an unversioned dependency. */
  private meetsByProvides(r: PackageRecord, d: DebDependency, version: string | undefined): boolean {
    if (!this.qualifierOk(d)) return false;
    // A virtual package named with ":any" is met by the provides of a Multi-Arch: foreign or allowed package.
    if (d.archQualifier === 'any' && r.multiArch !== 'allowed' && r.multiArch !== 'foreign') return false;
    if (!d.relation) return true;
    return version !== undefined && satisfiesRelation(version, d.relation, d.version!);
  }

  /**
   * The package of the set that meets `d`, or "" when an excluded one does (it counts as
   * present, whatever its version); undefined when none.
   */
  metBySet(d: DebDependency): string | undefined {
    const own = this.selected.get(d.name);
    if (own && this.meetsByName(own, d)) return own.package;
    if (this.excluded.has(d.name)) return '';
    for (const p of this.u.providers.get(d.name) ?? []) {
      if (this.excluded.has(p.record.package) && p.record === this.candidate(p.record.package)) return '';
      if (this.selected.get(p.record.package) === p.record && this.meetsByProvides(p.record, d, p.version)) return p.record.package;
    }
    return undefined;
  }

  /**
   * The candidates that meet `d`, in apt's order (CompareProviders): the package of that name
   * first, then Essential ones, then by Priority. apt's last tie-break is its cache's package id
   * (the order it first met each name); we take the name, so a tie between providers of equal
   * priority may go another way than apt's.
   */
  solutionsOf(d: DebDependency): PackageRecord[] {
    const out: PackageRecord[] = [];
    const own = this.candidate(d.name);
    if (own && this.meetsByName(own, d)) out.push(own);
    const provided: PackageRecord[] = [];
    for (const p of this.u.providers.get(d.name) ?? []) {
      const c = this.candidate(p.record.package);
      // apt installs only candidates: a provide of an older version does not count.
      if (c === p.record && c !== own && this.meetsByProvides(c, d, p.version) && !provided.includes(c)) provided.push(c);
    }
    provided.sort((a, b) => Number(b.essential) - Number(a.essential) || (PRIORITY[a.priority] ?? 0) - (PRIORITY[b.priority] ?? 0) || (a.package < b.package ? -1 : a.package > b.package ? 1 : 0));
    return out.concat(provided);
  }

  /** apt's IsInstallOkDependenciesSatisfiableByCandidates: each Pre-Depends and Depends met by the set or by some candidate. */
  installable(r: PackageRecord): boolean {
    return [...r.preDepends, ...r.depends].every((g) => g.some((d) => this.metBySet(d) !== undefined || this.solutionsOf(d).length > 0));
  }

  /** Why an alternative cannot be met, for the error. */
  whyNot(d: DebDependency): string {
    if (!this.qualifierOk(d)) return `${formatDependency(d)}: a dependency on another architecture (not supported: one architecture per image)`;
    const own = this.candidate(d.name);
    if (own) {
      const tried = this.solutionsOf(d)[0];
      // The candidate is there but its own dependency is not: the chain goes on through it.
      if (tried) return `${tried.package} → ${this.firstUnmet(tried)}`;
      if (d.archQualifier === 'any' && own.multiArch !== 'allowed' && own.multiArch !== 'foreign') return `${formatDependency(d)}: ${d.name} is neither Multi-Arch: allowed nor foreign`;
      return `${formatDependency(d)}: only ${own.version} available`;
    }
    const others = (this.u.byName.get(d.name) ?? []).map((r) => r.architecture);
    if (others.length) return `${formatDependency(d)}: not built for ${this.arch} (only ${[...new Set(others)].sort().join(', ')})`;
    const providers = (this.u.providers.get(d.name) ?? []).filter((p) => p.record === this.candidate(p.record.package));
    if (providers.length) return `${formatDependency(d)}: only ${providers.map((p) => `${p.record.package} provides ${d.name}${p.version ? ` (= ${p.version})` : ' (unversioned)'}`).join(', ')}`;
    return `${formatDependency(d)}: no such package`;
  }

  private firstUnmet(r: PackageRecord): string {
    const g = [...r.preDepends, ...r.depends].find((g) => !g.some((d) => this.metBySet(d) !== undefined || this.solutionsOf(d).length > 0));
    return g ? g.map((d) => this.whyNot(d)).join('; ') : 'its dependencies fail further down';
  }

  private whyMemo = new Map<string, string[]>();

  /**
   * The chain from a requested package to `name`, memoized so a set costs O(size · MAX_WHY).
   * Chains longer than MAX_WHY keep their first entry and last MAX_WHY - 2, "…" between: a
   * hostile index's 20,000-long chain must not make every package carry it.
   */
  chain(name: string): string[] {
    const up: string[] = [];
    let known: string[] | undefined;
    // Parents form a tree over the set: the walk ends within its size.
    for (let p: string | undefined = name; p !== undefined && up.length <= this.selected.size; p = this.parent.get(p)) {
      known = this.whyMemo.get(p);
      if (known) break;
      up.push(p);
    }
    let cur = known ?? [];
    for (let i = up.length - 1; i >= 0; i--) {
      cur = cur.length < MAX_WHY ? [...cur, up[i]] : [cur[0], '…', ...cur.slice(-(MAX_WHY - 3)), up[i]];
      this.whyMemo.set(up[i], cur);
    }
    return cur;
  }

  select(r: PackageRecord, parent?: string): void {
    if (this.selected.size >= MAX_INSTALL_SET) throw resolveError(`more than ${MAX_INSTALL_SET} packages to install`);
    this.selected.set(r.package, r);
    if (parent !== undefined) this.parent.set(r.package, parent);
    this.edges.set(r.package, this.edges.get(r.package) ?? []);
  }

  private step(): void {
    if (++this.steps > MAX_RESOLVE_STEPS) throw resolveError(`no install set within ${MAX_RESOLVE_STEPS} steps`);
  }

  /**
   * Installs the dependencies of `root` (already selected), depth first with an explicit stack.
   * A package whose dependency cannot be met is taken out again and its parent tries the next
   * candidate, as apt's failEarly does; what it had pulled in stays, as in apt. When `root`
   * itself cannot be completed, a DEB_RESOLVE error names the chain.
   */
  install(root: PackageRecord): void {
    const stack: Frame[] = [{ rec: root, groups: [...root.preDepends, ...root.depends], gi: 0, si: 0 }];
    let failure: string | undefined;
    let childResult: 'ok' | 'failed' | undefined;
    while (stack.length) {
      this.step();
      const f = stack[stack.length - 1];
      if (childResult === 'ok') {
        f.gi++;
        f.solutions = undefined;
      }
      childResult = undefined;
      if (f.gi >= f.groups.length) {
        stack.pop();
        childResult = 'ok';
        continue;
      }
      const g = f.groups[f.gi];
      if (!f.solutions) {
        const met = g.map((d) => this.metBySet(d));
        const by = met.find((m) => m);
        if (by !== undefined || met.includes('')) {
          // Met already: the edge still counts for the order (a cycle's back edge among them).
          if (by) this.edges.get(f.rec.package)!.push(by);
          else this.notes.push(`${this.chain(f.rec.package).join(' → ')} → ${g.map(formatDependency).join(' | ')}: excluded, counted as met`);
          f.gi++;
          continue;
        }
        const all = g.flatMap((d) => this.solutionsOf(d));
        f.solutions = all.filter((r, i) => all.indexOf(r) === i);
        f.si = 0;
      }
      let chosen: PackageRecord | undefined;
      while (f.si < f.solutions.length && !chosen) {
        this.step();
        const s = f.solutions[f.si++];
        if (!this.selected.has(s.package) && this.installable(s)) chosen = s;
      }
      if (chosen) {
        failure = undefined; // a new try: a reason from an earlier, abandoned one no longer applies
        this.select(chosen, f.rec.package);
        this.edges.get(f.rec.package)!.push(chosen.package);
        stack.push({ rec: chosen, groups: [...chosen.preDepends, ...chosen.depends], gi: 0, si: 0 });
        continue;
      }
      // No candidate of this group can be installed: the deepest reason found is the one to tell.
      failure ??= `${this.chain(f.rec.package).join(' → ')} → ${g.map((d) => this.whyNot(d)).join('; ')}`;
      if (stack.length === 1) throw resolveError(failure);
      stack.pop();
      this.unselect(f.rec, stack[stack.length - 1].rec.package);
      childResult = 'failed';
    }
  }

  private unselect(r: PackageRecord, parent: string): void {
    this.selected.delete(r.package);
    this.parent.delete(r.package);
    this.edges.delete(r.package);
    this.whyMemo.clear(); // chains through it are no longer true
    const list = this.edges.get(parent)!;
    list.splice(list.indexOf(r.package), 1);
  }
}

/**
 * What `apt-get install --no-install-recommends REQUESTED` would install into an empty root: no
 * Essential or Priority: required package is taken as present, and none is added unless something
 * depends on it. `requested` are as apt-get takes them: NAME, NAME:ARCH (of `options.arch`),
 * NAME=VERSION (that version becomes the candidate), NAME/SUITE (that suite's highest version,
 * by the name the sources give it, its Suite or Codename). A virtual name with a single provider
 * is that provider (noted), as apt does. Errors (DEB_RESOLVE, one line): an unknown name (with
 * close names), a version or suite that is not there (with the versions that are), a package not
 * built for the architecture, a virtual name with several providers, a dependency no candidate
 * meets (the chain that needs it). Requested packages are expanded in the order given; apt
 * expands them in its cache's order, which only matters when two requests could be met by
 * different alternatives.
 */
export function resolvePackages(universe: PackageUniverse, requested: string[], options: ResolveOptions): ResolveResult {
  const r = new Resolver(universe, options.arch, options.exclude ?? []);
  const asked = requested.map((req) => parseRequest(req, options.arch));
  // Versions and suites asked for are candidates before anything is chosen: a dependent takes them too, as in apt.
  for (const a of asked) {
    if (a.version !== undefined) r.setCandidate(exactVersion(r, universe, a));
    if (a.suite !== undefined) r.setCandidate(suiteVersion(r, universe, a));
  }
  for (const a of asked) if (a.suite !== undefined) r.switchToSuite(r.candidate(a.name)!, a.suite);
  const roots: PackageRecord[] = [];
  for (const a of asked) {
    if (options.exclude?.includes(a.name)) throw resolveError(`${a.name}: both requested and excluded`);
    const rec = r.candidate(a.name) ?? providerFor(r, universe, a.name, options.arch);
    // apt marks every requested package first, then installs their dependencies: a request met by another request stays as asked.
    if (!r.selected.has(rec.package)) r.select(rec);
    roots.push(rec);
  }
  for (const rec of roots) r.install(rec);
  const order = installOrder(r.edges);
  const packages = order.map((name) => ({ record: r.selected.get(name)!, why: r.chain(name), dependsOn: [...new Set(r.edges.get(name)!)].filter((d) => d !== name && r.selected.has(d)).sort() }));
  return { packages, notes: r.notes };
}

/** The package a request names: "jq" of "jq:amd64", "jq=1.6-2.1" or "jq/bookworm-security". */
export function packageNameOf(request: string): string {
  return request.replace(/[:=/].*$/, '');
}

/** A request as apt-get reads it: NAME[:ARCH][=VERSION|/SUITE]. */
interface Request {
  text: string;
  name: string;
  version?: string;
  suite?: string;
}

function parseRequest(text: string, arch: string): Request {
  const m = /^([^:=/]+)(?::([^:=/]+))?(?:=([^=/]+)|\/(\S+))?$/.exec(text);
  if (!m) throw resolveError(`${text}: not NAME, NAME=VERSION or NAME/SUITE`);
  if (m[2] !== undefined && m[2] !== arch) throw resolveError(`${text}: another architecture than ${arch} (one architecture per image)`);
  return { text, name: m[1], ...(m[3] !== undefined ? { version: m[3] } : {}), ...(m[4] !== undefined ? { suite: m[4] } : {}) };
}

/** Lists at most a few versions, for an error. */
function listVersions(recs: PackageRecord[], where?: (r: PackageRecord) => string): string {
  const shown = recs.slice(0, 8).map((r) => `${r.version}${where ? ` in ${where(r)}` : ''}`);
  return shown.join(', ') + (recs.length > shown.length ? `, … (${recs.length})` : '');
}

function exactVersion(r: Resolver, u: PackageUniverse, a: Request): PackageRecord {
  const all = r.versionsOf(a.name);
  const hit = all.find((v) => v.version === a.version);
  if (hit) return hit;
  if (!all.length) noVersions(r, u, a);
  throw resolveError(`${a.text}: no version ${a.version} of ${a.name} (versions: ${listVersions(all)})`);
}

function suiteVersion(r: Resolver, u: PackageUniverse, a: Request): PackageRecord {
  const hit = r.inSuite(a.name, a.suite!);
  if (hit) return hit;
  if (!u.indexSources.some((s) => s.suite === a.suite || s.aliases?.includes(a.suite!))) {
    const read = [...new Set(u.indexSources.map((s) => s.suite))];
    throw resolveError(`${a.text}: suite ${a.suite} is not read (${read.length ? `only ${read.join(', ')}` : 'no suite named'}); name the suites with --suite`);
  }
  const all = r.versionsOf(a.name);
  if (!all.length) noVersions(r, u, a);
  throw resolveError(`${a.text}: ${a.name} is not in ${a.suite} (versions: ${listVersions(all, (v) => (u.sources.get(v) ?? []).map((s) => s.suite).join(', '))})`);
}

/** NAME=VERSION or NAME/SUITE of a name without versions here: unknown, of another architecture, or virtual. */
function noVersions(r: Resolver, u: PackageUniverse, a: Request): never {
  providerFor(r, u, a.name, r.arch);
  throw resolveError(`${a.text}: ${a.name} is a virtual package: request one of its providers`);
}

/** A requested name that is not a package of this architecture: virtual (one provider), or an error saying what it is. */
function providerFor(r: Resolver, u: PackageUniverse, name: string, arch: string): PackageRecord {
  const others = u.byName.get(name);
  if (others?.length) throw resolveError(`${name}: not built for ${arch} (only ${[...new Set(others.map((o) => o.architecture))].sort().join(', ')})`);
  const providers = r.solutionsOf({ name });
  if (providers.length === 1) {
    r.notes.push(`${name} is a virtual package: selecting ${providers[0].package}, its only provider`);
    return providers[0];
  }
  if (providers.length > 1) throw resolveError(`${name}: a virtual package provided by ${providers.map((p) => p.package).join(', ')}: request one of them`);
  const close = closeNames(name, u.byName.keys());
  throw resolveError(`${name}: no such package${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`);
}
