// dpkg's database in a root, as dpkg(1) keeps it: /var/lib/dpkg/status (deb822 records, installed
// ones only), info/NAME[:ARCH].list (the paths each package installed) and .md5sums, diversions;
// or a distroless root's status.d/NAME with NAME.md5sums. Paths are owned by their real path in
// the root (db-files.ts), after dpkg's diversions move them.
import { utf8 } from '../elf/byte-source.js';
import { baseName } from './resolve-path.js';
import { DbReader, dbLimitError, MAX_DB_PACKAGES } from './db-files.js';
import { parseDeb822, valueOf, type Deb822Paragraph } from './deb822.js';
import type { FileOwner, InstalledPackage } from './package-db.js';

export const DPKG_DIR = '/var/lib/dpkg';
/** Paths longer than this in a .list or .md5sums are left out (Linux's PATH_MAX). */
const MAX_LISTED_PATH = 4096;

export interface DebPackage extends InstalledPackage {
  /** The record as the database holds it (field order and lines kept). */
  paragraph: Deb822Paragraph;
  /** Where the record is: /var/lib/dpkg/status, or a status.d file. */
  from: string;
  /** The package's file list (.list), or for a status.d record its .md5sums. */
  listPath?: string;
  md5sumsPath?: string;
}

interface Diversion {
  to: string;
  /** The package that made it; ":" for a local diversion (it moves every package's file). */
  holder: string;
}

export class DpkgDb {
  readonly kind = 'dpkg' as const;
  readonly path = DPKG_DIR;
  /** Records left out (malformed, unreadable lists), each naming its file. */
  readonly warnings: string[] = [];

  constructor(private reader: DbReader, readonly packages: DebPackage[], private diversions: Map<string, Diversion>) {}

  /**
   * The installed packages that list each of `realPaths` (real paths of the root), with the md5 the
   * package's md5sums records. Only listed paths whose name is the name of a wanted path are
   * resolved, so a database of a million paths costs a read, not a million lookups.
   */
  owners(realPaths: Set<string>): Map<string, FileOwner<DebPackage>[]> {
    const names = new Set([...realPaths].map(baseName));
    // A diverted path's listed name is not the name it has on disk: those lines are looked at too.
    const wanted = new Set([...names, ...[...this.diversions.keys()].map(baseName)]);
    const found = new Map<string, FileOwner<DebPackage>[]>();
    for (const pkg of this.packages) {
      const mine = new Map<string, string>(); // real path → the path as listed
      const listed = pkg.listPath ? this.readList(pkg.listPath, wanted) : pkg.md5sumsPath ? [...this.readMd5sums(pkg.md5sumsPath).keys()] : [];
      for (const p of listed) {
        const at = this.placeOf(pkg, p);
        if (!names.has(baseName(at))) continue;
        const real = this.reader.realPath(at);
        if (real && realPaths.has(real)) mine.set(real, p);
      }
      if (!mine.size) continue;
      const sums = !pkg.md5sumsPath ? new Map<string, string>() : pkg.listPath ? this.findMd5s(pkg.md5sumsPath, [...mine.values()]) : this.readMd5sums(pkg.md5sumsPath);
      for (const [real, p] of mine) {
        const list = found.get(real) ?? [];
        list.push({ pkg, checksum: sums.get(p) });
        found.set(real, list);
      }
    }
    return found;
  }

  /** Where a listed path is: dpkg installed it under the diverted name unless the package made the diversion. */
  private placeOf(pkg: DebPackage, listed: string): string {
    const d = this.diversions.get(listed);
    return d && d.holder !== pkg.name ? d.to : listed;
  }

