// A Debian binary Packages index (the archive's dists/SUITE/COMPONENT/binary-ARCH/Packages): deb822
// records (as root/deb822.ts reads them) read into what resolving and fetching need; relationship fields as
// deb-control(5) and Debian Policy §7.1 write them.
import { ElfpackError } from '../errors.js';
import { isDebRelation, MAX_VERSION_LENGTH, type DebRelation } from './version.js';

/** Records in one index (bookworm main amd64 has about 64,000). */
export const MAX_INDEX_RECORDS = 500_000;
/** A line of an index: librust-winapi-dev's Provides alone is 75 KiB, so the control-file bound is too small. */
export const MAX_INDEX_LINE = 1024 * 1024;
/** Relations in one field (comma-separated groups times their alternatives). */
export const MAX_FIELD_RELATIONS = 20_000;
/** Distinct relationship fields remembered while reading one index (bookworm main has about 60,000). */
const MAX_REMEMBERED_RELATIONS = 200_000;

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

/** The fields a record is read from (any case, as deb822 names go); every other field is skipped unread. */
const FIELDS = ['package', 'version', 'architecture', 'multi-arch', 'essential', 'priority', 'provides', 'depends', 'pre-depends',
  'recommends', 'conflicts', 'breaks', 'filename', 'size', 'sha256', 'installed-size', 'source'] as const;
const FIELD_NUMBER = new Map<string, number>(FIELDS.map((f, i) => [f, i]));
const F = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<(typeof FIELDS)[number], number>;
// The names as Debian writes them are found without lowercasing.
for (const [f, i] of [...FIELD_NUMBER]) FIELD_NUMBER.set(f.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase()), i);
FIELD_NUMBER.set('SHA256', F.sha256);

/** One paragraph's wanted fields: the first line's value (trimmed) and any continuation lines, by field number. */
interface Paragraph {
  line: number;
  values: (string | undefined)[];
  folded: (string[] | undefined)[];
}

/**
 * Reads a Packages index in one pass over the text, keeping only the fields a record needs: the
 * index of a suite's main is 50 MB, and a deb822 paragraph of every field of every record took
 * seconds and hundreds of MB. Paragraphs are read as deb822.ts reads them (the same blank,
 * comment, continuation and malformed lines). A record without Package, Version, Architecture,
 * Filename, Size or SHA256, or with a relationship field that does not parse, is left out and said
 * in `warnings`, after the paragraphs that were malformed. Past MAX_INDEX_RECORDS records, a
 * DEB_INDEX error.
 */
export function parsePackagesIndex(text: string, from = 'Packages'): PackagesIndex {
  const records: PackageRecord[] = [];
  const malformed: string[] = [];
  const refused: string[] = [];
  const relations = new Map<string, DebDependencyGroup[]>(); // the same field text, parsed once
  let count = 0;
  let cur: Paragraph | undefined;
  let bad: string | undefined;
  let last: number | null | undefined; // the field continuation lines belong to: a number if kept, null if skipped
  const end = () => {
    if (cur && !bad) {
      if (count++ >= MAX_INDEX_RECORDS) throw new ElfpackError('DEB_INDEX', `more than ${MAX_INDEX_RECORDS} records`, { path: from, step: 'deb-index' });
      try {
        records.push(readRecord(cur, from, relations));
      } catch (err) {
        refused.push(`${from}: line ${cur.line}: ${(err as Error).message}: left out`);
      }
    } else if (cur && bad) malformed.push(`${from}: line ${cur.line}: ${bad}: left out`);
    cur = undefined;
    bad = undefined;
    last = undefined;
  };
  let lineNo = 0;
  for (let at = 0; at <= text.length;) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const stop = text.charCodeAt(nl - 1) === 13 && nl > at ? nl - 1 : nl;
    const start = at;
    at = nl + 1;
    lineNo++;
    if (blank(text, start, stop)) {
      end();
      continue;
    }
    const c = text.charCodeAt(start);
    if (c === 35) continue; // "#": a comment
    cur ??= { line: lineNo, values: new Array(FIELDS.length), folded: new Array(FIELDS.length) };
    if (bad) continue;
    if (stop - start > MAX_INDEX_LINE) {
      bad = `a line longer than ${MAX_INDEX_LINE} characters`;
      continue;
    }
    if (c === 32 || c === 9) {
      if (last === undefined) bad = 'a continuation line before any field';
      else if (last !== null) (cur.folded[last] ??= []).push(text.slice(start, stop).trim());
      continue;
    }
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= stop) {
      bad = `not a "Name: value" line: ${JSON.stringify(text.slice(start, Math.min(stop, start + 80)))}`;
      continue;
    }
    const name = text.slice(start, colon);
    const n = FIELD_NUMBER.get(name) ?? FIELD_NUMBER.get(name.toLowerCase());
    // The first of a field named twice is the one read, as deb822.ts's fieldOf finds it.
    if (n === undefined || cur.values[n] !== undefined) last = null;
    else {
      cur.values[n] = text.slice(colon + 1, stop).trim();
      last = n;
    }
  }
  end();
  return { records, warnings: [...malformed, ...refused] };
}

