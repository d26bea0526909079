// Package metadata the scanners read, for the packages that own the image's files: dpkg's
// /var/lib/dpkg/status.d/NAME and NAME.md5sums as distroless ships them (what trivy, grype, syft
// and clair read in an image without /var/lib/dpkg/status), or apk's lib/apk/db/installed with the
// owning packages' entries; the root's /etc/os-release (and debian_version, lsb-release or
// alpine-release) so a scanner knows the distribution; and each Debian package's
// /usr/share/doc/NAME/copyright, which Debian policy (12.5) has go wherever its files go and
// which scanners read licenses from. Also the package model the SBOM uses.
import { createHash } from 'node:crypto';
import { ElfpackError } from '../errors.js';
import type { ApkDb, ApkDir, ApkFile, ApkPackage } from '../root/apk-db.js';
import { DbReader } from '../root/db-files.js';
import { formatDeb822 } from '../root/deb822.js';
import { readDebianLicenses } from '../root/debian-copyright.js';
import { DPKG_DIR, type DebPackage } from '../root/dpkg-db.js';
import { readOsRelease, type OsRelease } from '../root/os-release.js';
import { readPackageDb, type FileOwner, type InstalledPackage } from '../root/package-db.js';
import { dirName } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';
import type { TreeSource } from './file-tree.js';
import type { ImageTreeBuilder } from './image-tree.js';

export interface ImagePackage {
  name: string;
  version: string;
  arch: string;
  /** The source package, when the database names one (dpkg's Source, apk's origin). */
  source?: string;
  /**
   * apk: its L: field (one expression). dpkg: the distinct License short names of
   * /usr/share/doc/NAME/copyright when that file is machine-readable (DEP-5), as Debian writes
   * them ("GPL-2+", "LGPL-3+ or GPL-2+"): often, not always, SPDX ids. Absent when unknown.
   */
  licenses?: string[];
  /** As syft writes it: pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12, pkg:apk/alpine/… */
  purl: string;
  /** The package's regular files in the image (image paths, sorted). */
  files: string[];
}

export interface ImagePackages {
  /** The database the packages come from; absent when the root has none. */
  db?: 'dpkg' | 'apk';
  distro?: { id: string; versionId?: string; prettyName?: string };
  /** Sorted by name, then architecture. */
  packages: ImagePackage[];
  /** The image's regular files no package owns (elfpack's own, the package metadata itself, files of no package), sorted. */
  unowned: string[];
}

export interface PackageMetadataResult {
  packages: ImagePackages;
  /** The summary's line, when metadata was written. */
  added: string[];
  /** Records of the database left out, each naming its file. */
  warnings: string[];
}

/** dpkg's own state in a status record, which a package's control file (what status.d holds) has not. */
const STATUS_ONLY_FIELDS = ['Status', 'Conffiles', 'Config-Version', 'Triggers-Pending', 'Triggers-Awaited'];
const REASON = 'package metadata';
/** Files that tell scanners the distribution, beside os-release (trivy reads debian_version for Debian, lsb-release for Ubuntu, alpine-release for Alpine). */
const DISTRO_FILES = { dpkg: ['/etc/debian_version', '/etc/lsb-release'], apk: ['/etc/alpine-release'] };
/** Unowned files named in the summary line, at most. */
const NAMED = 3;

interface Owned<P extends InstalledPackage> {
  image: string;
  real: string;
  owner: FileOwner<P> & { dir?: ApkDir; file?: ApkFile };
}

/**
 * Finds the package owning each regular file of the tree that comes from `root`, and writes the
 * metadata of those packages into the tree (nothing when no file has an owner). Returns the model.
 */
