// glibc's charset converters for `--gconv`: the configuration read as iconv/gconv_conf.c and
// gconv_parseconfdir.h read it, a charset named as iconv_open normalizes it (gconv_charset.c), and
// the conversions built into libc (gconv_builtin.h) told apart from those a module brings.
import { ElfpackError } from '../errors.js';
import { dirName, resolveInRoot } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import type { ProgramLoad } from './load-program.js';
import type { RuntimeDep } from './runtime-deps.js';

/** glibc reads these from its gconv directory: the file, then every `*.conf` of the `.d` directory. */
export const GCONV_MODULES = 'gconv-modules';
/** iconvconfig's cache of the same; glibc reads it instead of the files when it exists and GCONV_PATH is unset. */
export const GCONV_CACHE = 'gconv-modules.cache';

/** Bounds on what is read: Debian's files are 4 KB and 54 KB, one file in the `.d` directory. */
const MAX_CONF_BYTES = 4 << 20;
const MAX_CONF_FILES = 256;

/** A module line that survived glibc's rules: one per (from, to), the cheapest (the first on a tie). */
export interface GconvModule {
  from: string;
  to: string;
  /** The module's path (absolute, `.so` appended); undefined for a conversion built into libc. */
  file?: string;
  cost: number;
  /** The configuration file that named it. */
  source?: string;
}

export interface GconvConfig {
  /** Alias → the name it stands for (one level, as glibc looks it up). */
  aliases: Map<string, string>;
  modules: GconvModule[];
  /** The configuration files read, in the order read. */
  files: string[];
}

// gconv_builtin.h: the conversions libc does itself, and its aliases for them. The reversed
// UCS-2 is UNICODEBIG on a little-endian machine and UNICODELITTLE on a big-endian one.
const BUILTIN_UCS4 = ['UCS4//', 'UCS-4//', 'UCS-4BE//', 'CSUCS4//', 'ISO-10646//', '10646-1:1993//', '10646-1:1993/UCS4/', 'OSF00010104//', 'OSF00010105//', 'OSF00010106//'];
const BUILTIN_UTF8 = ['UTF8//', 'UTF-8//', 'ISO-IR-193//', 'OSF05010001//', 'ISO-10646/UTF-8/'];
const BUILTIN_UCS2 = ['UCS2//', 'UCS-2//', 'OSF00010100//', 'OSF00010101//', 'OSF00010102//'];
const BUILTIN_ASCII = ['ANSI_X3.4//', 'ISO-IR-6//', 'ANSI_X3.4-1986//', 'ISO_646.IRV:1991//', 'ASCII//', 'ISO646-US//', 'US-ASCII//', 'US//', 'IBM367//', 'CP367//', 'CSASCII//', 'OSF00010020//'];

function builtins(bigEndian: boolean): { modules: [string, string][]; aliases: [string, string][] } {
  const reversed = bigEndian ? 'UNICODELITTLE//' : 'UNICODEBIG//';
  const charsets = ['ISO-10646/UCS4/', 'UCS-4LE//', 'ISO-10646/UTF8/', 'ISO-10646/UCS2/', 'ANSI_X3.4-1968//', reversed];
  const aliases: [string, string][] = [
    ...BUILTIN_UCS4.map((a): [string, string] => [a, 'ISO-10646/UCS4/']),
    ['WCHAR_T//', 'INTERNAL'],
    ...BUILTIN_UTF8.map((a): [string, string] => [a, 'ISO-10646/UTF8/']),
    ...BUILTIN_UCS2.map((a): [string, string] => [a, 'ISO-10646/UCS2/']),
    ...BUILTIN_ASCII.map((a): [string, string] => [a, 'ANSI_X3.4-1968//']),
    ...(bigEndian
      ? [['UNICODEBIG//', 'ISO-10646/UCS2/'], ['UCS-2BE//', 'ISO-10646/UCS2/'], ['UCS-2LE//', 'UNICODELITTLE//']] as [string, string][]
      : [['UNICODELITTLE//', 'ISO-10646/UCS2/'], ['UCS-2LE//', 'ISO-10646/UCS2/'], ['UCS-2BE//', 'UNICODEBIG//']] as [string, string][]),
  ];
  return { modules: charsets.flatMap((c): [string, string][] => [['INTERNAL', c], [c, 'INTERNAL']]), aliases };
}

