// One entry of a .deb's data.tar, checked the way nothing it names can leave the root it is
// unpacked into: names are relative ("./usr/bin/jq", as dpkg-deb writes them) and never climb with
// ".."; a symbolic link's target, taken from where the link is, never climbs above "/" (an
// absolute target is a path of the root, as dpkg's chroot-relative view has it); a hard link
// names an entry of the same archive. dpkg-deb refuses the same ("…contains a path with '..'").
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import { MAX_PATH_BYTES, MAX_PATH_COMPONENTS } from '../root/fs-index.js';

export type DebEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface DebEntry {
  /** The absolute path it installs to: "/usr/bin/jq"; "/" for the archive's "./". */
  path: string;
  type: DebEntryType;
  /** Permission bits with set-id and sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of a regular file (0 for the rest). */
  size: number;
  /** A symlink's target as stored; a hard link's target as an absolute path. */
  target?: string;
  /** Seconds since the epoch, as stored. */
  mtime: number;
}

export interface TarHeaderLike {
  name: string;
  type?: string | null;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  linkname?: string | null;
  mtime?: Date;
}

const TYPES: Record<string, DebEntryType> = {
  file: 'file', 'contiguous-file': 'file', directory: 'dir', symlink: 'symlink', link: 'hardlink',
  'character-device': 'char', 'block-device': 'block', fifo: 'fifo',
};

function refused(label: string, what: string, name: string): ElfpackError {
  return new ElfpackError('DEB_MALFORMED', `data.tar: ${what}: ${escapeName(name.slice(0, 200))}: refused`, { path: label, step: 'deb' });
}

/** The components of a name that stays in the root, or an error naming the file. */
export function entryComponents(name: string, label: string): string[] {
  if (Buffer.byteLength(name) >= MAX_PATH_BYTES) throw new ElfpackError('DEB_LIMIT', `data.tar: a path is longer than ${MAX_PATH_BYTES - 1} bytes ("${escapeName(name.slice(0, 60))}…"): refused`, { path: label, step: 'deb' });
  if (name.startsWith('/')) throw refused(label, 'an absolute path', name);
  const parts = name.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw refused(label, 'a path with ".."', name);
  if (parts.length > MAX_PATH_COMPONENTS) throw new ElfpackError('DEB_LIMIT', `data.tar: a path has more than ${MAX_PATH_COMPONENTS} components: refused`, { path: label, step: 'deb' });
  return parts;
}

/** Whether a link at `parts` with `target` stays inside the root (".." never above "/"). */
function linkStaysInside(parts: string[], target: string): boolean {
  let depth = target.startsWith('/') ? 0 : parts.length - 1;
  for (const c of target.split('/')) {
    if (c === '..') depth--;
    else if (c !== '' && c !== '.') depth++;
    if (depth < 0) return false;
  }
  return true;
}

/** A tar header of data.tar as a checked entry. */
export function debEntryOf(h: TarHeaderLike, label: string): DebEntry {
  const parts = entryComponents(h.name, label);
  const type = TYPES[h.type ?? 'file'];
  if (!type) throw refused(label, `an entry of type ${escapeName(String(h.type))}`, h.name);
  const entry: DebEntry = {
    path: `/${parts.join('/')}`, type, mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0,
    size: type === 'file' ? h.size ?? 0 : 0, mtime: h.mtime ? Math.floor(h.mtime.getTime() / 1000) : 0,
  };
  if (type === 'symlink') {
    const target = h.linkname ?? '';
    if (!target) throw refused(label, 'a symbolic link without a target', h.name);
    if (Buffer.byteLength(target) >= MAX_PATH_BYTES) throw new ElfpackError('DEB_LIMIT', `data.tar: a symbolic link's target is longer than ${MAX_PATH_BYTES - 1} bytes: refused`, { path: label, step: 'deb' });
    if (!linkStaysInside(parts, target)) throw refused(label, `a symbolic link out of the root (to ${escapeName(target.slice(0, 200))})`, h.name);
    entry.target = target;
  } else if (type === 'hardlink') {
    if (!h.linkname) throw refused(label, 'a hard link without a target', h.name);
    entry.target = `/${entryComponents(h.linkname, label).join('/')}`;
  }
  return entry;
}
