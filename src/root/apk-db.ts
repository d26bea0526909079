// apk's database in a root (Alpine, Wolfi): /lib/apk/db/installed (or /usr/lib/apk/db/installed),
// one paragraph per installed package of "K:value" lines (the Apk spec on Alpine's wiki): P name,
// V version, A arch, L license, o origin, then its files: F a directory (no leading "/"), M the
// directory's owner and mode, R a file in it, a the file's owner and mode, Z its checksum.
import { baseName } from './resolve-path.js';
import { DbReader, dbLimitError, MAX_DB_PACKAGES } from './db-files.js';
import type { FileOwner, InstalledPackage } from './package-db.js';

export const APK_DB_PATHS = ['/lib/apk/db/installed', '/usr/lib/apk/db/installed'];
/** Longer lines make their paragraph malformed (apk's own are a few hundred characters). */
const MAX_APK_LINE = 64 * 1024;

export interface ApkFile {
  name: string;
  /** Its a: and Z: lines, as the database has them. */
  lines: string[];
  /** Z:, "Q1" + base64 of the sha1 of the file. */
  checksum?: string;
}

export interface ApkDir {
  /** As the database spells it: relative to the root, no leading "/". */
  dir: string;
  /** Its M: line(s). */
  lines: string[];
  files: ApkFile[];
}

export interface ApkPackage extends InstalledPackage {
  /** Every line that is not about files (P, V, A, L, o, D, p…), in the database's order. */
  header: string[];
  dirs: ApkDir[];
}

export interface ApkOwner extends FileOwner<ApkPackage> {
  dir: ApkDir;
  file: ApkFile;
}

export class ApkDb {
  readonly kind = 'apk' as const;
  readonly warnings: string[] = [];

  constructor(private reader: DbReader, readonly path: string, readonly packages: ApkPackage[]) {}

  /** The packages that list each of `realPaths` (real paths of the root), with the Z: checksum and the entry of each. */
  owners(realPaths: Set<string>): Map<string, ApkOwner[]> {
    const names = new Set([...realPaths].map(baseName));
    const found = new Map<string, ApkOwner[]>();
    for (const pkg of this.packages) {
      for (const d of pkg.dirs) {
        for (const f of d.files) {
          if (!names.has(f.name)) continue;
          const real = this.reader.realPath(d.dir ? `/${d.dir}/${f.name}` : `/${f.name}`);
          if (!real || !realPaths.has(real)) continue;
          const list = found.get(real) ?? [];
          list.push({ pkg, checksum: f.checksum, dir: d, file: f });
          found.set(real, list);
        }
      }
    }
    return found;
  }
}

/** The apk database of the reader's root, or undefined when it has none. */
export function readApkDb(reader: DbReader): ApkDb | undefined {
  for (const path of APK_DB_PATHS) {
    const text = reader.readText(path);
    if (text === undefined) continue;
    const warnings: string[] = [];
    const db = new ApkDb(reader, path, parseInstalled(text, path, warnings));
    db.warnings.push(...warnings);
    return db;
  }
  return undefined;
}

function parseInstalled(text: string, path: string, warnings: string[]): ApkPackage[] {
  const packages: ApkPackage[] = [];
  let cur: ApkPackage | undefined;
  let bad: string | undefined;
  let start = 0;
  const end = () => {
    if (cur && bad) warnings.push(`${path}: line ${start}: ${bad}: left out`);
    else if (cur && (!cur.name || !cur.version)) warnings.push(`${path}: line ${start}: a package without P: or V:: left out`);
    else if (cur) {
      if (packages.length >= MAX_DB_PACKAGES) throw dbLimitError(path, `more than ${MAX_DB_PACKAGES} packages`);
      packages.push(cur);
    }
    cur = undefined;
    bad = undefined;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') {
      end();
      continue;
    }
    if (!cur) {
      cur = { name: '', version: '', arch: '', header: [], dirs: [] };
      start = i + 1;
    }
    if (bad) continue;
    if (line.length > MAX_APK_LINE || line[1] !== ':') {
      bad = line.length > MAX_APK_LINE ? `a line longer than ${MAX_APK_LINE} characters` : `not a "K:value" line: ${JSON.stringify(line.slice(0, 80))}`;
      continue;
    }
    const v = line.slice(2);
    const dir = cur.dirs[cur.dirs.length - 1];
    const file = dir?.files[dir.files.length - 1];
    switch (line[0]) {
      case 'F': cur.dirs.push({ dir: v.replace(/^\/+|\/+$/g, ''), lines: [], files: [] }); break;
      case 'M': if (dir) dir.lines.push(line); else bad = 'M: before any F:'; break;
      case 'R': if (dir && !v.includes('/')) dir.files.push({ name: v, lines: [] }); else bad = dir ? 'R: with a "/" in it' : 'R: before any F:'; break;
      case 'a': if (file) file.lines.push(line); else bad = 'a: before any R:'; break;
      case 'Z':
        if (file) { file.lines.push(line); file.checksum = v; } else bad = 'Z: before any R:';
        break;
      default:
        cur.header.push(line);
        if (line[0] === 'P') cur.name = v;
        else if (line[0] === 'V') cur.version = v;
        else if (line[0] === 'A') cur.arch = v;
        else if (line[0] === 'L' && v) cur.license = v;
        else if (line[0] === 'o' && v) cur.source = v;
    }
  }
  end();
  return packages;
}
