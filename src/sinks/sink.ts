// Where a finished image goes, and in what order: one Sink interface (the archive tar, the
// --rootfs directory, the engine's load and --verify, the registry's push) and one function that
// runs the chosen sinks over one image value. The image's blobs are built once, on first need,
// into the archive's own file when there is an archive (so a layer is written once), else into a
// temporary one removed at the end; every sink then reads the same value. A sink that tries the
// image and fails it (--verify) undoes what the sinks before it wrote: nothing is kept.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveWriter } from '../oci/archive-writer.js';
import type { BlobStore } from '../oci/blob.js';
import type { Image, ImageIndex } from '../oci/image.js';
import type { FileTree } from '../image/file-tree.js';
import type { PushResult } from './registry.js';

/** The sinks, in the order they run: files first, then the archive and the SBOM files, then the engine, then the registry. */
export type SinkKind = 'rootfs' | 'archive' | 'sbom' | 'engine' | 'registry';
const ORDER: Record<SinkKind, number> = { rootfs: 0, archive: 1, sbom: 2, engine: 3, registry: 4 };

/** What every sink takes. */
export interface SinkInput {
  /** NAME:TAG, recorded in the archive and the engine. */
  tag: string;
  /** Seconds since the epoch for the archive's members (SOURCE_DATE_EPOCH). */
  mtime: number;
  /** For an index: the image `docker load` gets, by its place among the index's images. */
  loadPlatform: number;
  /** Each image's files, as one tree per platform (undefined for an image read from a tar). */
  trees?: FileTree[];
  /** The image value, built on the first call (a sink that writes files only never asks). */
  image(): Promise<Image | ImageIndex>;
}

/** What the sinks did, for the result. */
export interface SinkReport {
  /** The archive written. */
  out?: string;
  /** The directory written. */
  rootfs?: string;
  /** --verify: the image ran in the engine and exited 0. */
  verified?: { exitCode: number; seconds: number };
  /** --push: where it went. */
  pushed?: PushResult;
  /** --sbom-out: the documents written (sinks/sbom-files.ts). */
  sbomFiles?: { path: string; format: 'spdx' | 'cyclonedx'; subject: string }[];
}

export interface Sink {
  readonly kind: SinkKind;
  /** A failure of this sink undoes what the sinks before it wrote (it tried the image: --verify). */
  readonly gate?: boolean;
  /** Fails before any work when the sink cannot take an image: no engine, a bad reference, a directory in the way. */
  check?(): Promise<void>;
  /** Fails before any work when this sink cannot take layers of this media type (zstd into an old engine). */
  acceptsLayers?(mediaType: string): Promise<void>;
  /** The file blobs are built into when this sink keeps them (the archive): they are written once, there. */
  blobStore?(mtime: number): BlobStore;
  write(input: SinkInput): Promise<SinkReport>;
  /** Removes what write made (a gate after it failed); nothing when it made nothing. */
  discard?(): Promise<void>;
}

/** An image as the sinks get it: built on demand from `build` into the store given. */
export interface ImageToWrite {
  tag: string;
  /** Default 0. */
  mtime?: number;
  /** Default 0. */
  loadPlatform?: number;
  trees?: FileTree[];
  /** Builds the value, writing the blobs it makes into `store` (an image read from a tar has them already). */
  build(store: BlobStore): Promise<Image | ImageIndex>;
}

const checked = new WeakSet<Sink>();

/** Runs each sink's check once, in the sinks' order: before long work, so a doomed run stops early. */
export async function checkSinks(sinks: Sink[]): Promise<void> {
  for (const s of ordered(sinks)) {
    if (checked.has(s)) continue;
    await s.check?.();
    checked.add(s);
  }
}

function ordered(sinks: Sink[]): Sink[] {
  return [...sinks].sort((a, b) => ORDER[a.kind] - ORDER[b.kind]);
}

/**
 * Hands the image to each sink, in order (rootfs, archive, engine, registry). Returns what they
 * reported and the value, when a sink needed it built. A failure stops there: what the sinks before
 * wrote stays (a failed push keeps the tar) unless the failing sink is a gate (--verify).
 */
export async function writeToSinks(image: ImageToWrite, sinks: Sink[]): Promise<{ report: SinkReport; image?: Image | ImageIndex }> {
  const list = ordered(sinks);
  await checkSinks(list);
  const mtime = image.mtime ?? 0;
  const keeper = list.find((s) => s.blobStore);
  let spool: ArchiveWriter | undefined;
  let built: Promise<Image | ImageIndex> | undefined;
  const store = (): BlobStore => keeper?.blobStore!(mtime) ?? (spool = new ArchiveWriter(join(tmpdir(), 'elfpack-image.tar'), mtime));
  const input: SinkInput = {
    tag: image.tag, mtime, loadPlatform: image.loadPlatform ?? 0, trees: image.trees,
    image: () => (built ??= image.build(store())),
  };
  const report: SinkReport = {};
  const done: Sink[] = [];
  try {
    for (const s of list) {
      try {
        Object.assign(report, await s.write(input));
      } catch (err) {
        if (s.gate) {
          for (const d of done.reverse()) await d.discard?.().catch(() => undefined); // the failure is what is said
        }
        throw err;
      }
      done.push(s);
    }
  } finally {
    await spool?.abort(); // the temporary blobs: no file is kept without an archive
  }
  return { report, image: built && await built };
}