/** C's isspace in the C locale. */
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
/** toupper in the C locale: ASCII letters only (String.toUpperCase would turn "ß" into "SS"). */
const upper = (s: string) => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

/** The whitespace-separated words of a line, as the loops of add_alias and add_module cut them. */
function words(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && isSpace(s[i])) i++;
    const start = i;
    while (i < s.length && !isSpace(s[i])) i++;
    if (i > start) out.push(s.slice(start, i));
  }
  return out;
}

/**
 * Builds the configuration as glibc does, line by line across files: an alias naming a module's
 * `from` is dropped, a module whose `from` is an alias is dropped, the first alias of a name wins,
 * and of two modules for one (from, to) the cheaper stays (the first read on a tie: modcounter).
 */
export class GconvConfigReader {
  private readonly aliases = new Map<string, string>();
  private readonly modules = new Map<string, GconvModule & { order: number }>();
  private readonly moduleFroms = new Set<string>();
  private order = 0;
  readonly files: string[] = [];

  /** One configuration file's text; `dir` is the gconv directory relative module names start from. */
  addFile(name: string, text: string, dir: string): void {
    this.files.push(name);
    for (const raw of text.split('\n')) {
      // A comment runs from "#" to the end of the line, wherever it starts.
      const hash = raw.indexOf('#');
      const w = words(hash >= 0 ? raw.slice(0, hash) : raw);
      if (w[0] === 'alias') {
        if (w.length >= 3) this.addAlias(upper(w[1]), upper(w[2]));
      } else if (w[0] === 'module') {
        if (w.length >= 4) this.addModule({ from: upper(w[1]), to: upper(w[2]), file: moduleFile(w[3], dir), cost: w.length >= 5 ? parseCost(w[4]) : 1, source: name });
      }
    }
  }

  private addAlias(from: string, to: string): void {
    if (this.moduleFroms.has(from) || this.aliases.has(from)) return;
    this.aliases.set(from, to);
  }

  private addModule(m: GconvModule): void {
    if (this.aliases.has(m.from)) return;
    const key = `${m.from}\0${m.to}`;
    const had = this.modules.get(key);
    const order = this.order++;
    if (!had || m.cost < had.cost) this.modules.set(key, { ...m, order });
    this.moduleFroms.add(m.from);
  }

  /** The configuration with libc's own conversions and aliases added last, as __gconv_read_conf adds them. */
  finish(bigEndian: boolean): GconvConfig {
    const b = builtins(bigEndian);
    for (const [from, to] of b.modules) {
      if (this.aliases.has(from)) continue;
      const key = `${from}\0${to}`;
      // Inserted with cost_lo INT_MAX: a configured module of the same cost stays.
      if (!this.modules.has(key)) this.modules.set(key, { from, to, cost: 1, order: Infinity });
      this.moduleFroms.add(from);
    }
    for (const [from, to] of b.aliases) this.addAlias(from, to);
    const modules = [...this.modules.values()].map(({ order: _order, ...m }) => m);
    return { aliases: new Map(this.aliases), modules, files: [...this.files] };
  }
}

/** strtol's number at the start of the word; anything else, or less than 1, is 1. */
function parseCost(w: string): number {
  const m = /^[+-]?\d+/.exec(w);
  const n = m ? Number(m[0]) : NaN;
  return Number.isFinite(n) && n >= 1 ? Math.min(n, 0x7fffffff) : 1;
}

/** A module's file: relative names start at the gconv directory; ".so" is appended when missing. */
function moduleFile(name: string, dir: string): string {
  const path = name.startsWith('/') ? name : `${dir.replace(/\/+$/, '')}/${name}`;
  return path.endsWith('.so') ? path : `${path}.so`;
}

/**
 * A charset as iconv_open looks it up: suffixes (//TRANSLIT, //IGNORE…) dropped, then only letters,
 * digits and `_-.,:` kept, upper-cased, with up to two slashes, padded to two ("latin1" →
 * "LATIN1//"). gconv_charset.c's gconv_parse_code and gconv_charset.h's strip.
 */
