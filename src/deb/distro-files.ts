// The files that name the distribution, for a root whose packages do not include them: scanners
// (trivy, grype, syft) identify a Debian image by /etc/os-release and /etc/debian_version, both
// base-files', which is Essential but seldom in a program's dependencies. They are taken from the
// suite's own base-files .deb, not written from the Release file: base-files is what every real
// Debian root has them from, so they are byte for byte a real system's (a Release has no
// PRETTY_NAME or the URLs, and a derivative's base-files says what its Release cannot). Only these
// three paths are taken, and base-files is not recorded as installed: the root does not hold the
// rest of it, and a scanner must not report a package the image does not have.
import { ElfpackError } from '../errors.js';
import { debEntries, readDeb } from './deb-file.js';
import type { PackageRecord } from './packages-index.js';
import { candidateOf, type PackageUniverse } from './universe.js';
import type { GeneratedEntry } from './ca-certificates.js';

export const DISTRO_PACKAGE = 'base-files';
/** os-release(5)'s two places (/etc/os-release is base-files' link to the other) and Debian's version file. */
export const DISTRO_FILES = ['/etc/os-release', '/usr/lib/os-release', '/etc/debian_version'];
/** One of them, at most (os-release is under 300 bytes). */
const MAX_DISTRO_FILE_BYTES = 64 << 10;

/** The base-files apt would install for `arch` (its candidate), unless `packages` already has it. */
export function chooseDistroPackage(universe: PackageUniverse, arch: string, packages: readonly string[]): PackageRecord | undefined {
  return packages.includes(DISTRO_PACKAGE) ? undefined : candidateOf(universe, DISTRO_PACKAGE, arch);
}

/** DISTRO_FILES as the base-files .deb at `path` ships them (regular files and links; what it lacks is left out). */
export async function readDistroFiles(path: string): Promise<GeneratedEntry[]> {
  const deb = await readDeb(path);
  if (deb.name !== DISTRO_PACKAGE) throw new ElfpackError('DEB_MALFORMED', `holds ${deb.name}, not ${DISTRO_PACKAGE}`, { path, step: 'deb' });
  const out: GeneratedEntry[] = [];
  for await (const { entry, content } of debEntries(deb)) {
    if (!DISTRO_FILES.includes(entry.path)) continue;
    if (entry.type === 'symlink' && entry.target) out.push({ path: entry.path, target: entry.target });
    else if (entry.type === 'file') {
      if (entry.size > MAX_DISTRO_FILE_BYTES) throw new ElfpackError('DEB_LIMIT', `${entry.path}: more than ${MAX_DISTRO_FILE_BYTES} bytes: refused`, { path, step: 'deb' });
      const chunks: Buffer[] = [];
      for await (const c of content) chunks.push(c as Buffer);
      out.push({ path: entry.path, content: Buffer.concat(chunks), mode: entry.mode & 0o777 });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}