export function addPackageMetadata(b: ImageTreeBuilder, root: Root): PackageMetadataResult {
  const reader = new DbReader(root);
  const db = readPackageDb(reader);
  const os = readOsRelease(reader);
  const distro = os && { id: os.id, ...(os.versionId ? { versionId: os.versionId } : {}), ...(os.prettyName ? { prettyName: os.prettyName } : {}) };
  if (!db) return { packages: { ...(distro ? { distro } : {}), packages: [], unowned: regularFiles(b) }, added: [], warnings: [] };

  // The tree's files from the root, by real path (a file may be in the image twice, with --as).
  const images = new Map<string, string[]>();
  const placeAt = (real: string, image: string) => {
    const list = images.get(real);
    if (list) list.push(image);
    else images.set(real, [image]);
  };
  const place = (image: string, source: TreeSource) => {
    if ('root' in source && source.root === root) placeAt(reader.realPath(source.path) ?? source.path, image);
  };
  for (const e of b.tree.sorted()) if (e.type === 'file') place(e.path, e.source);
  const distroFiles = distroFilesOf(reader, db.kind, os);
  // Every package's copyright file is asked about too: one whose doc directory links to another
  // package's (libgcc-s1 → gcc-12-base) is that package's file.
  const copyrights = new Map<string, ExtraFile>();
  if (db.kind === 'dpkg') {
    for (const p of db.packages) {
      const path = `/usr/share/doc/${p.name}/copyright`;
      const real = reader.realFile(path);
      if (real) copyrights.set(p.name, { path, from: path, real });
    }
  }
  const extras = [...distroFiles, ...copyrights.values()];
  const owners: Map<string, (FileOwner<InstalledPackage> & { dir?: ApkDir; file?: ApkFile })[]> = db.owners(new Set([...images.keys(), ...extras.map((f) => f.real)]));
  const warnings = [...db.warnings];
  const owning = new Set([...images.keys()].flatMap((real) => (owners.get(real) ?? []).map((o) => o.pkg)));
  if (!owning.size) {
    return { packages: { db: db.kind, ...(distro ? { distro } : {}), packages: [], unowned: regularFiles(b) }, added: [], warnings };
  }

  const addExtra = (f: ExtraFile, why: string) => {
    if (b.tree.get(f.path)) return; // already in (an --include of /etc, say): kept as it is
    try {
      b.addRootPath(f.from, REASON);
      if (f.link) b.tree.addSymlink(f.path, f.link);
      placeAt(f.real, f.real);
    } catch (err) {
      if (!(err instanceof ElfpackError)) throw err;
      warnings.push(`${f.path}: not added (${err.message}), so ${why}`);
    }
  };
  for (const f of distroFiles) addExtra(f, 'a scanner may not know the distribution');
  for (const p of db.packages) {
    const f = owning.has(p) ? copyrights.get(p.name) : undefined;
    if (f) addExtra(f, `${p.name}'s licenses are not in the image`);
  }

  // Each owning package with its files, in the database's order.
  const byPkg = new Map<InstalledPackage, Owned<InstalledPackage>[]>();
  for (const [real, list] of owners) {
    for (const image of images.get(real) ?? []) {
      for (const owner of list) {
        const files = byPkg.get(owner.pkg);
        if (files) files.push({ image, real, owner });
        else byPkg.set(owner.pkg, [{ image, real, owner }]);
      }
    }
  }
  const pkgs = db.packages.filter((p: InstalledPackage) => byPkg.has(p));
  for (const files of byPkg.values()) files.sort((x, y) => (x.image < y.image ? -1 : x.image > y.image ? 1 : 0));

  const written = db.kind === 'dpkg'
    ? writeDpkgMetadata(b, pkgs as DebPackage[], byPkg as Map<DebPackage, Owned<DebPackage>[]>)
    : writeApkMetadata(b, db, pkgs as ApkPackage[], byPkg as Map<ApkPackage, Owned<ApkPackage>[]>);

  const packages: ImagePackage[] = pkgs.map((p) => {
    const licenses = db.kind === 'dpkg' ? readDebianLicenses(reader, p.name) : p.license ? [p.license] : undefined;
    return {
      name: p.name, version: p.version, arch: p.arch, ...(p.source && p.source !== p.name ? { source: p.source } : {}), ...(licenses ? { licenses } : {}),
      purl: packageUrl(db.kind, p, os), files: [...new Set(byPkg.get(p)!.map((f) => f.image))],
    };
  }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.arch < y.arch ? -1 : x.arch > y.arch ? 1 : 0));
  const ownedPaths = new Set(packages.flatMap((p) => p.files));
  const unowned = regularFiles(b).filter((p) => !ownedPaths.has(p));
  const others = unowned.filter((p) => !written.has(p));
  const where = db.kind === 'dpkg' ? `${DPKG_DIR}/status.d, /usr/share/doc/*/copyright` : db.path;
  const osLine = os && b.tree.get('/etc/os-release') ? `; /etc/os-release: ${os.prettyName ?? os.id}` : '';
  const rest = others.length
    ? `; ${others.length} other file(s) of the image belong to no package: ${others.slice(0, NAMED).join(', ')}${others.length > NAMED ? ', …' : ''}`
    : '';
  return {
    packages: { db: db.kind, ...(distro ? { distro } : {}), packages, unowned },
    added: [`package metadata for ${packages.length} package(s) (${where}${osLine})${rest}`],
    warnings,
  };
}

/** status.d/NAME (the record without dpkg's state) and NAME.md5sums (the image's files only). */
function writeDpkgMetadata(b: ImageTreeBuilder, pkgs: DebPackage[], byPkg: Map<DebPackage, Owned<DebPackage>[]>): Set<string> {
  const written = new Set<string>();
  const count = new Map<string, number>();
  for (const p of pkgs) count.set(p.name, (count.get(p.name) ?? 0) + 1);
  for (const p of pkgs) {
    // One file per name, as distroless names them; two architectures of one name take NAME:ARCH,
    // as dpkg names their info files (trivy and syft look for both).
    const file = count.get(p.name)! > 1 ? `${p.name}:${p.arch}` : p.name;
    const sums = byPkg.get(p)!.map((f) => `${f.image === f.real && f.owner.checksum ? f.owner.checksum : hashTreeFile(b, f.image, 'md5', 'hex')}  ${f.image.slice(1)}\n`);
    const at = b.placeInTree(`${DPKG_DIR}/status.d/${file}`);
    b.addContent(at, Buffer.from(formatDeb822(p.paragraph, STATUS_ONLY_FIELDS)), 0o644, REASON);
    b.addContent(`${at}.md5sums`, Buffer.from([...new Set(sums)].join('')), 0o644, REASON);
    written.add(at).add(`${at}.md5sums`);
  }
  return written;
}

