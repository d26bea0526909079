// A Debian binary Packages index (the archive's dists/SUITE/COMPONENT/binary-ARCH/Packages): deb822
// records (deb822.ts) read into what resolving and fetching need; relationship fields as
// deb-control(5) and Debian Policy §7.1 write them.
import { ElfpackError } from '../errors.js';
import { parseDeb822, valueOf, fieldOf, type Deb822Paragraph } from '../root/deb822.js';
import { isDebRelation, MAX_VERSION_LENGTH, type DebRelation } from './version.js';

/** Records in one index (bookworm main amd64 has about 64,000). */
export const MAX_INDEX_RECORDS = 500_000;
/** A line of an index: librust-winapi-dev's Provides alone is 75 KiB, so the control-file bound is too small. */
export const MAX_INDEX_LINE = 1024 * 1024;
/** Relations in one field (comma-separated groups times their alternatives). */
export const MAX_FIELD_RELATIONS = 20_000;

export type MultiArch = 'no' | 'same' | 'foreign' | 'allowed';

/** One alternative of a dependency: "libc6:any (>= 2.36)". */
export interface DebDependency {
  name: string;
  /** The ":any", ":native" or ":ARCH" qualifier, without the colon; absent when none. */
  archQualifier?: string;
  relation?: DebRelation;
  version?: string;
}

/** A dependency: alternatives separated by "|", the first that can be met is apt's choice. */
export type DebDependencyGroup = DebDependency[];

export interface DebProvides {
  name: string;
  /** "Provides: foo (= 1.2)": a versioned provide can meet a versioned dependency; an unversioned one cannot. */
  version?: string;
}

export interface PackageRecord {
  package: string;
  version: string;
  architecture: string;
  multiArch: MultiArch;
  essential: boolean;
  /** required, important, standard, optional, extra; "" when absent. */
  priority: string;
  provides: DebProvides[];
  depends: DebDependencyGroup[];
  preDepends: DebDependencyGroup[];
  /** Kept to be shown, not followed (a minimal install is --no-install-recommends). */
  recommends: DebDependencyGroup[];
  conflicts: DebDependencyGroup[];
  breaks: DebDependencyGroup[];
  /** Path of the .deb under the archive's root. */
  filename: string;
  size: number;
  sha256: string;
  /** KiB, as the field says; undefined when absent. */
  installedSize?: number;
  /** The source package's name ("Source: glibc (2.36-9)" → glibc); the package's own name when absent. */
  source: string;
  /** Which index it came from, for messages. */
  from: string;
}

export interface PackagesIndex {
  records: PackageRecord[];
  /** Records left out (malformed, missing a field), each said with its line. */
  warnings: string[];
}

const NAME = /^[a-z0-9][a-z0-9+.-]*$/;
const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const VERSION = /^[A-Za-z0-9.+~:-]+$/;

/**
 * Reads a Packages index. A record without Package, Version, Architecture, Filename, Size or
 * SHA256, or with a relationship field that does not parse, is left out and said in `warnings`.
 * Past MAX_INDEX_RECORDS records, a DEB_INDEX error.
 */
export function parsePackagesIndex(text: string, from = 'Packages'): PackagesIndex {
  const tooMany = (): never => {
    throw new ElfpackError('DEB_INDEX', `more than ${MAX_INDEX_RECORDS} records`, { path: from, step: 'deb-index' });
  };
  const parsed = parseDeb822(text, MAX_INDEX_RECORDS, tooMany, MAX_INDEX_LINE);
  const warnings = parsed.malformed.map((m) => `${from}: ${m}: left out`);
  const records: PackageRecord[] = [];
  for (const p of parsed.paragraphs) {
    try {
      records.push(readRecord(p, from));
    } catch (err) {
      warnings.push(`${from}: line ${p.line}: ${(err as Error).message}: left out`);
    }
  }
  return { records, warnings };
}

