// Libraries glibc loads at run time without a DT_NEEDED line, told from the dynamic symbols the
// closure imports: libgcc_s.so.1 for thread cancellation and unwinding (nptl/unwind-link.c), NSS
// for users and hosts (nss/nsswitch.c). The gconv modules iconv loads (iconv/gconv_conf.c) are not
// guessed: a caller of iconv_open gets a note, and --gconv says which (gconv.ts).
import { readDynamicSymbols } from '../elf/read-symbols.js';
import { gconvNote } from './gconv.js';
import type { LoaderProfile } from '../resolve/loader.js';
import type { Resolver } from '../resolve/resolver.js';
import type { ClosureNode } from './closure.js';
import type { LoadedObject } from './load-program.js';

export interface RuntimeDep {
  /** One line for humans: what was added and why. */
  reason: string;
  /** Paths of the root to add as they are (files or directory trees). */
  paths: string[];
  /** ELF files among them whose own closures must be added too. */
  elfFiles: string[];
  /** Files written for the image, path → content. */
  files?: Record<string, string>;
}

const UNWIND = ['pthread_cancel', 'pthread_exit', 'backtrace'];
const ICONV = ['iconv_open'];
const NSS_USERS = ['getpwnam', 'getpwnam_r', 'getpwuid', 'getpwuid_r', 'getpwent', 'getgrnam', 'getgrnam_r', 'getgrgid', 'getgrgid_r', 'getgrent', 'getgrouplist', 'initgroups', 'getspnam', 'getspnam_r'];
const NSS_HOSTS = ['getaddrinfo', 'gethostbyname', 'gethostbyname_r', 'gethostbyname2', 'gethostbyname2_r', 'gethostbyaddr', 'gethostbyaddr_r', 'getnameinfo', 'gethostent'];

/** An nsswitch.conf naming only what a scratch image has: files, and DNS for hosts. */
export const NSSWITCH = 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n';

/** Which of `names` the closure imports, and who imports the first of them (for the message). */
function importers(imports: Map<string, string>, names: string[]): { symbol: string; by: string } | undefined {
  for (const n of names) {
    const by = imports.get(n);
    if (by) return { symbol: n, by };
  }
  return undefined;
}

export interface RuntimeDepsOptions {
  /** --gconv was given: no note about iconv_open (planGconv adds what it asks for). */
  gconv?: boolean;
  /** A line for the summary about something not added. */
  onNote?: (line: string) => void;
}

export function findRuntimeDeps(resolver: Resolver, profile: LoaderProfile, main: LoadedObject, nodes: ClosureNode[], opts: RuntimeDepsOptions = {}): RuntimeDep[] {
  if (profile.libc !== 'glibc') return []; // musl has no gconv modules, no NSS, and unwinds without libgcc_s
  const imports = new Map<string, string>();
  for (const n of nodes) {
    const src = resolver.root.open(n.realPath);
    try {
      for (const s of readDynamicSymbols(src, n.elf, { exports: false }).imports) if (!imports.has(s)) imports.set(s, n.paths[0] ?? n.realPath);
    } finally {
      src.close();
    }
  }
  const have = (name: string) => nodes.some((n) => n.elf.soname === name || n.paths.some((p) => p.endsWith(`/${name}`)));
  const deps: RuntimeDep[] = [];

  const unwind = importers(imports, UNWIND);
  if (unwind && !have('libgcc_s.so.1')) {
    const r = resolver.find('libgcc_s.so.1', main, profile);
    if (r.found && r.path) {
      deps.push({ reason: `libgcc_s.so.1: ${unwind.by} calls ${unwind.symbol}, and glibc loads libgcc_s.so.1 to unwind the thread`, paths: [r.path], elfFiles: [r.path] });
    }
  }

  const iconv = importers(imports, ICONV);
  if (iconv && !opts.gconv) opts.onNote?.(gconvNote(iconv.by, iconv.symbol));

  const users = importers(imports, NSS_USERS);
  const hosts = importers(imports, NSS_HOSTS);
  if (users || hosts) {
    const why = [users, hosts].filter((x) => x).map((x) => `${x!.by} calls ${x!.symbol}`).join('; ');
    const dep: RuntimeDep = { reason: `/etc/nsswitch.conf (files${hosts ? ', dns' : ''}): ${why}`, paths: [], elfFiles: [], files: { '/etc/nsswitch.conf': NSSWITCH } };
    // Since glibc 2.34 the files and dns services are inside libc; before, they are modules.
    const libc = nodes.find((n) => n.elf.soname === 'libc.so.6');
    if (libc && !libcHasBuiltinNss(resolver, libc)) {
      for (const name of ['libnss_files.so.2', ...(hosts ? ['libnss_dns.so.2'] : [])]) {
        const r = resolver.find(name, main, profile);
        if (r.found && r.path) {
          dep.paths.push(r.path);
          dep.elfFiles.push(r.path);
        }
      }
    }
    deps.push(dep);
  }
  return deps;
}

function libcHasBuiltinNss(resolver: Resolver, libc: ClosureNode): boolean {
  const src = resolver.root.open(libc.realPath);
  try {
    return readDynamicSymbols(src, libc.elf).exports.includes('_nss_files_getpwnam_r');
  } finally {
    src.close();
  }
}
