// What an SBOM says of a packed image, gathered from the pack: every file of the tree with its
// SHA-1 and SHA-256 (read once, in chunks), its owning package, and the loader's graph (DT_NEEDED
// and PT_INTERP edges of the closure) in image paths.
import { createHash } from 'node:crypto';
import { mergePrograms } from '../closure/closure.js';
import type { ProgramLoad } from '../closure/load-program.js';
import type { FileTree, TreeSource } from './file-tree.js';
import type { ImagePackages } from './package-metadata.js';
import type { SbomInput, SbomPackage } from './sbom.js';

const CHUNK = 1 << 20;

export interface SbomSources {
  name: string;
  epoch: number;
  platform: SbomInput['platform'];
  tree: FileTree;
  loads: ProgramLoad[];
  /** The package model (package-metadata.ts); without it, every file is listed as owned by no package. */
  packages?: Pick<ImagePackages, 'distro' | 'packages'>;
  tool: SbomInput['tool'];
  digest?: string;
}

export function sbomInputOf(src: SbomSources): SbomInput {
  const owner = new Map<string, string>();
  const packages: SbomPackage[] = [];
  for (const p of src.packages?.packages ?? []) {
    const key = p.purl;
    packages.push({ key, name: p.name, version: p.version, arch: p.arch, purl: p.purl, ...(p.licenses ? { licenses: p.licenses } : {}), ...(p.source ? { source: p.source } : {}) });
    for (const f of p.files) if (!owner.has(f)) owner.set(f, key);
  }
  // Root path → image path: a file may sit elsewhere in the image (--as, $ORIGIN moves).
  const imagePathOf = new Map<string, string>();
  const files = src.tree.sorted().flatMap((e) => {
    if (e.type !== 'file') return [];
    if ('root' in e.source && !imagePathOf.has(e.source.path)) imagePathOf.set(e.source.path, e.path);
    const { sha1, sha256 } = digests(e.source, e.size);
    return [{ path: e.path, size: e.size, sha1, sha256, ...(owner.has(e.path) ? { package: owner.get(e.path) } : {}) }];
  });
  const closure = mergePrograms(src.loads);
  const needs = new Map<string, Set<string>>();
  const need = (from?: string, to?: string) => {
    const f = from && imagePathOf.get(from);
    const t = to && imagePathOf.get(to);
    if (!f || !t || f === t) return;
    if (!needs.has(f)) needs.set(f, new Set());
    needs.get(f)!.add(t);
  };
  for (const e of closure.edges) need(e.from, e.to);
  for (const l of src.loads) {
    const interp = l.objects.find((o) => o.role === 'interpreter');
    if (l.main && interp) need(l.main.realPath, interp.realPath);
  }
  return {
    name: src.name, digest: src.digest, epoch: src.epoch, platform: src.platform, distro: src.packages?.distro, packages, files,
    needs: [...needs].map(([from, to]) => ({ from, to: [...to] })), tool: src.tool,
  };
}

function digests(source: TreeSource, size: number): { sha1: string; sha256: string } {
  const h1 = createHash('sha1');
  const h256 = createHash('sha256');
  if ('content' in source) {
    h1.update(source.content);
    h256.update(source.content);
  } else {
    const bytes = source.root.open(source.path);
    try {
      for (let at = 0; at < size; at += CHUNK) {
        const b = bytes.read(at, Math.min(CHUNK, size - at), 'file');
        h1.update(b);
        h256.update(b);
      }
    } finally {
      bytes.close();
    }
  }
  return { sha1: h1.digest('hex'), sha256: h256.digest('hex') };
}
