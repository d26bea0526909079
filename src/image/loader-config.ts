// What the loader inside the image reads besides the libraries: when a library was found through
// the root's ld.so.cache or ld.so.conf in a directory the loader does not search by default, the
// image gets its own /etc/ld.so.cache listing those libraries (not LD_LIBRARY_PATH in the config,
// which a user's --env or a child process would lose or inherit); musl's path file is copied.
import type { ProgramLoad } from '../closure/load-program.js';
import { dirName, resolveInRoot } from '../root/resolve-path.js';
import { muslPathFile, type LoaderProfile } from '../resolve/loader.js';
import type { Resolver } from '../resolve/resolver.js';
import { writeLdSoCache, type CacheRecord } from '../resolve/ld-so-cache-writer.js';

export interface LoaderConfig {
  files: Record<string, Buffer>;
  notes: string[];
}

export function loaderConfigFor(resolver: Resolver, profile: LoaderProfile, loads: ProgramLoad[]): LoaderConfig {
  const objects = loads.flatMap((l) => l.objects);
  const out: LoaderConfig = { files: {}, notes: [] };
  if (profile.libc === 'musl') {
    if (objects.some((o) => o.via === 'ld_musl_path')) {
      const file = muslPathFile(profile);
      out.files[file] = readSmallFile(resolver, file);
      out.notes.push(`${file}: libraries are found through it in the root`);
    }
    return out;
  }
  const viaConfig = objects.filter((o) => o.via === 'ld_so_cache' || o.via === 'ld_so_conf');
  const outside = viaConfig.filter((o) => !profile.defaultDirs.includes(dirName(o.path)));
  if (!outside.length) return out;
  const entries = new Map<string, CacheRecord>();
  for (const o of viaConfig) {
    for (const key of new Set([...o.names, ...(o.elf.soname ? [o.elf.soname] : [])])) {
      entries.set(key, { key, path: o.path, flags: profile.machine.cacheFlags });
    }
  }
  out.files['/etc/ld.so.cache'] = writeLdSoCache([...entries.values()], { bigEndian: outside[0].elf.byteOrder === 'big' });
  out.notes.push(`/etc/ld.so.cache (${entries.size} entries): ${outside.map((o) => o.path).join(', ')} found through the root's ld.so.cache/ld.so.conf, outside the default directories`);
  return out;
}

function readSmallFile(resolver: Resolver, path: string): Buffer {
  const r = resolveInRoot(resolver.root, path);
  const src = resolver.root.open(r.path);
  try {
    return Buffer.from(src.read(0, Math.min(src.size, 1 << 20), path));
  } finally {
    src.close();
  }
}