/** Whether text[start, stop) is empty or only what String.prototype.trim removes (a paragraph's end). */
function blank(text: string, start: number, stop: number): boolean {
  if (start === stop) return true;
  const c = text.charCodeAt(start);
  if (c > 32 && c < 0xa0) return false; // the usual case, without a slice
  return text.slice(start, stop).trim() === '';
}

function readRecord(p: Paragraph, from: string, relations: Map<string, DebDependencyGroup[]>): PackageRecord {
  const valueOf = (f: number) => p.values[f] ?? '';
  // A relationship field may be folded over several lines (deb822(5)).
  const fieldText = (f: number) => (p.folded[f] ? [valueOf(f), ...p.folded[f]!].join(' ') : valueOf(f));
  const rel = (f: number, pkg: string) => {
    const t = fieldText(f);
    let groups = relations.get(t);
    if (!groups) {
      groups = parseRelations(t, pkg);
      if (relations.size < MAX_REMEMBERED_RELATIONS) relations.set(t, groups);
    }
    return groups;
  };
  const pkg = valueOf(F.package);
  const version = valueOf(F.version);
  const architecture = valueOf(F.architecture);
  if (!NAME.test(pkg)) throw new Error(`a Package that is not a package name: ${JSON.stringify(pkg.slice(0, 80))}`);
  checkVersion(version, pkg);
  if (!ARCH.test(architecture)) throw new Error(`${pkg}: an Architecture that is not one: ${JSON.stringify(architecture.slice(0, 80))}`);
  const filename = valueOf(F.filename);
  const size = Number(valueOf(F.size));
  const sha256 = valueOf(F.sha256).toLowerCase();
  if (!filename) throw new Error(`${pkg}: no Filename`);
  if (!Number.isSafeInteger(size) || size < 0 || !valueOf(F.size)) throw new Error(`${pkg}: no Size, or not a number`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`${pkg}: no SHA256, or not 64 hex digits`);
  const multiArch = valueOf(F['multi-arch']) || 'no';
  if (!['no', 'same', 'foreign', 'allowed'].includes(multiArch)) throw new Error(`${pkg}: an unknown Multi-Arch: ${JSON.stringify(multiArch.slice(0, 40))}`);
  const installed = valueOf(F['installed-size']);
  const source = valueOf(F.source).split(/\s+/)[0] || pkg;
  return {
    package: pkg,
    version,
    architecture,
    multiArch: multiArch as MultiArch,
    essential: valueOf(F.essential).toLowerCase() === 'yes',
    priority: valueOf(F.priority).toLowerCase(),
    provides: parseProvides(fieldText(F.provides), pkg),
    depends: rel(F.depends, pkg),
    preDepends: rel(F['pre-depends'], pkg),
    recommends: rel(F.recommends, pkg),
    conflicts: rel(F.conflicts, pkg),
    breaks: rel(F.breaks, pkg),
    filename,
    size,
    sha256,
    ...(installed && Number.isSafeInteger(Number(installed)) ? { installedSize: Number(installed) } : {}),
    source,
    from,
  };
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
