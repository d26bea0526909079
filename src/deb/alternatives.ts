// The links update-alternatives(1) would make for the packages of a root, without running any
// maintainer script. A .deb carries no machine-readable list of its alternatives (Debian policy
// §11.6 leaves them to postinst), so postinst is read as text: every
// `update-alternatives --install LINK NAME PATH PRIORITY [--slave LINK NAME PATH]…` whose words are
// all literal (no "$", "`", globs) is taken; calls built from shell variables are skipped and said.
// For each NAME the highest priority whose PATH the root holds wins (ties: the package later in
// the list, as the last one configured), in automatic mode as a fresh install has it: LINK →
// /etc/alternatives/NAME → PATH, and the same for each of its slaves whose PATH is there.
// Existing files at LINK are left alone (update-alternatives does not replace real files either).

/** postinst bytes read for alternatives, at most (real ones are a few KiB). */
export const MAX_POSTINST_BYTES = 1 << 20;
/** Calls read from one package, at most. */
const MAX_CALLS = 1000;

export interface AlternativeLink {
  link: string;
  name: string;
  path: string;
}

export interface AlternativeInstall extends AlternativeLink {
  priority: number;
  slaves: AlternativeLink[];
  /** The package whose postinst asks for it. */
  pkg: string;
}

export interface ParsedAlternatives {
  installs: AlternativeInstall[];
  /** Calls left out (built from variables, malformed), said for the root's warnings. */
  skipped: string[];
}

/** The `--install` calls of one postinst. */
export function parseAlternatives(postinst: string, pkg: string): ParsedAlternatives {
  const out: ParsedAlternatives = { installs: [], skipped: [] };
  const text = postinst.slice(0, MAX_POSTINST_BYTES).replace(/\\\r?\n/g, ' ');
  for (const raw of text.split('\n')) {
    if (out.installs.length + out.skipped.length >= MAX_CALLS) break;
    const line = raw.replace(/(^|\s)#.*$/, '');
    const at = line.search(/(^|[\s;&|(])update-alternatives\s/);
    if (at < 0 || !/\s--install\s/.test(line.slice(at))) continue;
    // The call ends at the shell's next command separator.
    const words = line.slice(at).trim().split(/\s*(?:;|&&|\|\||\|)\s*/)[0].split(/\s+/).slice(1).map(unquote);
    const parsed = words && installOf(words, pkg);
    if (parsed) out.installs.push(parsed);
    else out.skipped.push(`${pkg}: postinst: an update-alternatives call that is not literal: ${line.trim().slice(0, 160)}`);
  }
  return out;
}

function unquote(w: string): string {
  return /^'[^']*'$|^"[^"$`\\]*"$/.test(w) ? w.slice(1, -1) : w;
}

function installOf(words: string[], pkg: string): AlternativeInstall | undefined {
  if (words.some((w) => /[$`*?[\]{}"'\\]/.test(w))) return undefined;
  // Options before --install (--quiet, --force, --altdir DIR…) change nothing we write, except a
  // different admin or alternatives directory, which we do not follow.
  const i = words.indexOf('--install');
  if (words.slice(0, i).some((w) => w === '--altdir' || w === '--admindir' || w === '--root' || w === '--instdir')) return undefined;
  const [link, name, path, prio, ...rest] = words.slice(i + 1);
  if (!isAbs(link) || !isName(name) || !isAbs(path) || !/^-?\d{1,9}$/.test(prio ?? '')) return undefined;
  const slaves: AlternativeLink[] = [];
  for (let j = 0; j < rest.length;) {
    if (rest[j] !== '--slave') return undefined;
    const [sl, sn, sp] = rest.slice(j + 1, j + 4);
    if (!isAbs(sl) || !isName(sn) || !isAbs(sp)) return undefined;
    slaves.push({ link: sl, name: sn, path: sp });
    j += 4;
  }
  return { link, name, path, priority: Number(prio), slaves, pkg };
}

function isAbs(p: string | undefined): p is string {
  return !!p && p.startsWith('/') && !p.split('/').includes('..') && p.length < 4096;
}

function isName(n: string | undefined): n is string {
  return !!n && /^[A-Za-z0-9][A-Za-z0-9._+@-]{0,200}$/.test(n);
}

/**
 * The links to make: for each NAME the winning install, then its slaves. `exists` says whether
 * the root holds a path (followed inside the root); `free` whether a link may be put at a path.
 */
export function chooseAlternatives(installs: AlternativeInstall[], exists: (path: string) => boolean): { master: AlternativeInstall; links: AlternativeLink[] }[] {
  const best = new Map<string, AlternativeInstall>();
  for (const inst of installs) {
    if (!exists(inst.path)) continue;
    const had = best.get(inst.name);
    if (!had || inst.priority >= had.priority) best.set(inst.name, inst);
  }
  return [...best.keys()].sort().map((name) => {
    const master = best.get(name)!;
    return { master, links: [master, ...master.slaves.filter((s) => exists(s.path))].map(({ link, name: n, path }) => ({ link, name: n, path })) };
  });
}
