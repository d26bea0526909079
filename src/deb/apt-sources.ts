// The host's apt sources as apt reads them (sources.list(5)): /etc/apt/sources.list and
// sources.list.d/*.list in the one-line form, sources.list.d/*.sources in the deb822 form; the
// entry apt would take binary packages of a suite from; and the keys its signature is checked with
// (Signed-By, else apt's trusted keyrings: apt-secure(8)).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';
import { parseDeb822, valueOf, fieldOf, type Deb822Paragraph } from '../root/deb822.js';

/** A source file larger than this is an error (real ones are a few hundred bytes). */
export const MAX_SOURCES_FILE_BYTES = 1 << 20;
/** Entries read across all files; past it, an error (a host has a handful). */
export const MAX_SOURCE_ENTRIES = 1000;
/** Files read from sources.list.d. */
export const MAX_SOURCES_FILES = 1000;
/** Keyring files and fingerprints one Signed-By may list (a real one lists one or two). */
export const MAX_SIGNED_BY_ITEMS = 64;
/** Keyrings read from trusted.gpg.d (a Debian host has about ten). */
export const MAX_TRUSTED_KEYRINGS = 256;

/**
 * A source's Signed-By (sources.list(5)): the keyrings its InRelease is checked with, and the keys
 * of them whose signature counts. apt reads a list of absolute keyring paths and fingerprints, a
 * mix allowed: without files the keys come from the trusted keyrings (readTrustedKeyrings), and
 * without fingerprints every key of the keyrings counts. Or, deb822 only, one armored key block.
 */
export interface SignedBy {
  /** Keyring files (absolute paths) or one inline armored key block; empty: the trusted keyrings. */
  keyrings: string[];
  /**
   * 40 hex digits, upper case, each perhaps ending in "!": a signature counts when made by a listed
   * key or a subkey of it, or with "!" by exactly that (sub)key. Empty: any key of the keyrings.
   */
  fingerprints: string[];
  /** Where it was read ("FILE:LINE"), for messages. */
  origin: string;
}

export interface AptSourceEntry {
  type: 'deb' | 'deb-src';
  uris: string[];
  suites: string[];
  /** Empty for a suite given as an exact path ("./", "stable/"). */
  components: string[];
  /** Signed-By: keyring files and fingerprints, or an armored key block written inline (deb822 only). */
  signedBy?: SignedBy;
  /** `arch=` / Architectures: the architectures this entry is for; absent means every one. */
  archs?: string[];
  /** Where it was read: "FILE:LINE", for messages. */
  origin: string;
}

/** What sources are read through: text of a file (undefined when absent), and a directory's names. */
export interface SourcesReader {
  readText(path: string): string | undefined;
  list(dir: string): string[];
  /** Where a host path is on this machine, for gpgv to read (a keyring); default the path itself. */
  locate?(path: string): string;
}

/** Reads under `root` on this machine (a chroot-like prefix; "/" for the host). */
export function hostSourcesReader(root = '/'): SourcesReader {
  return {
    readText(path) {
      const p = join(root, path);
      try {
        if (statSync(p).size > MAX_SOURCES_FILE_BYTES) throw new ElfpackError('USAGE', `larger than ${MAX_SOURCES_FILE_BYTES >> 20} MiB: not an apt sources file`, { path: p, step: 'apt-sources' });
        return readFileSync(p, 'utf8');
      } catch (err) {
        if (err instanceof ElfpackError) throw err;
        return undefined;
      }
    },
    list(dir) {
      try {
        return readdirSync(join(root, dir)).slice(0, MAX_SOURCES_FILES + 1);
      } catch {
        return [];
      }
    },
    locate: (path) => join(root, path),
  };
}

const SOURCES_LIST = '/etc/apt/sources.list';
const SOURCES_DIR = '/etc/apt/sources.list.d';
// apt ignores names with other characters (backups like "x.list.save" or "x.list.disabled" end otherwise).
const PART_NAME = /^[A-Za-z0-9_.-]+\.(list|sources)$/;