export function normalizeCharset(name: string): string {
  let code = name;
  for (let i = 0; i < 64; i++) {
    code = code.replace(/[ \t\n\v\f\r,/]+$/, '');
    if (!code) break;
    let slashes = 0;
    let last = -1;
    for (let j = 0; j < code.length; j++) {
      if (code[j] === '/') slashes++;
      if (code[j] === '/' || code[j] === ',') last = j;
    }
    if (slashes < 2) break;
    code = code.slice(0, last);
  }
  let out = '';
  let slashes = 0;
  for (const c of code) {
    if (/[A-Za-z0-9_.,:-]/.test(c)) out += upper(c);
    else if (c === '/') {
      if (++slashes === 3) break;
      out += '/';
    }
  }
  while (slashes++ < 2) out += '/';
  return out;
}

export type CharsetLookup =
  | { kind: 'modules'; name: string; modules: GconvModule[] }
  | { kind: 'builtin'; name: string }
  | { kind: 'unknown'; name: string };

/**
 * What converting to and from `charset` needs. glibc converts through INTERNAL: charset→INTERNAL
 * and INTERNAL→charset (or any module naming the charset on either side). An alias is looked up
 * once, as do_lookup_alias does.
 */
export function lookupCharset(config: GconvConfig, charset: string): CharsetLookup {
  const n = normalizeCharset(charset);
  const name = config.aliases.get(n) ?? n;
  // INTERNAL is libc's own representation, every conversion's hub: never a module of its own.
  if (name === 'INTERNAL') return { kind: 'builtin', name };
  const all = config.modules.filter((m) => m.from === name || m.to === name);
  const files = all.filter((m) => m.file);
  if (files.length) return { kind: 'modules', name, modules: files };
  return all.length ? { kind: 'builtin', name } : { kind: 'unknown', name };
}

/** glibc's default GCONV_PATH is $libdir/gconv: the multiarch directory on Debian, lib64 or lib elsewhere. */
export function findGconvDir(root: Root, triplet: string, libcDir?: string): string | undefined {
  const candidates = [`/usr/lib/${triplet}/gconv`, '/usr/lib64/gconv', '/usr/lib/gconv'];
  if (libcDir) candidates.push(`${libcDir}/gconv`);
  return candidates.find((c) => {
    try {
      return resolveInRoot(root, c).type === 'dir';
    } catch {
      return false;
    }
  });
}

function readText(root: Root, path: string): string | undefined {
  let r;
  try {
    r = resolveInRoot(root, path);
  } catch {
    return undefined; // a symlink loop: fopen fails, and glibc passes over the file silently
  }
  if (r.type !== 'file') return undefined;
  const src = root.open(r.path);
  try {
    if (src.size > MAX_CONF_BYTES) throw new ElfpackError('USAGE', `is ${src.size} bytes: more than the ${MAX_CONF_BYTES} a gconv configuration file may have`, { path, step: 'gconv' });
    return src.read(0, src.size, path).toString('latin1');
  } finally {
    src.close();
  }
}

/**
 * The root's gconv configuration: `gconv-modules`, then each `gconv-modules.d/*.conf`. glibc reads
 * the `.d` files in readdir order, which no two filesystems agree on; here they are sorted by name.
 */
export function readGconvConfig(root: Root, dir: string, bigEndian = false): GconvConfig {
  const reader = new GconvConfigReader();
  const main = `${dir}/${GCONV_MODULES}`;
  const text = readText(root, main);
  if (text !== undefined) reader.addFile(main, text, dir);
  const dDir = `${main}.d`;
  let names: string[] = [];
  try {
    const r = resolveInRoot(root, dDir);
    if (r.type === 'dir') names = (root.readdir(r.path) ?? []).filter((n) => n.length > 5 && n.endsWith('.conf')).sort();
  } catch {
    names = [];
  }
  if (names.length > MAX_CONF_FILES) throw new ElfpackError('USAGE', `holds ${names.length} .conf files: more than the ${MAX_CONF_FILES} elfpack reads`, { path: dDir, step: 'gconv' });
  for (const n of names) {
    const t = readText(root, `${dDir}/${n}`);
    if (t !== undefined) reader.addFile(`${dDir}/${n}`, t, dir);
  }
  return reader.finish(bigEndian);
}

export interface GconvRequest {
  /** Charsets as the user named them, or "all". */
  charsets: string[];
  /** The program's multiarch triplet and its libc's directory: where the gconv directory is. */
  triplet: string;
  libcDir?: string;
  bigEndian?: boolean;
}

export interface GconvPlan {
  /** What to add (the modules, the configuration glibc finds them through), or nothing. */
  dep?: RuntimeDep;
  /** Lines for the summary about charsets that need nothing. */
  notes: string[];
}