/** apk's installed database with the owning packages' entries, each listing only its files in the image. */
function writeApkMetadata(b: ImageTreeBuilder, db: ApkDb, pkgs: ApkPackage[], byPkg: Map<ApkPackage, Owned<ApkPackage>[]>): Set<string> {
  const out: string[] = [];
  for (const p of pkgs) {
    const lines = [...p.header];
    let dir: string | undefined;
    const seen = new Set<string>();
    for (const f of byPkg.get(p)!) { // sorted by image path, so each directory's files are together
      if (seen.has(f.image)) continue;
      seen.add(f.image);
      const d = dirName(f.image).slice(1);
      if (d !== dir) lines.push(`F:${d}`);
      dir = d;
      lines.push(`R:${f.image.slice(f.image.lastIndexOf('/') + 1)}`);
      lines.push(...(f.owner.file?.lines ?? []).filter((l) => l.startsWith('a:')));
      const sum = f.image === f.real && f.owner.checksum ? f.owner.checksum : `Q1${hashTreeFile(b, f.image, 'sha1', 'base64')}`;
      lines.push(`Z:${sum}`);
    }
    out.push(lines.join('\n') + '\n\n');
  }
  // Where the tree keeps it: /lib may be a link in the image (a merged /usr).
  const at = b.placeInTree(db.path);
  b.addContent(at, Buffer.from(out.join('')), 0o644, REASON);
  return new Set([at]);
}

interface ExtraFile {
  /** Its path in the image. */
  path: string;
  /** What to copy from the root (the path itself, with its links, or os-release's other place). */
  from: string;
  /** Its real path in the root (what a package lists). */
  real: string;
  /** A link to write at `path` when `from` is elsewhere. */
  link?: string;
}

/** The files naming the distribution that the root has. */
function distroFilesOf(reader: DbReader, kind: 'dpkg' | 'apk', os?: OsRelease): ExtraFile[] {
  const out: ExtraFile[] = [];
  const realFile = (p: string) => reader.realFile(p);
  const etc = realFile('/etc/os-release');
  const usr = realFile('/usr/lib/os-release');
  // os-release(5): /etc/os-release, else /usr/lib/os-release, which /etc/os-release then links to.
  if (etc) out.push({ path: '/etc/os-release', from: '/etc/os-release', real: etc });
  else if (usr && os) out.push({ path: '/etc/os-release', from: '/usr/lib/os-release', real: usr, link: '../usr/lib/os-release' });
  for (const p of DISTRO_FILES[kind]) {
    const real = realFile(p);
    if (real) out.push({ path: p, from: p, real });
  }
  return out;
}

/** The image's regular files, sorted. */
function regularFiles(b: ImageTreeBuilder): string[] {
  return b.tree.sorted().filter((e) => e.type === 'file').map((e) => e.path);
}

/** A digest of a file of the tree, read in chunks (a root's file) or at once (content elfpack made). */
function hashTreeFile(b: ImageTreeBuilder, path: string, algo: 'md5' | 'sha1', encoding: 'hex' | 'base64'): string {
  const e = b.tree.get(path);
  if (e?.type !== 'file') throw new ElfpackError('NOT_FOUND', 'not a file of the image', { path, step: REASON });
  const h = createHash(algo);
  if ('content' in e.source) return h.update(e.source.content).digest(encoding);
  const src = e.source.root.open(e.source.path);
  try {
    const chunk = 1 << 20;
    for (let at = 0; at < src.size; at += chunk) h.update(src.read(at, Math.min(chunk, src.size - at), 'file'));
  } finally {
    src.close();
  }
  return h.digest(encoding);
}

/**
 * The package URL as syft writes it (the purl spec's deb and apk types): the distribution's ID as
 * namespace, arch and distro (ID-VERSION_ID) qualifiers. trivy writes the same but with
 * debian_version's "12.11" for Debian and an epoch qualifier instead of the version's "N:".
 */
export function packageUrl(kind: 'dpkg' | 'apk', p: InstalledPackage, os?: OsRelease): string {
  const ns = (os?.id ?? (kind === 'dpkg' ? 'debian' : 'alpine')).toLowerCase();
  const q: string[] = [];
  if (p.arch) q.push(`arch=${purlEncode(p.arch)}`);
  if (os?.versionId) q.push(`distro=${purlEncode(`${os.id}-${os.versionId}`)}`);
  const name = kind === 'apk' ? p.name.toLowerCase() : p.name;
  return `pkg:${kind === 'dpkg' ? 'deb' : 'apk'}/${purlEncode(ns)}/${purlEncode(name)}@${purlEncode(p.version)}${q.length ? `?${q.join('&')}` : ''}`;
}

/** Percent-encoding as the purl spec asks, keeping ":" and "+" as they are (as syft and trivy do: "1:2.3+dfsg-1"). */
function purlEncode(s: string): string {
  return encodeURIComponent(s).replace(/%3A/g, ':').replace(/%2B/g, '+');
}
