// The files maintainer scripts would have written that a program reads, made without running any
// script (see README "Images from packages"): ca-certificates' conf, bundle and links
// (deb/ca-certificates.ts) and, with ca-certificates-java, Java's keystore of them
// (deb/ca-certificates-java.ts), libc-bin's nsswitch.conf, tzdata's localtime and nginx's default site
// (deb/configure-effects.ts), and, when no package ships them, the distribution's os-release and
// debian_version from the suite's base-files (deb/distro-files.ts). Alternatives and ld.so.cache
// are deb-root.ts's own layers. Nothing is put over a file a package shipped.
import { FileTree } from '../image/file-tree.js';
import type { Root } from '../root/root.js';
import { caCertificatesFiles, type GeneratedEntry } from './ca-certificates.js';
import { javaCacertsFile } from './ca-certificates-java.js';
import type { InstalledDeb } from './dpkg-database.js';
import { configureEffects } from './configure-effects.js';
import { DISTRO_FILES, readDistroFiles } from './distro-files.js';

export interface PackageEffectsOptions {
  /** base-files' .deb, whose distribution files are taken when no unpacked package ships them. */
  distroFiles?: string;
  /** Whether a generated file may go at a path (nothing but directories on its way, none there). */
  canPlace: (path: string) => boolean;
}

/** The generated files (undefined when there are none); what is left out goes to `warnings`. */
export async function packageEffects(root: Root, installed: InstalledDeb[], opts: PackageEffectsOptions, warnings: string[]): Promise<FileTree | undefined> {
  const entries: GeneratedEntry[] = [];
  const ca = installed.find((p) => p.deb.name === 'ca-certificates');
  if (ca) {
    const made = caCertificatesFiles(root, ca.deb.control.files.get('config')?.toString('utf8'));
    entries.push(...made.entries);
    warnings.push(...made.warnings);
    // Its postinst runs once both are configured (it depends on ca-certificates), on the links just made.
    const java = installed.some((p) => p.deb.name === 'ca-certificates-java') ? javaCacertsFile(root, made.pems, warnings) : undefined;
    if (java) entries.push(java);
  }
  entries.push(...configureEffects(root, new Set(installed.map((p) => p.deb.name))));
  if (opts.distroFiles && !DISTRO_FILES.some((p) => root.lstat(p))) entries.push(...await readDistroFiles(opts.distroFiles));
  if (!entries.length) return undefined;
  const tree = new FileTree();
  for (const e of entries) {
    // A file a package shipped stays (dpkg would not let a script's output replace it silently either).
    if (root.lstat(e.path) || !opts.canPlace(e.path)) {
      warnings.push(`${e.path}: not written: a package put something there or on its way`);
      continue;
    }
    if ('target' in e) tree.addSymlink(e.path, e.target);
    else tree.addFile(e.path, { content: e.content }, e.content.length, e.mode);
  }
  return tree;
}
