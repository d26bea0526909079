// The packages apt could install for one run: the records of several Packages indexes (main,
// contrib, a suite's -updates and -security…) combined, looked up by name and by what they provide,
// each with the archive it came from and the pin priority apt gives it.
import { ElfpackError } from '../errors.js';
import type { PackageRecord } from './packages-index.js';
import { DEFAULT_PIN_PRIORITY } from './release.js';
import { compareDebVersions } from './version.js';

/** Records in a universe (bookworm main, updates and security for two architectures: under 300,000). */
export const MAX_UNIVERSE_RECORDS = 2_000_000;

/** Where an index was read: an archive's suite. */
export interface IndexSource {
  /** The archive's URL and the suite as the sources name it ("bookworm-security"). */
  mirror: string;
  suite: string;
  /** Other names `NAME/SUITE` may give it: its Release's Suite and Codename ("oldstable-security"). */
  aliases?: string[];
  /** apt's pin priority for its packages (release.ts defaultPinPriority). */
  priority: number;
}

export interface PackageUniverse {
  /** Every record of a name, of every architecture, in the order the indexes gave them. */
  byName: Map<string, PackageRecord[]>;
  /** Virtual name → the records that provide it (with the provide's version). */
  providers: Map<string, { record: PackageRecord; version?: string }[]>;
  /** Each record's sources: the first is where it is fetched from; absent when none were given. */
  sources: Map<PackageRecord, IndexSource[]>;
  /** The sources given, each once, in order. */
  indexSources: IndexSource[];
}

/** A record's pin priority: the highest of the indexes that list it, as apt takes a version's highest file. */
export function pinPriorityOf(u: PackageUniverse, r: PackageRecord): number {
  const s = u.sources.get(r);
  return s ? Math.max(...s.map((x) => x.priority)) : DEFAULT_PIN_PRIORITY;
}

/**
 * The version apt would install of a name (pkgPolicy::GetCandidateVer, nothing installed): of
 * `arch` or "all", the highest pin priority (each Release's, release.ts defaultPinPriority), then
 * the highest version.
 */
export function candidateOf(u: PackageUniverse, name: string, arch: string): PackageRecord | undefined {
  let c: PackageRecord | undefined;
  let best = 0;
  for (const r of u.byName.get(name) ?? []) {
    if (r.architecture !== arch && r.architecture !== 'all') continue;
    const prio = pinPriorityOf(u, r);
    if (!c || prio > best || (prio === best && compareDebVersions(r.version, c.version) > 0)) [c, best] = [r, prio];
  }
  return c;
}

/**
 * Combines indexes into one universe; `sources[i]`, when given, is where `indexes[i]` was read. The
 * same (package, version, architecture) in several indexes is one record, the first seen (the
 * archive gives one file for it), listed under each of their sources.
 */
export function buildUniverse(indexes: readonly (readonly PackageRecord[])[], sources: readonly IndexSource[] = []): PackageUniverse {
  const byName = new Map<string, PackageRecord[]>();
  const providers = new Map<string, { record: PackageRecord; version?: string }[]>();
  const from = new Map<PackageRecord, IndexSource[]>();
  const seen = new Map<string, PackageRecord>();
  for (const [i, index] of indexes.entries()) {
    const source = sources[i];
    for (const r of index) {
      const key = `${r.package}\0${r.version}\0${r.architecture}`;
      const first = seen.get(key);
      if (first) {
        const list = from.get(first);
        if (source && list && !list.includes(source)) list.push(source);
        continue;
      }
      if (seen.size >= MAX_UNIVERSE_RECORDS) throw new ElfpackError('DEB_INDEX', `more than ${MAX_UNIVERSE_RECORDS} package records in the indexes`, { step: 'deb-index' });
      seen.set(key, r);
      if (source) from.set(r, [source]);
      const list = byName.get(r.package);
      if (list) list.push(r);
      else byName.set(r.package, [r]);
      for (const p of r.provides) {
        const to = providers.get(p.name);
        const entry = p.version === undefined ? { record: r } : { record: r, version: p.version };
        if (to) to.push(entry);
        else providers.set(p.name, [entry]);
      }
    }
  }
  return { byName, providers, sources: from, indexSources: [...new Set(sources)] };
}
