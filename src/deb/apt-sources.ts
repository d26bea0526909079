// The host's apt sources as apt reads them (sources.list(5)): /etc/apt/sources.list and
// sources.list.d/*.list in the one-line form, sources.list.d/*.sources in the deb822 form; and the
// entry apt would take binary packages of a suite from.
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

export interface AptSourceEntry {
  type: 'deb' | 'deb-src';
  uris: string[];
  suites: string[];
  /** Empty for a suite given as an exact path ("./", "stable/"). */
  components: string[];
  /** A keyring file, or an armored key block written inline (deb822 only). */
  signedBy?: string;
  /** `arch=` / Architectures: the architectures this entry is for; absent means every one. */
  archs?: string[];
  /** Where it was read: "FILE:LINE", for messages. */
  origin: string;
}

/** What sources are read through: text of a file (undefined when absent), and a directory's names. */
export interface SourcesReader {
  readText(path: string): string | undefined;
  list(dir: string): string[];
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
      else if (key === 'signed-by') entry.signedBy = value.split(',')[0];
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
      // Signed-By is a file (or fingerprints) on its first line, or an armored key block on the lines after.
      if (signed.length) entry.signedBy = signed.length > 1 && signed[0] === '' ? signed.slice(1).join('\n') : signed[0].split(/[\s,]+/)[0];
      if (archs.length) entry.archs = archs;
      checkComponents(entry, path, p.line);
      out.push(entry);
    }
  }
  return out;
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
  signedBy?: string;
  /** The entry chosen ("FILE:LINE"), or "--mirror". */
  origin: string;
  /** Read only if the archive has it: a 404 on its InRelease leaves it out (a companion guessed at --mirror). */
  optional?: boolean;
}

/**
 * The entry apt would fetch binary packages of `suite` for `arch` from: the first enabled `deb`
 * entry (in apt's reading order) listing the suite, for that architecture, over http or https.
 * `mirror` (--mirror) replaces its URI; without an entry it is used with the components `main`.
 */
export function chooseArchive(entries: AptSourceEntry[], suite: string, arch: string, mirror?: string): ArchiveChoice {
  const found = findEntry(entries, suite, arch, mirror);
  if (found) return found;
  if (mirror) return { mirror, suite, components: ['main'], origin: '--mirror' };
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