  /**
   * The paths of a .list whose last component is one of `names`. The bytes are scanned for line
   * ends and slashes natively, and only a line's last component becomes a string: a root's lists
   * run to millions of lines, of which a pack wants a few dozen.
   */
  private readList(path: string, names: Set<string>): string[] {
    const buf = this.reader.readBytes(path);
    if (buf === undefined) {
      this.warnings.push(`${path}: missing, so its package owns no file of the image`);
      return [];
    }
    const keys = this.nameKeys(names);
    const out: string[] = [];
    for (let at = 0; at < buf.length;) {
      let end = buf.indexOf(10, at);
      if (end < 0) end = buf.length;
      const slash = buf.lastIndexOf(47, end - 1);
      // Length, first and last byte first: most names are told apart without making a string.
      if (buf[at] === 47 && slash >= at && slash + 1 < end && end - at <= MAX_LISTED_PATH && keys.has(nameKey(end - slash - 1, buf[slash + 1], buf[end - 1]))
        && names.has(utf8(buf, slash + 1, end))) out.push(utf8(buf, at, end));
      at = end + 1;
    }
    return out;
  }

  private keyCache?: { names: Set<string>; keys: Set<number> };

  private nameKeys(names: Set<string>): Set<number> {
    if (this.keyCache?.names !== names) {
      const keys = new Set<number>();
      for (const n of names) {
        const b = Buffer.from(n);
        if (b.length) keys.add(nameKey(b.length, b[0], b[b.length - 1]));
      }
      this.keyCache = { names, keys };
    }
    return this.keyCache.keys;
  }

  private md5Cache = new Map<string, Map<string, string>>();

  /**
   * The md5s of a few listed paths, each found in the .md5sums text by its line's end rather than
   * by parsing every line (libc6's has thousands; a pack wants a handful).
   */
  private findMd5s(path: string, listed: string[]): Map<string, string> {
    const out = new Map<string, string>();
    const text = this.reader.readText(path);
    if (text === undefined) return out;
    for (const p of listed) {
      for (const sep of ['  ', ' *']) {
        const tail = `${sep}${p.slice(1)}`;
        for (let at: number = text.indexOf(tail); at >= 0; at = text.indexOf(tail, at + 1)) {
          const start = at - 32;
          const end = at + tail.length;
          if (start >= 0 && (start === 0 || text[start - 1] === '\n') && (end === text.length || text[end] === '\n') && /^[0-9a-f]{32}$/.test(text.slice(start, at))) {
            out.set(p, text.slice(start, at));
            break;
          }
        }
        if (out.has(p)) break;
      }
    }
    return out;
  }

  /** A .md5sums file: listed path (with its leading "/") → md5 hex. */
  private readMd5sums(path: string): Map<string, string> {
    let sums = this.md5Cache.get(path);
    if (sums) return sums;
    sums = new Map();
    this.md5Cache.set(path, sums);
    const text = this.reader.readText(path);
    if (text === undefined) return sums;
    let bad = 0;
    for (const line of text.split('\n')) {
      if (!line) continue;
      // deb-md5sums(5): the md5 in hex, two spaces (or a space and "*", as md5sum -b writes), the path without its leading "/".
      const m = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
      if (!m || m[2].length > MAX_LISTED_PATH) bad++;
      else sums.set(`/${m[2].replace(/^\.?\//, '')}`, m[1]);
    }
    if (bad) this.warnings.push(`${path}: ${bad} malformed line(s) left out`);
    return sums;
  }
}

function nameKey(length: number, first: number, last: number): number {
  return length * 65536 + first * 256 + last;
}

