// Small files the postinst of common packages writes on a fresh install (`configure` with no old
// version, debconf's defaults as a noninteractive install takes them), made as the script makes
// them: each rule names its script's lines. Only what a running program reads, and only what is
// exact without running anything; the rest is listed in the README ("Images from packages").
import type { Root } from '../root/root.js';
import { tryResolveInRoot } from '../root/resolve-path.js';
import type { GeneratedEntry } from './ca-certificates.js';
import { readRootFile, regularFileAt } from '../root/read-file.js';

/** A file copied by a rule, at most (the real ones are under 1 KiB). */
const MAX_COPY_BYTES = 1 << 20;

/** The generated files for the packages `names` (unpacked into `root`); nothing where something is already. */
export function configureEffects(root: Root, names: ReadonlySet<string>): GeneratedEntry[] {
  const out: GeneratedEntry[] = [];
  const absent = (p: string) => root.lstat(p) === undefined;
  const isDir = (p: string) => { const r = tryResolveInRoot(root, p); return !!r && !r.missing && r.type === 'dir'; };
  // libc-bin: install_from_default /usr/share/libc-bin/nsswitch.conf /etc/nsswitch.conf (cp -p: its mode too).
  if (names.has('libc-bin') && absent('/etc/nsswitch.conf')) {
    const copy = copyOf(root, '/usr/share/libc-bin/nsswitch.conf');
    if (copy) out.push({ path: '/etc/nsswitch.conf', ...copy });
  }
  // tzdata: with no zone configured the config script picks Etc/UTC; postinst links /etc/localtime
  // to it (ln -nsf, absolute) and writes the name to /etc/timezone (umask 022).
  if (names.has('tzdata') && absent('/etc/localtime') && absent('/etc/timezone')) {
    out.push({ path: '/etc/localtime', target: '/usr/share/zoneinfo/Etc/UTC' });
    out.push({ path: '/etc/timezone', content: Buffer.from('Etc/UTC\n'), mode: 0o644 });
  }
  // nginx-common: the default site enabled (ln -s, absolute) when both directories are there, and
  // the welcome page copied (cp, umask 022) to where the default site's root is.
  if (names.has('nginx-common')) {
    if (isDir('/etc/nginx/sites-enabled') && isDir('/etc/nginx/sites-available') && absent('/etc/nginx/sites-enabled/default')) {
      out.push({ path: '/etc/nginx/sites-enabled/default', target: '/etc/nginx/sites-available/default' });
    }
    const page = absent('/var/www/html/index.nginx-debian.html') && copyOf(root, '/usr/share/nginx/html/index.html');
    if (page) out.push({ path: '/var/www/html/index.nginx-debian.html', content: page.content, mode: page.mode & 0o755 });
  }
  return out;
}

/** A regular file's bytes and mode (links followed), or undefined. */
function copyOf(root: Root, path: string): { content: Buffer; mode: number } | undefined {
  const f = regularFileAt(root, path);
  if (!f || f.size > MAX_COPY_BYTES) return undefined;
  return { content: readRootFile(root, f, path), mode: f.mode & 0o7777 };
}
