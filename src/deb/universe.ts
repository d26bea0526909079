// The packages apt could install for one run: the records of several Packages indexes (main,
// contrib, a suite's -updates and -security…) combined, looked up by name and by what they provide.
import { ElfpackError } from '../errors.js';
import type { PackageRecord } from './packages-index.js';

/** Records in a universe (bookworm main, updates and security for two architectures: under 300,000). */
export const MAX_UNIVERSE_RECORDS = 2_000_000;

export interface PackageUniverse {
  /** Every record of a name, of every architecture, in the order the indexes gave them. */
  byName: Map<string, PackageRecord[]>;
  /** Virtual name → the records that provide it (with the provide's version). */
  providers: Map<string, { record: PackageRecord; version?: string }[]>;
}

/**
 * Combines indexes into one universe. The same (package, version, architecture) in several
 * indexes is one record, the first seen: the archive gives one file for it.
 */
export function buildUniverse(indexes: readonly (readonly PackageRecord[])[]): PackageUniverse {
  const byName = new Map<string, PackageRecord[]>();
  const providers = new Map<string, { record: PackageRecord; version?: string }[]>();
  const seen = new Set<string>();
  for (const index of indexes) {
    for (const r of index) {
      const key = `${r.package}\0${r.version}\0${r.architecture}`;
      if (seen.has(key)) continue;
      if (seen.size >= MAX_UNIVERSE_RECORDS) throw new ElfpackError('DEB_INDEX', `more than ${MAX_UNIVERSE_RECORDS} package records in the indexes`, { step: 'deb-index' });
      seen.add(key);
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
  return { byName, providers };
}
