// A Debian archive's Release (the text of InRelease once its signature is checked): the fields apt
// uses to trust an archive (https://wiki.debian.org/DebianRepository/Format#A.22Release.22_files).
import { ElfpackError } from '../errors.js';
import { fieldOf, parseDeb822, valueOf } from '../root/deb822.js';

/** Files listed in one SHA256 field; past it, an error (bookworm lists about 600). */
export const MAX_RELEASE_FILES = 100_000;

export interface ReleaseFile {
  /** Relative to dists/SUITE/: "main/binary-amd64/Packages.gz". */
  path: string;
  size: number;
  sha256: string;
}

export interface Release {
  suite: string;
  codename: string;
  architectures: string[];
  components: string[];
  date?: Date;
  validUntil?: Date;
  /** Files may be fetched by their hash (dists/SUITE/COMP/…/by-hash/SHA256/HEX): no race with a mirror update. */
  acquireByHash: boolean;
  /** `NotAutomatic: yes` (experimental, backports): apt installs from it only when asked. */
  notAutomatic: boolean;
  /** `ButAutomaticUpgrades: yes` (backports): with NotAutomatic, upgrades of what came from it still do. */
  butAutomaticUpgrades: boolean;
  /** The SHA256 list, by path. */
  files: Map<string, ReleaseFile>;
}

/** Parses the signed text; `what` (its URL) names it in errors. */
export function parseRelease(text: string, what: string): Release {
  const fail = (why: string): never => {
    throw new ElfpackError('DEB_ARCHIVE', `${why}`, { path: what, step: 'deb-release' });
  };
  const { paragraphs, malformed } = parseDeb822(text, 1, () => fail('more than one paragraph: not a Release file'));
  if (malformed.length) fail(`malformed: ${malformed[0]}`);
  const p = paragraphs[0] ?? fail('empty');
  const list = (name: string) => valueOf(p, name).split(/\s+/).filter(Boolean);
  const date = (name: string) => {
    const v = valueOf(p, name);
    if (!v) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? fail(`${name}: not a date: ${JSON.stringify(v.slice(0, 60))}`) : new Date(t);
  };
  const files = new Map<string, ReleaseFile>();
  const sums = fieldOf(p, 'SHA256') ?? fail('no SHA256 field: apt refuses an archive without strong hashes');
  for (const line of sums.lines.slice(1)) {
    const m = /^\s+([0-9a-fA-F]{64})\s+(\d{1,15})\s+(\S+)\s*$/.exec(line);
    if (!m) fail(`SHA256: not a "HASH SIZE PATH" line: ${JSON.stringify(line.slice(0, 100))}`);
    if (files.size >= MAX_RELEASE_FILES) fail(`SHA256 lists more than ${MAX_RELEASE_FILES} files`);
    files.set(m![3], { path: m![3], size: Number(m![2]), sha256: m![1].toLowerCase() });
  }
  return {
    suite: valueOf(p, 'Suite'),
    codename: valueOf(p, 'Codename'),
    architectures: list('Architectures'),
    components: list('Components'),
    date: date('Date'),
    validUntil: date('Valid-Until'),
    acquireByHash: /^yes$/i.test(valueOf(p, 'Acquire-By-Hash')),
    notAutomatic: /^yes$/i.test(valueOf(p, 'NotAutomatic')),
    butAutomaticUpgrades: /^yes$/i.test(valueOf(p, 'ButAutomaticUpgrades')),
    files,
  };
}

/**
 * The checks apt makes before using a Release: it is for the suite asked (Suite or Codename, so a
 * mirror cannot answer with another suite's signed file), not expired (unless `allowExpired`), and
 * lists the architecture and components asked.
 */
export function checkRelease(r: Release, want: { suite: string; arch: string; components: string[]; now: Date; allowExpired?: boolean }, what: string): void {
  const fail = (why: string): never => {
    throw new ElfpackError('DEB_ARCHIVE', `${why}`, { path: what, step: 'deb-release' });
  };
  if (!releaseIsFor(r, want.suite)) fail(`for suite ${r.suite || '?'} (codename ${r.codename || '?'}), not ${want.suite}: refused`);
  if (r.validUntil && r.validUntil < want.now && !want.allowExpired) fail(`expired on ${r.validUntil.toISOString()} (Valid-Until): a stale or replayed archive, refused`);
  if (!r.architectures.includes(want.arch)) fail(`suite ${want.suite} has no architecture ${want.arch}; it has ${r.architectures.filter((a) => a !== 'all').join(', ') || 'none'}`);
  // The security archive lists "updates/main": apt compares the last part only (debReleaseIndex::Load).
  const has = new Set(r.components.flatMap((c) => [c, c.slice(c.lastIndexOf('/') + 1)]));
  const absent = want.components.filter((c) => !has.has(c));
  if (absent.length) fail(`suite ${want.suite} has no component ${absent.join(', ')}; it has ${r.components.join(', ') || 'none'}`);
}

/**
 * Whether a Release is the suite's, as apt's metaIndex::CheckDist decides: its Suite or Codename is
 * the name asked, or the name without its last "/part" ("buster/updates", the old security naming,
 * is signed as codename buster).
 */
export function releaseIsFor(r: Release, suite: string): boolean {
  if (suite === r.suite || suite === r.codename) return true;
  const slash = suite.lastIndexOf('/');
  const parent = slash > 0 ? suite.slice(0, slash) : '';
  return parent !== '' && (parent === r.suite || parent === r.codename);
}

/** apt's priority for the packages of an ordinary Release (no NotAutomatic, no preferences). */
export const DEFAULT_PIN_PRIORITY = 500;

/** The pin priority apt gives every package of a Release without preferences (apt-pkg/policy.cc): NotAutomatic 1, with ButAutomaticUpgrades 100, else 500. */
export function defaultPinPriority(r: Pick<Release, 'notAutomatic' | 'butAutomaticUpgrades'>): number {
  if (!r.notAutomatic) return DEFAULT_PIN_PRIORITY;
  return r.butAutomaticUpgrades ? 100 : 1;
}
