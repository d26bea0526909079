// Dynamic string tokens in RPATH/RUNPATH/DT_NEEDED, as glibc's _dl_dst_substitute expands them:
// $ORIGIN / ${ORIGIN}, $LIB, $PLATFORM. An unknown "$NAME" stays as written.
export interface DstValues {
  /** Directory of the object the string belongs to. */
  origin: string;
  /** $LIB: "lib/x86_64-linux-gnu" on Debian-style roots, "lib64"/"lib" elsewhere. */
  lib: string;
  /** $PLATFORM: AT_PLATFORM, e.g. "x86_64", "aarch64". */
  platform: string;
}

const TOKEN = /\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g;

export function expandDst(s: string, v: DstValues): string {
  if (!s.includes('$')) return s;
  return s.replace(TOKEN, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare;
    if (name === 'ORIGIN') return v.origin;
    if (name === 'LIB') return v.lib;
    return v.platform;
  });
}

/**
 * A search path string → directories, as glibc's fillin_rpath: tokens expanded (unless `v` is
 * null: musl takes LD_LIBRARY_PATH literally), trailing slashes removed; an empty element means
 * the current directory ("").
 */
export function splitSearchPath(s: string, v: DstValues | null, separators = /:/): string[] {
  return s.split(separators).map((e) => {
    const d = v ? expandDst(e, v) : e;
    return d.length > 1 ? d.replace(/\/+$/, '') || '/' : d;
  });
}
