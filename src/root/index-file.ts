// A built FsIndex saved to a file and read back, so that a root made from many layer tars is not
// indexed again (deb/deb-root.ts keeps one per set of packages). The file is one header line
// ("elfpack-index/1 SHA256-of-the-rest") and a JSON body: the caller's metadata, the host files
// the entries' bytes live in (with the size and mtime they had), and the entries as
// FsIndex.snapshot gives them. Reading it back checks everything: the checksum (a truncated or
// garbled file: src/sealed-json.ts), every bound and field, and that each data file is still the
// one indexed (same size and mtime); any doubt and the caller gets undefined and builds it again.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSealedJson, writeSealedJson } from '../sealed-json.js';
import { DEFAULT_MAX_ENTRIES, FsIndex, MAX_PATH_BYTES, type IndexEntry, type IndexLimits, type IndexRecord } from './fs-index.js';
import type { FileType } from './root.js';

/** The largest saved index read (a million entries of short names is about 60 MB). */
export const MAX_INDEX_FILE_BYTES = 256 << 20;
/** Data files one saved index may name (one per layer tar). */
export const MAX_INDEX_DATA_FILES = 100_000;

const MAGIC = 'elfpack-index/1';
const TYPES: Record<FileType, string> = { file: 'f', dir: 'd', symlink: 'l', fifo: 'p', socket: 's', char: 'c', block: 'b', other: 'o' };
const TYPE_OF = new Map(Object.entries(TYPES).map(([t, c]) => [c, t as FileType]));

interface DataFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** A record as saved: [parent, name, type, mode, size, target (symlink) or data file number, offset]. */
type SavedRecord = [number, string, string, number, number, (string | number)?, number?];

/** Writes `index` with `meta` (anything JSON can hold) to `path`, atomically. */
export async function writeIndexFile(path: string, index: FsIndex, meta: unknown): Promise<void> {
  const files: DataFile[] = [];
  const fileNumber = new Map<string, number>();
  const records: SavedRecord[] = index.snapshot().map(({ parent, name, entry: e }) => {
    const r: SavedRecord = [parent, name, TYPES[e.type], e.mode, e.size];
    if (e.type === 'symlink') r.push(e.target ?? '');
    else if (e.data) {
      let n = fileNumber.get(e.data.file);
      if (n === undefined) {
        const st = statSync(e.data.file);
        // Absolute: the index is read back from another working directory.
        n = files.push({ path: resolve(e.data.file), size: st.size, mtimeMs: st.mtimeMs }) - 1;
        fileNumber.set(e.data.file, n);
      }
      r.push(n, e.data.offset);
    }
    return r;
  });
  await writeSealedJson(path, MAGIC, { meta, files, records });
}

/** The index and metadata saved at `path`, or undefined: missing, damaged, out of bounds, or its data files changed. */
export function readIndexFile(path: string, limits: IndexLimits = {}): { index: FsIndex; meta: unknown } | undefined {
  const v = readSealedJson(path, MAGIC, MAX_INDEX_FILE_BYTES) as { meta?: unknown; files?: unknown; records?: unknown } | undefined;
  const files = dataFiles(v?.files);
  const max = (limits.maxEntries ?? DEFAULT_MAX_ENTRIES) - 1; // the root is not saved
  if (!v || !files || !Array.isArray(v.records) || v.records.length > max) return undefined;
  const records: IndexRecord[] = [];
  for (const r of v.records as unknown[]) {
    const rec = indexRecord(r, files);
    if (!rec) return undefined;
    records.push(rec);
  }
  try {
    return { index: FsIndex.restore(records, limits), meta: v.meta };
  } catch {
    return undefined; // refused by FsIndex.restore (names, parents): built again
  }
}

/** The data files, each still there with the size and mtime it had when the index was saved. */
function dataFiles(v: unknown): DataFile[] | undefined {
  if (!Array.isArray(v) || v.length > MAX_INDEX_DATA_FILES) return undefined;
  for (const f of v as Partial<DataFile>[]) {
    if (typeof f?.path !== 'string' || !f.path.startsWith('/') || !Number.isSafeInteger(f.size) || typeof f.mtimeMs !== 'number') return undefined;
    let st;
    try {
      st = statSync(f.path);
    } catch {
      return undefined; // gone, or not reachable
    }
    if (!st.isFile() || st.size !== f.size || st.mtimeMs !== f.mtimeMs) return undefined;
  }
  return v as DataFile[];
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** One saved record, checked field by field; a file's bytes must lie inside its data file. */
function indexRecord(r: unknown, files: DataFile[]): IndexRecord | undefined {
  if (!Array.isArray(r) || r.length < 5 || r.length > 7) return undefined;
  const [parent, name, t, mode, size, x, offset] = r as SavedRecord;
  const type = TYPE_OF.get(t);
  if (!Number.isSafeInteger(parent) || parent < -1 || typeof name !== 'string' || !type || !isCount(mode) || mode > 0o7777 || !isCount(size)) return undefined;
  const entry: IndexEntry = { type, mode, size };
  if (type === 'symlink') {
    if (typeof x !== 'string' || Buffer.byteLength(x) >= MAX_PATH_BYTES) return undefined;
    entry.target = x;
  } else if (x !== undefined) {
    const file = typeof x === 'number' ? files[x] : undefined;
    if (type !== 'file' || !file || !isCount(offset) || offset + size > file.size) return undefined;
    entry.data = { file: file.path, offset };
  }
  return { parent, name, entry };
}