/** Every entry, enabled ones only, in apt's order: sources.list, then sources.list.d by name. */
export function readAptSources(reader: SourcesReader): AptSourceEntry[] {
  const entries: AptSourceEntry[] = [];
  const add = (e: AptSourceEntry) => {
    if (entries.length >= MAX_SOURCE_ENTRIES) throw new ElfpackError('USAGE', `more than ${MAX_SOURCE_ENTRIES} apt source entries`, { path: e.origin, step: 'apt-sources' });
    entries.push(e);
  };
  const text = reader.readText(SOURCES_LIST);
  if (text !== undefined) checkSize(text, SOURCES_LIST);
  if (text) parseOneLineSources(text, SOURCES_LIST).forEach(add);
  const names = reader.list(SOURCES_DIR).filter((n) => PART_NAME.test(n)).sort();
  if (names.length > MAX_SOURCES_FILES) throw new ElfpackError('USAGE', `more than ${MAX_SOURCES_FILES} files`, { path: SOURCES_DIR, step: 'apt-sources' });
  for (const name of names) {
    const path = `${SOURCES_DIR}/${name}`;
    const t = reader.readText(path);
    if (t === undefined) continue;
    checkSize(t, path);
    (name.endsWith('.list') ? parseOneLineSources(t, path) : parseDeb822Sources(t, path)).forEach(add);
  }
  return entries;
}

function checkSize(text: string, path: string): void {
  if (text.length > MAX_SOURCES_FILE_BYTES) throw new ElfpackError('USAGE', `larger than ${MAX_SOURCES_FILE_BYTES >> 20} MiB: not an apt sources file`, { path, step: 'apt-sources' });
}

const words = (s: string) => s.split(/[\s]+/).filter(Boolean);

/** The one-line form: `deb [ opt=value … ] URI SUITE [COMPONENT…]`; `#` starts a comment. */
export function parseOneLineSources(text: string, path: string): AptSourceEntry[] {
  const out: AptSourceEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*/, '').trim();
    if (!line) continue;
    const origin = `${path}:${i + 1}`;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s*)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) throw new ElfpackError('USAGE', `line ${i + 1}: not a "deb [options] URI SUITE [COMPONENT…]" line`, { path, step: 'apt-sources' });
    const entry: AptSourceEntry = { type: m[1] as 'deb' | 'deb-src', uris: [m[3]], suites: [m[4]], components: words(m[5]), origin };
    for (const opt of words(m[2] ?? '')) {
      const eq = opt.indexOf('=');
      if (eq <= 0) continue;
      const [key, value] = [opt.slice(0, eq), opt.slice(eq + 1)];
      if (key === 'arch') entry.archs = value.split(',').filter(Boolean);
      else if (key === 'signed-by') {
        const signedBy = parseSignedBy(value, origin);
        if (signedBy) entry.signedBy = signedBy;
      }
    }
    checkComponents(entry, path, i + 1);
    out.push(entry);
  }
  return out;
}

/** The deb822 form (Types, URIs, Suites, Components, Signed-By, Architectures, Enabled). */
export function parseDeb822Sources(text: string, path: string): AptSourceEntry[] {
  const tooMany = (): never => {
    throw new ElfpackError('USAGE', `more than ${MAX_SOURCE_ENTRIES} paragraphs`, { path, step: 'apt-sources' });
  };
  const { paragraphs, malformed } = parseDeb822(text, MAX_SOURCE_ENTRIES, tooMany);
  if (malformed.length) throw new ElfpackError('USAGE', malformed[0], { path, step: 'apt-sources' });
  const out: AptSourceEntry[] = [];
  for (const p of paragraphs) {
    if (/^(no|false|0)$/i.test(valueOf(p, 'Enabled'))) continue;
    const list = (name: string) => words(fieldLines(p, name).join(' '));
    const origin = `${path}:${p.line}`;
    const types = list('Types');
    const uris = list('URIs');
    const suites = list('Suites');
    if (!types.length || !uris.length || !suites.length) throw new ElfpackError('USAGE', `line ${p.line}: a source needs Types, URIs and Suites`, { path, step: 'apt-sources' });
    const signed = fieldLines(p, 'Signed-By');
    const archs = list('Architectures');
    for (const type of types) {
      if (type !== 'deb' && type !== 'deb-src') continue; // other types (apt-transport plugins): not ours
      const entry: AptSourceEntry = { type, uris, suites, components: list('Components'), origin };
      const signedBy = signed.length ? parseSignedBy(signed.join('\n'), origin) : undefined;
      if (signedBy) entry.signedBy = signedBy;
      if (archs.length) entry.archs = archs;
      checkComponents(entry, path, p.line);
      out.push(entry);
    }
  }
  return out;
}

const FINGERPRINT = /^[0-9A-Fa-f]{40}!?$/;

/**
 * A Signed-By value, as apt normalizes it: an armored key block is taken whole; else files and
 * fingerprints separated by commas or white space (lines too), each an absolute path or a
 * fingerprint, anything else an error (apt refuses the source). Undefined when it lists nothing.
 * Fingerprints are upper-cased (gpg reports them so; apt would compare the text as written).
 */
