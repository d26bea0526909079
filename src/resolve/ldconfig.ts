// What `ldconfig -r ROOT` would put in a root's /etc/ld.so.cache (glibc elf/ldconfig.c): the
// directories of /etc/ld.so.conf (its includes followed inside the root), then the system
// directories; in each, every file whose name has ".so" and that is a shared library of the
// wanted machine, under its soname (the file's name when it has none). Where a link named after
// the soname exists in the directory (the packages ship them), the entry names it, as ldconfig's
// own link would be. Unlike ldconfig we make no links and skip no library for a newer minor
// version beside it (the packages' soname links already say which one is current).
import { readElf } from '../elf/read-elf.js';
import type { Root } from '../root/root.js';
import { tryResolveInRoot } from '../root/resolve-path.js';
import { readLdSoConf } from './ld-so-conf.js';
import type { CacheRecord } from './ld-so-cache-writer.js';

/** Names looked at in one directory, at most (a /usr/lib/<triplet> of a large root has ~10,000). */
export const MAX_LDCONFIG_NAMES = 200_000;

export interface LdconfigOptions {
  /** The multiarch triplet (x86_64-linux-gnu): its directories are system directories, and only libraries of that machine go in. */
  triplet: string;
}

export interface LdconfigResult {
  records: CacheRecord[];
  /** The libraries' byte order (the cache is written in it). */
  bigEndian: boolean;
  /** Directories scanned, in order. */
  dirs: string[];
}

export function ldconfigRecords(root: Root, opts: LdconfigOptions): LdconfigResult {
  const system = [`/lib/${opts.triplet}`, `/usr/lib/${opts.triplet}`, '/lib', '/usr/lib', '/lib64', '/usr/lib64'];
  const dirs = [...new Set([...readLdSoConf(root).dirs, ...system])];
  const records: CacheRecord[] = [];
  const seen = new Set<string>();
  let bigEndian = false;
  const scanned: string[] = [];
  for (const dir of dirs) {
    const real = tryResolveInRoot(root, dir);
    if (!real || real.missing || real.type !== 'dir') continue;
    const names = (root.readdir(real.path) ?? []).slice(0, MAX_LDCONFIG_NAMES).filter((n) => n.includes('.so')).sort();
    scanned.push(dir);
    const inDir = new Set(names);
    for (const name of names) {
      const elf = sharedLibrary(root, `${dir}/${name}`);
      if (!elf || elf.machineInfo?.triplet !== opts.triplet) continue;
      const key = elf.soname ?? name;
      const path = `${dir}/${inDir.has(key) ? key : name}`;
      const flags = elf.machineInfo.cacheFlags;
      if (seen.has(`${flags}:${key}`)) continue; // the first directory wins, as ld.so's search would
      seen.add(`${flags}:${key}`);
      records.push({ key, path, flags });
      bigEndian = elf.byteOrder === 'big';
    }
  }
  return { records, bigEndian, dirs: scanned };
}

function sharedLibrary(root: Root, path: string): ReturnType<typeof readElf> | undefined {
  const r = tryResolveInRoot(root, path);
  if (!r || r.missing || r.type !== 'file') return undefined;
  try {
    const src = root.open(r.path);
    try {
      const elf = readElf(src, { versions: false });
      return elf.typeCode === 3 && elf.dynamic ? elf : undefined; // ET_DYN: libc.so.6 has PT_INTERP too
    } finally {
      src.close();
    }
  } catch {
    return undefined; // not an ELF file (a linker script named libc.so), or unreadable: ldconfig skips it too
  }
}
