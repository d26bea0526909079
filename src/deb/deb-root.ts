// A root built from Debian packages without dpkg, apt or a builder: each .deb's data.tar is
// unpacked once into the cache (deb/deb-file.ts) and applied in the given order to one FsIndex, as
// an image's layers are, so later packages overwrite earlier ones as dpkg unpacks them, and links to
// directories already there are followed as dpkg follows them (merged /usr). Then what
// the maintainer scripts and dpkg would have left that matters to a program is added as two more
// generated layers: dpkg's database (deb/dpkg-database.ts) with the update-alternatives links
// postinst asks for (deb/alternatives.ts), then /etc/ld.so.cache as ldconfig would write it for
// the root (resolve/ldconfig.ts; the one root module that reaches into resolve/, for ldconfig).
// Between them, the files other scripts would write (deb/package-effects.ts: ca-certificates'
// bundle, the distribution's os-release).
// Nothing is written to the host but plain tars in the cache: a hostile package can only be refused.
// The same packages in the same order give the same root, byte for byte (generated files are
// sorted, with mtime 0, and named by their digest). The whole root, generated layers included, is
// saved in the cache by the .debs' SHA256s (deb/deb-root-cache.ts): the same .debs again read one file.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import { FileTree } from '../image/file-tree.js';
import { writeLayer } from '../image/tar-writer.js';
import { hashRegion } from '../oci/layer-blob.js';
import { writeFileAtomically } from '../temp-files.js';
import { debRootKey, readSavedDebRoot, saveDebRoot, type DebRootKeyInput } from './deb-root-cache.js';
import { chooseAlternatives, parseAlternatives, type AlternativeInstall } from './alternatives.js';
import { MAINTAINER_SCRIPTS, readDeb, unpackDebData, type DebFile, type ReadDebOptions } from './deb-file.js';
import { packageEffects } from './package-effects.js';
import { dpkgDatabaseFiles, sameRecord, type InstalledDeb } from './dpkg-database.js';
import { ldconfigRecords } from '../resolve/ldconfig.js';
import { writeLdSoCache } from '../resolve/ld-so-cache-writer.js';
import type { Deb822Paragraph } from '../root/deb822.js';
import { FsIndex, type IndexLimits } from '../root/fs-index.js';
import { ImageRoot } from '../root/image-root.js';
import { dirName, tryResolveInRoot } from '../root/resolve-path.js';

/** dpkg architecture → multiarch triplet (dpkg-architecture -qDEB_HOST_MULTIARCH) for Debian's release architectures. */
export const DEB_TRIPLETS: Record<string, string> = {
  amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', armhf: 'arm-linux-gnueabihf', armel: 'arm-linux-gnueabi',
  i386: 'i386-linux-gnu', ppc64el: 'powerpc64le-linux-gnu', s390x: 's390x-linux-gnu', riscv64: 'riscv64-linux-gnu',
  mips64el: 'mips64el-linux-gnuabi64', loong64: 'loongarch64-linux-gnu',
};

export interface DebInput {
  /** Host path of the .deb. */
  path: string;
  /** The package's record in the archive's index, when it came from one: the .deb must agree with it. */
  control?: Deb822Paragraph;
  /** The .deb's SHA256 (hex), when the caller checked it already (against the index): keys the saved root without hashing the file again. */
  sha256?: string;
}

export interface BuildDebRootOptions extends ReadDebOptions, IndexLimits {
  /** Where data.tar members are unpacked (deb-data/; fetched .debs live in debs/) and generated layers kept (deb-root/). */
  cacheDir: string;
  /** The dpkg architecture (amd64): packages must be of it or "all". */
  arch: string;
  /** For messages (default "N Debian packages"). */
  label?: string;
  /** base-files' .deb, for /etc/os-release and /etc/debian_version when no package ships them (deb/distro-files.ts). */
  distroFiles?: DebInput;
}

export interface DebRootPackage {
  name: string;
  version: string;
  arch: string;
  /** The .deb read (for a saved root opened by openSavedDebRoot: where it was when the root was built). */
  path: string;
}

export class DebRoot extends ImageRoot {
  constructor(index: FsIndex, label: string, readonly packages: DebRootPackage[], readonly warnings: string[]) {
    super(index, label);
  }
}

/**
 * The root the packages make, unpacked in the order given (a package's dependencies first, as apt
 * unpacks), or the same root saved by an earlier call with the same .debs (deb/deb-root-cache.ts).
 */