export function parseSignedBy(value: string, origin: string): SignedBy | undefined {
  if (value.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return { keyrings: [value.trim()], fingerprints: [], origin };
  const items = value.split(/[\s,]+/).filter(Boolean);
  if (!items.length) return undefined;
  const bad = (why: string) => new ElfpackError('USAGE', `Signed-By ${why}`, { path: origin, step: 'apt-sources' });
  if (items.length > MAX_SIGNED_BY_ITEMS) throw bad(`lists more than ${MAX_SIGNED_BY_ITEMS} keyrings and fingerprints`);
  const out: SignedBy = { keyrings: [], fingerprints: [], origin };
  for (const item of items) {
    if (item.startsWith('/')) out.keyrings.push(item);
    else if (FINGERPRINT.test(item)) out.fingerprints.push(item.toUpperCase());
    else throw bad(`${JSON.stringify(item.slice(0, 80))}: neither an absolute keyring path nor a fingerprint (40 hex digits, perhaps with "!")`);
  }
  return out;
}

const TRUSTED_DIR = '/etc/apt/trusted.gpg.d';
const TRUSTED_GPG = '/etc/apt/trusted.gpg';
// apt reads the parts by these names only (the same characters as sources.list.d's).
const TRUSTED_PART = /^[A-Za-z0-9_.-]+\.(gpg|asc)$/;

/**
 * apt's trusted keyrings, which a source without Signed-By (or one listing only fingerprints) is
 * checked with: trusted.gpg.d/*.gpg and *.asc by name, then the legacy trusted.gpg (apt ≥ 2.4 still
 * accepts a signature by one of its keys, with a warning). Each as a path for gpgv on this machine
 * (under the reader's root). Empty when the host has none (not Debian or Ubuntu).
 */
export function readTrustedKeyrings(reader: SourcesReader): string[] {
  const names = reader.list(TRUSTED_DIR).filter((n) => TRUSTED_PART.test(n)).sort();
  if (names.length > MAX_TRUSTED_KEYRINGS) throw new ElfpackError('USAGE', `more than ${MAX_TRUSTED_KEYRINGS} keyrings`, { path: TRUSTED_DIR, step: 'apt-sources' });
  const locate = reader.locate ?? ((p: string) => p);
  const out = names.map((n) => locate(`${TRUSTED_DIR}/${n}`));
  if (reader.list('/etc/apt').includes('trusted.gpg')) out.push(locate(TRUSTED_GPG));
  return out;
}

/** What an InRelease of `choice` is checked with: the keyrings (undefined: Debian's) and the fingerprints a signer must match. */
export interface Verification {
  keyring?: string[];
  signedBy?: SignedBy;
}

/**
 * The keyrings and keys for a choice. --keyring (`override`) replaces its Signed-By, fingerprints
 * too. Else Signed-By's files; without any (no Signed-By, or fingerprints only), apt's trusted
 * keyrings (`trusted`, readTrustedKeyrings), as apt checks such a source (an Ubuntu host's sources
 * are then checked with Ubuntu's keys). On a host without them (not Debian or Ubuntu), and for an
 * archive only --mirror names (no apt source, so apt would not read it at all), Debian's archive
 * keyring: the archive elfpack reads unless told otherwise.
 */
export function verificationFor(choice: ArchiveChoice, override: string[] | undefined, trusted: string[] | undefined): Verification {
  if (override?.length) return { keyring: override };
  const s = choice.signedBy;
  const keyring = s?.keyrings.length ? s.keyrings : trusted?.length && !choice.noSource ? trusted : undefined;
  return { ...(keyring ? { keyring } : {}), ...(s?.fingerprints.length ? { signedBy: s } : {}) };
}

/** A field's value lines: the first line's value, then continuations unindented ("." is an empty line). */
function fieldLines(p: Deb822Paragraph, name: string): string[] {
  const f = fieldOf(p, name);
  if (!f) return [];
  return [f.value, ...f.lines.slice(1).map((l) => (l.trim() === '.' ? '' : l.trim()))];
}

// An exact-path suite ("./") takes no components; a suite name needs at least one.
function checkComponents(e: AptSourceEntry, path: string, line: number): void {
  const exact = e.suites.some((s) => s.endsWith('/'));
  if (exact ? e.components.length > 0 : e.components.length === 0) {
    throw new ElfpackError('USAGE', `line ${line}: ${exact ? 'a suite ending in "/" takes no components' : 'no components'}`, { path, step: 'apt-sources' });
  }
}

/** What to open for a suite: a mirror URL, the components and the key the source names. */
export interface ArchiveChoice {
  mirror: string;
  suite: string;
  components: string[];
  signedBy?: SignedBy;
  /** The entry chosen ("FILE:LINE"), or "--mirror". */
  origin: string;
  /** Read only if the archive has it: a 404 on its InRelease leaves it out (a companion guessed at --mirror). */
  optional?: boolean;
  /** No apt source names it (--mirror alone): apt's trusted keyrings are not its to use (verificationFor). */
  noSource?: boolean;
}

/**
 * The entry apt would fetch binary packages of `suite` for `arch` from: the first enabled `deb`
 * entry (in apt's reading order) listing the suite, for that architecture, over http or https.
 * `mirror` (--mirror) replaces its URI; without an entry it is used with the components `main`.
 */
export function chooseArchive(entries: AptSourceEntry[], suite: string, arch: string, mirror?: string): ArchiveChoice {
  const found = findEntry(entries, suite, arch, mirror);
  if (found) return found;
  if (mirror) return { mirror, suite, components: ['main'], origin: '--mirror', noSource: true };
  throw new ElfpackError('USAGE', `no apt source (deb, http or https) for suite ${suite} and architecture ${arch} in ${SOURCES_LIST} or ${SOURCES_DIR}: give one with --mirror URL`, { step: 'apt-sources' });
}

function findEntry(entries: AptSourceEntry[], suite: string, arch: string, mirror?: string): ArchiveChoice | undefined {
  for (const e of entries) {
    if (e.type !== 'deb' || !e.suites.includes(suite) || (e.archs && !e.archs.includes(arch))) continue;
    const uri = e.uris.find((u) => /^https?:\/\//.test(u));
    if (!uri && !mirror) continue;
    return { mirror: mirror ?? uri!, suite, components: e.components, ...(e.signedBy ? { signedBy: e.signedBy } : {}), origin: mirror ? '--mirror' : e.origin };
  }
  return undefined;
}

/** The suites apt reads beside SUITE when the sources list them: point updates, and security under both namings. */
export const COMPANION_SUITES = (suite: string) => [`${suite}-updates`, `${suite}-security`, `${suite}/updates`];
/** Suites named with --suite at most (a host has three or four). */
export const MAX_SUITES = 16;

/** The archives to read, and for the plan's note: how they were chosen, and what is not read. */
export interface SuiteChoice {
  choices: ArchiveChoice[];
  how: string;
  notRead?: string;
}

/**
 * The archives to read, the main suite first. One suite: it and the companions the host's sources
 * list (COMPANION_SUITES), each from its own first entry, as apt reads every source line; not
 * -backports or -proposed-updates (newer upstream versions, updates not yet released), nor other
 * sources (a vendor's repository is not the distribution's). With `mirror`: the suite and its -updates there if it has them
 * (security is another archive). Several suites: exactly those, each from its first entry, else
 * from the first suite's archive.
 */
export function chooseSuites(entries: AptSourceEntry[], suites: string[], arch: string, mirror?: string): SuiteChoice {
  const unique = [...new Set(suites)];
  if (!unique.length) throw new ElfpackError('USAGE', 'name a suite', { step: 'apt-sources' });
  if (unique.length > MAX_SUITES) throw new ElfpackError('USAGE', `more than ${MAX_SUITES} suites`, { step: 'apt-sources' });
  const main = chooseArchive(entries, unique[0], arch, mirror);
  const choices = [main];
  if (unique.length > 1) {
    // A suite the sources do not list is looked for beside the first (-backports, -proposed-updates live there).
    for (const s of unique.slice(1)) choices.push(findEntry(entries, s, arch, mirror) ?? { ...main, suite: s, origin: `${main.origin} (${main.suite}'s archive)` });
    return { choices, how: 'exactly those given with --suite' };
  }
  if (mirror) {
    choices.push({ ...main, suite: `${main.suite}-updates`, optional: true });
    return { choices, how: `from --mirror, -updates when it has it`, notRead: `not ${main.suite}-security, another archive: security updates are missing (without --mirror, the host's apt sources give it), nor ${main.suite}-backports` };
  }
  for (const c of COMPANION_SUITES(main.suite)) {
    const found = findEntry(entries, c, arch);
    if (found) choices.push(found);
  }
  return { choices, how: "as the host's apt sources list them", notRead: `not ${main.suite}-backports (to read it, name every suite with --suite)` };
}