/** The dpkg database of the reader's root, or undefined when it has neither status nor status.d. */
export function readDpkgDb(reader: DbReader): DpkgDb | undefined {
  const statusPath = `${DPKG_DIR}/status`;
  const statusDir = `${DPKG_DIR}/status.d`;
  const status = reader.readText(statusPath);
  const entries = reader.list(statusDir);
  if (status === undefined && entries === undefined) return undefined;
  const warnings: string[] = [];
  const packages: DebPackage[] = [];
  const tooMany = (path: string) => (): never => {
    throw dbLimitError(path, `more than ${MAX_DB_PACKAGES} package records`);
  };
  // info/ holds a handful of files per package (list, md5sums, maintainer scripts, triggers…).
  const info = new Set(reader.list(`${DPKG_DIR}/info`, MAX_DB_PACKAGES * 16) ?? []);
  const infoFile = (pkg: DebPackage, ext: string) => {
    // dpkg names a Multi-Arch: same package's files NAME:ARCH, the others NAME.
    const name = [`${pkg.name}:${pkg.arch}${ext}`, `${pkg.name}${ext}`].find((n) => info.has(n));
    return name && `${DPKG_DIR}/info/${name}`;
  };
  if (status !== undefined) {
    const parsed = parseDeb822(status, MAX_DB_PACKAGES, tooMany(statusPath));
    warnings.push(...parsed.malformed.map((m) => `${statusPath}: ${m}: left out`));
    for (const p of parsed.paragraphs) {
      const pkg = debPackage(p, statusPath, warnings);
      if (!pkg) continue;
      pkg.listPath = infoFile(pkg, '.list');
      pkg.md5sumsPath = infoFile(pkg, '.md5sums');
      if (!pkg.listPath) warnings.push(`${DPKG_DIR}/info/${pkg.name}.list: missing, so ${pkg.name} owns no file of the image`);
      packages.push(pkg);
      if (packages.length > MAX_DB_PACKAGES) tooMany(statusPath)();
    }
  }
  const inDir = new Set(entries ?? []);
  for (const name of entries ?? []) {
    if (name.endsWith('.md5sums') || name.startsWith('.')) continue;
    const path = `${statusDir}/${name}`;
    const text = reader.readText(path);
    if (text === undefined) continue; // a directory or a dangling link: not a record
    const parsed = parseDeb822(text, MAX_DB_PACKAGES, tooMany(path));
    warnings.push(...parsed.malformed.map((m) => `${path}: ${m}: left out`));
    for (const p of parsed.paragraphs) {
      const pkg = debPackage(p, path, warnings);
      if (!pkg) continue;
      // distroless writes NAME.md5sums beside NAME; one file may also hold several records.
      const sums = [`${name}.md5sums`, `${pkg.name}.md5sums`, `${pkg.name}:${pkg.arch}.md5sums`].find((n) => inDir.has(n));
      pkg.md5sumsPath = sums && `${statusDir}/${sums}`;
      packages.push(pkg);
      if (packages.length > MAX_DB_PACKAGES) tooMany(statusDir)();
    }
  }
  const db = new DpkgDb(reader, packages, readDiversions(reader, warnings));
  db.warnings.push(...warnings);
  return db;
}

/** An installed package of a record, or undefined (not installed; or malformed, said in `warnings`). */
function debPackage(p: Deb822Paragraph, from: string, warnings: string[]): DebPackage | undefined {
  const name = valueOf(p, 'Package');
  const version = valueOf(p, 'Version');
  const status = valueOf(p, 'Status').split(/\s+/);
  // "want eflag status" (dpkg-query(1)): held packages are installed too, and a package whose
  // triggers are still to run has its files in place. A status.d record has no Status (distroless).
  if (status[0] && !(['install', 'hold'].includes(status[0]) && status[1] === 'ok' && ['installed', 'triggers-pending', 'triggers-awaited'].includes(status[2]))) return undefined;
  if (!name || !version) {
    warnings.push(`${from}: line ${p.line}: a record without Package or Version: left out`);
    return undefined;
  }
  const source = valueOf(p, 'Source').split(/\s+/)[0]; // "Source: glibc (2.36-9)": the name only
  return { name, version, arch: valueOf(p, 'Architecture'), ...(source ? { source } : {}), paragraph: p, from };
}

/** /var/lib/dpkg/diversions: three lines each (the path, where it is diverted to, the package or ":"). */
function readDiversions(reader: DbReader, warnings: string[]): Map<string, Diversion> {
  const path = `${DPKG_DIR}/diversions`;
  const out = new Map<string, Diversion>();
  const text = reader.readText(path);
  if (!text) return out;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length % 3 !== 0) {
    warnings.push(`${path}: ${lines.length} lines, not groups of three: diversions not applied`);
    return out;
  }
  for (let i = 0; i < lines.length; i += 3) out.set(lines[i], { to: lines[i + 1], holder: lines[i + 2] });
  return out;
}