export async function buildDebRoot(debs: DebInput[], opts: BuildDebRootOptions): Promise<DebRoot> {
  const label = labelOf(debs, opts);
  const triplet = tripletOf(opts.arch);
  checkSha256s([...debs, ...(opts.distroFiles ? [opts.distroFiles] : [])]);
  // A .deb that is not there is said by readDeb, below; the key needs them all.
  const keyed = [...debs, ...(opts.distroFiles ? [opts.distroFiles] : [])].every((d) => d.sha256 || statSync(d.path, { throwIfNoEntry: false })?.isFile());
  let key: string | undefined;
  if (keyed) {
    const sums: DebRootKeyInput[] = [];
    const sha256Of = async (d: DebInput) => d.sha256 ?? (await hashRegion({ file: d.path, offset: 0, size: statSync(d.path).size })).hex;
    for (const d of debs) sums.push({ sha256: await sha256Of(d), control: d.control });
    const distro = opts.distroFiles && { sha256: await sha256Of(opts.distroFiles) };
    key = debRootKey(sums, { ...opts, distroFiles: distro });
    const saved = readSavedDebRoot(opts.cacheDir, key, debs.length, opts);
    if (saved) return new DebRoot(saved.index, label, saved.packages.map((p, i) => ({ ...p, path: debs[i].path })), saved.warnings);
  }
  const root = await unpackDebs(debs, opts, label, triplet);
  if (key) await saveDebRoot(opts.cacheDir, key, root);
  return root;
}

/**
 * The root these .debs (by SHA256, in this order, and base-files' for the distribution files, if
 * any) made in an earlier buildDebRoot with the same cache and options, without reading the .debs;
 * undefined when there is none to use.
 */
export function openSavedDebRoot(debs: DebRootKeyInput[], opts: Omit<BuildDebRootOptions, 'distroFiles'> & { distroFiles?: DebRootKeyInput }): DebRoot | undefined {
  tripletOf(opts.arch);
  checkSha256s([...debs, ...(opts.distroFiles ? [opts.distroFiles] : [])]);
  const key = debRootKey(debs, opts);
  const saved = readSavedDebRoot(opts.cacheDir, key, debs.length, opts);
  return saved && new DebRoot(saved.index, labelOf(debs, opts), saved.packages, saved.warnings);
}

function checkSha256s(debs: { sha256?: string }[]): void {
  const bad = debs.find((d) => d.sha256 !== undefined && !/^[0-9a-f]{64}$/i.test(d.sha256));
  if (bad) throw new ElfpackError('USAGE', `SHA256 ${JSON.stringify(String(bad.sha256).slice(0, 80))} is not 64 hex digits`, { step: 'deb' });
}

function labelOf(debs: unknown[], opts: { label?: string }): string {
  return opts.label ?? `${debs.length} Debian package${debs.length === 1 ? '' : 's'}`;
}

function tripletOf(arch: string): string {
  const triplet = DEB_TRIPLETS[arch];
  if (!triplet) throw new ElfpackError('USAGE', `architecture ${escapeName(arch)} is not one of ${Object.keys(DEB_TRIPLETS).join(', ')}`, { step: 'deb' });
  return triplet;
}

/**
 * Unpacks each .deb into one index, then adds the generated layers. What this puts in a root is
 * saved by buildDebRoot: a change to it bumps DEB_ROOT_CACHE_VERSION (deb-root-cache.ts).
 */
async function unpackDebs(debs: DebInput[], opts: BuildDebRootOptions, label: string, triplet: string): Promise<DebRoot> {
  const index = new FsIndex(opts);
  const warnings: string[] = [];
  const installed: InstalledDeb[] = [];
  const owner = new Map<string, string>(); // path → package that put it: for messages
  const packages: DebRootPackage[] = [];
  const root = new DebRoot(index, label, packages, warnings);
  for (const input of debs) {
    const deb = await readDeb(input.path);
    checkPackage(deb, input, opts.arch);
    const { tar, entries } = await unpackDebData(deb, opts.cacheDir, opts);
    for (const e of entries) {
      const had = index.get(e.path);
      // dpkg refuses to put a file where a directory is; the index would replace it: say so.
      if (had?.type === 'dir' && e.type !== 'dir') warnings.push(`${deb.name}: ${escapeName(e.path)}: a ${e.type} replaces the directory ${owner.has(e.path) ? `of ${owner.get(e.path)}` : 'there'} (dpkg would refuse)`);
      else if (had?.type === 'symlink' && e.type === 'dir' && tryResolveInRoot(root, e.path)?.type !== 'dir') warnings.push(`${deb.name}: ${escapeName(e.path)}: a directory replaces the symbolic link ${owner.has(e.path) ? `of ${owner.get(e.path)}` : 'there'}, which leads to no directory`);
      owner.set(e.path, deb.name);
    }
    const before = index.rejected.length;
    // As dpkg: through links to directories (merged /usr), never replacing them with directories.
    await index.applyLayer(tar.file, 0, { length: tar.size, label: deb.path, layerName: deb.data.name, followDirLinks: true });
    for (const r of index.rejected.slice(before)) warnings.push(`${deb.name}: /${r.name.replace(/^(\.?\/)+/, '')}: left out: ${r.why}`);
    installed.push({ deb, entries });
    packages.push({ name: deb.name, version: deb.version, arch: deb.arch, path: deb.path });
  }

  const db = new FileTree();
  for (const [path, bytes] of dpkgDatabaseFiles(installed)) {
    if (!canPlace(root, path)) {
      warnings.push(`${escapeName(path)}: not written: a package put something other than a directory on its way`);
      continue;
    }
    db.addFile(path, { content: bytes }, bytes.length, MAINTAINER_SCRIPTS.includes(path.slice(path.lastIndexOf('.') + 1)) ? 0o755 : 0o644);
  }
  addAlternatives(root, installed, db, warnings);
  await applyGenerated(index, db, opts.cacheDir, 'the dpkg database');
  const effects = await packageEffects(root, installed, { distroFiles: opts.distroFiles?.path, canPlace: (p) => canPlace(root, p) }, warnings);
  if (effects) await applyGenerated(index, effects, opts.cacheDir, 'what maintainer scripts would write');

  const cache = ldconfigRecords(root, { triplet });
  if (cache.records.length) {
    const tree = new FileTree();
    const bytes = writeLdSoCache(cache.records, { bigEndian: cache.bigEndian });
    tree.addFile('/etc/ld.so.cache', { content: bytes }, bytes.length, 0o644);
    await applyGenerated(index, tree, opts.cacheDir, '/etc/ld.so.cache');
  }
  return root;
}

