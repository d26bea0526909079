// /etc/ld.so.conf as ldconfig reads it (glibc elf/ldconfig.c parse_conf): "#" comments,
// "include PATTERN..." with glob patterns relative to the including file's directory, "hwcap"
// lines ignored, any other line one directory ("dir=type" suffixes of old files dropped).
import { resolveInRoot, dirName, splitPath, joinPath } from '../root/resolve-path.js';
import type { Root } from '../root/root.js';

const MAX_CONF_BYTES = 1 << 20;
const MAX_INCLUDE_FILES = 1024;

export interface LdSoConf {
  /** Library directories in the order listed, duplicates removed. */
  dirs: string[];
  /** Every configuration file read, in order. */
  files: string[];
}

export function readLdSoConf(root: Root, path = '/etc/ld.so.conf'): LdSoConf {
  const out: LdSoConf = { dirs: [], files: [] };
  const seen = new Set<string>(); // an include cycle reads each file once
  parseConf(root, path, out, seen);
  return out;
}

function readText(root: Root, path: string): string | undefined {
  const r = resolveInRoot(root, path);
  if (r.type !== 'file') return undefined;
  const src = root.open(r.path);
  try {
    return src.read(0, Math.min(src.size, MAX_CONF_BYTES), path).toString('utf8');
  } finally {
    src.close();
  }
}

function parseConf(root: Root, path: string, out: LdSoConf, seen: Set<string>): void {
  let real: string;
  try {
    real = resolveInRoot(root, path).path;
  } catch {
    return; // a symlink loop reads as an absent file, as ldconfig's fopen would fail
  }
  if (seen.has(real) || seen.size >= MAX_INCLUDE_FILES) return;
  seen.add(real);
  let text: string | undefined;
  try {
    text = readText(root, path);
  } catch {
    text = undefined;
  }
  if (text === undefined) return;
  out.files.push(path);
  for (const raw of text.split('\n')) {
    const line = raw.split('#')[0].trim();
    if (!line) continue;
    const inc = /^include[ \t]+(.*)$/.exec(line);
    if (inc) {
      for (const pat of inc[1].split(/[ \t]+/).filter(Boolean)) {
        const abs = pat.startsWith('/') ? pat : `${dirName(path)}/${pat}`;
        for (const file of globInRoot(root, abs)) parseConf(root, file, out, seen);
      }
      continue;
    }
    if (/^hwcap[ \t]/i.test(line)) continue;
    let dir = line.replace(/=.*$/, '').trim();
    dir = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
    // ldconfig warns about relative directories; the loader could never use them.
    if (dir.startsWith('/') && !out.dirs.includes(dir)) out.dirs.push(dir);
  }
}

/** Shell glob (*, ?, [...]) inside a root, results sorted as glob(3) sorts them. */
export function globInRoot(root: Root, pattern: string): string[] {
  let matches: string[][] = [[]];
  for (const part of splitPath(pattern)) {
    const next: string[][] = [];
    for (const prefix of matches) {
      if (!/[*?[]/.test(part)) {
        next.push([...prefix, part]);
        continue;
      }
      let dir: string;
      try {
        dir = resolveInRoot(root, joinPath(prefix)).path;
      } catch {
        continue;
      }
      const re = globToRegExp(part);
      for (const name of (root.readdir(dir) ?? []).sort()) {
        if (re.test(name)) next.push([...prefix, name]);
      }
    }
    matches = next;
  }
  return matches.map(joinPath).filter((p) => {
    try {
      return resolveInRoot(root, p).type !== undefined;
    } catch {
      return false;
    }
  }).sort();
}

function globToRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = part.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  // glob(3) without GLOB_PERIOD: a leading "." must be matched literally
  return new RegExp(part.startsWith('.') ? `^${re}$` : `^(?!\\.)${re}$`);
}