/**
 * `--gconv CHARSET…`: the modules those charsets need, with `gconv-modules`, its `.d` files and
 * `gconv-modules.cache`; `all` is the whole directory. The modules' own libraries (libJIS.so…,
 * found through their RUNPATH $ORIGIN) come with the closures of the ELF files added.
 */
export function planGconv(root: Root, req: GconvRequest): GconvPlan {
  const dir = findGconvDir(root, req.triplet, req.libcDir);
  const asked = req.charsets.join(',');
  if (!dir) {
    const looked = [`/usr/lib/${req.triplet}/gconv`, '/usr/lib64/gconv', '/usr/lib/gconv', ...(req.libcDir ? [`${req.libcDir}/gconv`] : [])];
    throw new ElfpackError('USAGE', `--gconv ${asked}: the root has no glibc gconv directory (looked in ${looked.join(', ')})`, { step: 'gconv' });
  }
  if (req.charsets.some((c) => c.toLowerCase() === 'all')) {
    return { dep: { reason: `${dir}: every charset converter glibc has (--gconv all)`, paths: [dir], elfFiles: [] }, notes: [] };
  }
  const config = readGconvConfig(root, dir, req.bigEndian);
  const notes: string[] = [];
  const files = new Map<string, string[]>(); // module file → the charsets it is there for
  for (const charset of req.charsets) {
    const found = lookupCharset(config, charset);
    if (found.kind === 'unknown') {
      throw new ElfpackError('USAGE', `--gconv ${charset}: no such charset in ${config.files.length ? config.files.join(', ') : `${dir}/${GCONV_MODULES} (there is none)`}, nor one glibc converts itself`, { step: 'gconv' });
    }
    if (found.kind === 'builtin') {
      notes.push(`--gconv ${charset}: glibc converts ${charset} itself (${found.name}); it needs no module`);
      continue;
    }
    for (const m of found.modules) {
      const r = resolveInRoot(root, m.file!);
      if (r.type !== 'file') throw new ElfpackError('NOT_FOUND', `--gconv ${charset}: ${m.source} names ${m.file}, which the root does not have`, { path: m.file, step: 'gconv' });
      const forWhat = files.get(m.file!) ?? [];
      if (!forWhat.includes(charset)) forWhat.push(charset);
      files.set(m.file!, forWhat);
    }
  }
  if (!files.size) return { notes };
  const cache = `${dir}/${GCONV_CACHE}`;
  const configFiles = [...config.files, ...(resolveInRoot(root, cache).type === 'file' ? [cache] : [])];
  const short = (p: string) => (p.startsWith(`${dir}/`) ? p.slice(dir.length + 1) : p);
  const modules = [...files].map(([f, cs]) => `${short(f)} (${cs.join(', ')})`).join(', ');
  return {
    dep: {
      reason: `${dir}: ${modules} for --gconv, with ${configFiles.map(short).join(', ')}, through which glibc finds them`,
      paths: [...configFiles, ...files.keys()],
      elfFiles: [...files.keys()],
    },
    notes,
  };
}

/**
 * `--gconv` for a program: its machine and libc say where the gconv directory is. musl's iconv has
 * every converter it knows built in, so there is nothing to add for a musl program.
 */
export function gconvFor(root: Root, load: ProgramLoad, charsets: string[]): GconvPlan {
  if (load.profile?.libc === 'musl') return { notes: [`--gconv ${charsets.join(',')}: ${load.file.path} uses musl, whose iconv converts without modules; nothing added`] };
  const machine = load.profile?.machine ?? load.file.elf?.machineInfo;
  if (!machine) throw new ElfpackError('USAGE', `--gconv: the program's machine is unknown, so its gconv directory is too`, { path: load.file.path, step: 'gconv' });
  const libc = load.objects.find((o) => o.elf.soname === 'libc.so.6');
  return planGconv(root, { charsets, triplet: machine.triplet, libcDir: libc && dirName(libc.path), bigEndian: load.file.elf?.byteOrder === 'big' });
}

/** The summary's note for a program that calls iconv_open and was packed without --gconv. */
export function gconvNote(by: string, symbol: string): string {
  return `${by} calls ${symbol}, but glibc's charset converters were left out: only what glibc converts itself works (UTF-8, ASCII, UCS-2, UCS-4); add --gconv CHARSET[,CHARSET…] for the charsets it converts (e.g. --gconv ISO-8859-1), or --gconv all`;
}