function checkPackage(deb: DebFile, input: DebInput, arch: string): void {
  if (deb.arch !== arch && deb.arch !== 'all') throw new ElfpackError('DEB_UNSUPPORTED', `${deb.name} is for ${escapeName(deb.arch)}, not ${escapeName(arch)}`, { path: deb.path, step: 'deb' });
  if (input.control && !sameRecord(input.control, deb)) throw new ElfpackError('DEB_MALFORMED', `holds ${deb.name} ${deb.version}, not the package the index describes`, { path: deb.path, step: 'deb' });
}

/** The update-alternatives links of every package's postinst, added to `tree` (see deb/alternatives.ts). */
function addAlternatives(root: DebRoot, installed: InstalledDeb[], tree: FileTree, warnings: string[]): void {
  const installs: AlternativeInstall[] = [];
  for (const { deb } of installed) {
    const postinst = deb.control.files.get('postinst');
    if (!postinst) continue;
    const parsed = parseAlternatives(postinst.toString('utf8'), deb.name);
    installs.push(...parsed.installs);
    warnings.push(...parsed.skipped);
  }
  const exists = (p: string) => {
    const r = tryResolveInRoot(root, p);
    return !!r && !r.missing && r.type !== 'dir';
  };
  const made = new Set<string>();
  for (const { links } of chooseAlternatives(installs, exists)) {
    for (const l of links) {
      const alt = `/etc/alternatives/${l.name}`;
      if (made.has(alt) || made.has(l.link) || !canPlace(root, alt)) continue;
      tree.addSymlink(alt, l.path);
      made.add(alt);
      // A real file (or a link a package shipped) at LINK stays, as update-alternatives leaves it.
      if (!root.lstat(l.link) && canPlace(root, l.link)) {
        tree.addSymlink(l.link, alt);
        made.add(l.link);
      }
    }
  }
}

/** Whether a generated file can go at `path`: nothing there but absent or real directories on the way (never through a link). */
function canPlace(root: DebRoot, path: string): boolean {
  if (root.lstat(path)?.type === 'dir') return false;
  for (let d = dirName(path); d !== '/'; d = dirName(d)) {
    const t = root.lstat(d)?.type;
    if (t !== undefined && t !== 'dir') return false;
  }
  return true;
}

/**
 * Writes `tree` as a tar into the cache under its digest and applies it. Directories the index
 * already has keep their modes (the tree would make parents 0755).
 */
async function applyGenerated(index: FsIndex, tree: FileTree, cacheDir: string, what: string): Promise<void> {
  for (const e of tree.sorted()) {
    for (let d = dirName(e.path); d !== '/'; d = dirName(d)) {
      const had = index.get(d);
      if (had?.type === 'dir' && tree.get(d)?.type === 'dir') tree.addDir(d, had.mode);
    }
  }
  const chunks: Buffer[] = [];
  const info = await writeLayer(tree, async (b) => {
    chunks.push(Buffer.from(b));
  });
  const dir = join(cacheDir, 'deb-root');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${info.digest.replace(':', '-')}.tar`);
  // Named by its digest: the same content is the same file, and a file there is already right.
  if (!existsSync(file)) await writeFileAtomically(file, async (out) => { out.end(Buffer.concat(chunks)); });
  await index.applyLayer(file, 0, { label: what });
}