function readRecord(p: Deb822Paragraph, from: string): PackageRecord {
  const pkg = valueOf(p, 'Package');
  const version = valueOf(p, 'Version');
  const architecture = valueOf(p, 'Architecture');
  if (!NAME.test(pkg)) throw new Error(`a Package that is not a package name: ${JSON.stringify(pkg.slice(0, 80))}`);
  checkVersion(version, pkg);
  if (!ARCH.test(architecture)) throw new Error(`${pkg}: an Architecture that is not one: ${JSON.stringify(architecture.slice(0, 80))}`);
  const filename = valueOf(p, 'Filename');
  const size = Number(valueOf(p, 'Size'));
  const sha256 = valueOf(p, 'SHA256').toLowerCase();
  if (!filename) throw new Error(`${pkg}: no Filename`);
  if (!Number.isSafeInteger(size) || size < 0 || !valueOf(p, 'Size')) throw new Error(`${pkg}: no Size, or not a number`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${pkg}: no SHA256, or not 64 hex digits`);
  const multiArch = valueOf(p, 'Multi-Arch') || 'no';
  if (!['no', 'same', 'foreign', 'allowed'].includes(multiArch)) throw new Error(`${pkg}: an unknown Multi-Arch: ${JSON.stringify(multiArch.slice(0, 40))}`);
  const installed = valueOf(p, 'Installed-Size');
  const source = valueOf(p, 'Source').split(/\s+/)[0] || pkg;
  return {
    package: pkg,
    version,
    architecture,
    multiArch: multiArch as MultiArch,
    essential: valueOf(p, 'Essential').toLowerCase() === 'yes',
    priority: valueOf(p, 'Priority').toLowerCase(),
    provides: parseProvides(fieldText(p, 'Provides'), pkg),
    depends: parseRelations(fieldText(p, 'Depends'), pkg),
    preDepends: parseRelations(fieldText(p, 'Pre-Depends'), pkg),
    recommends: parseRelations(fieldText(p, 'Recommends'), pkg),
    conflicts: parseRelations(fieldText(p, 'Conflicts'), pkg),
    breaks: parseRelations(fieldText(p, 'Breaks'), pkg),
    filename,
    size,
    sha256,
    ...(installed && Number.isSafeInteger(Number(installed)) ? { installedSize: Number(installed) } : {}),
    source,
    from,
  };
}

/** A field's whole value: relationship fields may be folded over several lines (deb822(5)). */
function fieldText(p: Deb822Paragraph, name: string): string {
  const f = fieldOf(p, name);
  if (!f) return '';
  return [f.value, ...f.lines.slice(1).map((l) => l.trim())].join(' ');
}

function checkVersion(v: string, pkg: string): void {
  if (!v || v.length > MAX_VERSION_LENGTH || !VERSION.test(v)) throw new Error(`${pkg}: not a version: ${JSON.stringify(v.slice(0, 80))}`);
}

/**
 * "a (>= 1) | b:any, c [amd64] <!nocheck>" → groups of alternatives. Architecture restrictions
 * ("[...]") and build profiles ("<...>") belong to source indexes; here they are read and dropped.
 */
export function parseRelations(text: string, pkg = ''): DebDependencyGroup[] {
  const groups: DebDependencyGroup[] = [];
  if (!text.trim()) return groups;
  let count = 0;
  for (const g of text.split(',')) {
    if (!g.trim()) continue; // a trailing comma, which dpkg tolerates
    const alts: DebDependency[] = [];
    for (const a of g.split('|')) {
      if (++count > MAX_FIELD_RELATIONS) throw new Error(`${pkg}: more than ${MAX_FIELD_RELATIONS} relations in one field`);
      alts.push(parseRelation(a, pkg));
    }
    groups.push(alts);
  }
  return groups;
}

// "<" and ">" only when not the start of a two-character relation: "(>= )" is malformed, not "> =".
const RELATION = /^([^\s:(\[<]+)(?::([^\s(\[<]+))?\s*(?:\(\s*(<<|<=|>=|>>|=|<(?![<=])|>(?![>=]))\s*([^\s)]+)\s*\))?\s*((?:\[[^\]]*\]\s*)*)((?:<[^>]*>\s*)*)$/;

function parseRelation(text: string, pkg: string): DebDependency {
  const m = RELATION.exec(text.trim());
  if (!m || !NAME.test(m[1])) throw new Error(`${pkg}: not a relation: ${JSON.stringify(text.trim().slice(0, 80))}`);
  const [, name, qualifier, relation, version] = m;
  if (qualifier !== undefined && !ARCH.test(qualifier)) throw new Error(`${pkg}: not an architecture qualifier: ${JSON.stringify(qualifier.slice(0, 40))}`);
  const dep: DebDependency = { name };
  if (qualifier) dep.archQualifier = qualifier;
  if (relation && isDebRelation(relation)) {
    checkVersion(version, pkg);
    dep.relation = relation;
    dep.version = version;
  }
  return dep;
}

/** "Provides: a, b (= 1.0)": only "=" is allowed (Policy §7.5); anything else leaves the record out. */
export function parseProvides(text: string, pkg = ''): DebProvides[] {
  const out: DebProvides[] = [];
  for (const group of parseRelations(text, pkg)) {
    if (group.length !== 1) throw new Error(`${pkg}: alternatives in Provides`);
    const [d] = group;
    if (d.relation && d.relation !== '=') throw new Error(`${pkg}: a Provides with "${d.relation}", not "="`);
    out.push(d.version ? { name: d.name, version: d.version } : { name: d.name });
  }
  return out;
}
