// What a FROM-scratch image lacks that programs expect (as distroless ships them): users root,
// nobody and nonroot (65532) with their home directories, /tmp writable by all with the sticky
// bit, the root's CA bundle when the program can do TLS (closure/ca-bundle-rule.ts decides), and
// on request the time zone database.
import { ElfpackError } from '../errors.js';
import { resolveInRoot } from '../root/resolve-path.js';
import type { ImageTreeBuilder } from './image-tree.js';
import { readRootFile } from '../root/read-file.js';

/**
 * The image's users. A home that is not /nonexistent is made as a directory (0700, owned by the
 * user), so HOME is writable: gpg as root creates /root/.gnupg, and fails without /root. nobody's
 * home stays absent, as on Debian: nothing may write there.
 */
export const USERS = [
  { name: 'root', uid: 0, home: '/root' },
  { name: 'nobody', uid: 65534, home: '/nonexistent' },
  { name: 'nonroot', uid: 65532, home: '/home/nonroot' },
];

export const PASSWD = USERS.map((u) => `${u.name}:x:${u.uid}:${u.uid}:${u.name}:${u.home}:/sbin/nologin\n`).join('');

/**
 * gid 65534 has two names: "nobody" first, so getgrgid(65534) names it as distroless, Alpine and
 * Fedora do (and as elfpack always has), and "nogroup", Debian's name, second, so a lookup by that
 * name works too: nginx built on Debian and run as root without a `user` directive calls
 * getgrnam("nogroup"), and stops when there is none.
 */
export const GROUP = ['root:x:0:', 'nobody:x:65534:', 'nogroup:x:65534:', 'nonroot:x:65532:', ''].join('\n');

/** Where distributions keep the CA bundle, in the order Go's crypto/x509 looks (root_linux.go). */
export const CA_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Gentoo, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL 6
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine
];

export const ZONEINFO = '/usr/share/zoneinfo';

export interface ExtrasOptions {
  users?: boolean;
  /** Why the CA bundle goes in (caBundleRule's answer); undefined: it does not. */
  caBundle?: string;
  /** --ca-certs: a root without a bundle is an error, not a note. */
  caBundleRequired?: boolean;
  tzdata?: boolean;
  /** A line for the summary about something not added. */
  onNote?: (line: string) => void;
}

/** passwd and group files past this are not read for system accounts (a real one is a few KB). */
const MAX_USERS_FILE = 1 << 20;

/** Lines of the root's passwd or group whose id is below 1000 and whose name `ours` lacks. */
function systemEntries(b: ImageTreeBuilder, path: string, ours: string): string[] {
  const st = b.root.lstat(path);
  if (st?.type !== 'file' || st.size > MAX_USERS_FILE) return [];
  const text = readRootFile(b.root, { path, size: st.size }, path).toString('utf8');
  const names = new Set(ours.split('\n').map((l) => l.split(':')[0]));
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^[a-z_][a-z0-9_.-]*\$?$/i.test(f[0]) || !/^\d+$/.test(f[2]) || Number(f[2]) >= 1000 || names.has(f[0])) continue;
    names.add(f[0]);
    out.push(`${line}\n`);
  }
  return out;
}

/** Adds the extras; returns a line for each thing added, for the summary. */
export function addExtras(b: ImageTreeBuilder, opts: ExtrasOptions): string[] {
  const notes: string[] = [];
  if (opts.users) notes.push(addUsers(b, opts.onNote));
  if (opts.caBundle) {
    const ca = CA_BUNDLES.find((p) => resolveInRoot(b.root, p).type === 'file');
    if (ca) {
      b.addRootPath(ca, 'CA bundle');
      notes.push(`${ca}: the CA bundle, because ${opts.caBundle}`);
    } else if (opts.caBundleRequired) {
      throw new ElfpackError('NOT_FOUND', `--ca-certs: no CA bundle here (looked in ${CA_BUNDLES.join(', ')}; install ca-certificates in the root)`, { step: 'ca-certs' });
    } else {
      opts.onNote?.(`no CA bundle in the root (looked in ${CA_BUNDLES.join(', ')}), although ${opts.caBundle}`);
    }
  }
  if (opts.tzdata) {
    if (resolveInRoot(b.root, ZONEINFO).type !== 'dir') throw new ElfpackError('NOT_FOUND', 'no time zone database here (install tzdata in the root)', { path: ZONEINFO, step: 'tzdata' });
    b.addRootPath(ZONEINFO, 'tzdata');
    notes.push(`${ZONEINFO}: time zones`);
  }
  return notes;
}

/**
 * passwd, group, the users' homes and /tmp. A passwd or group an --include or --add put in the
 * image is the user's choice and is kept: written over, its users would vanish without a word.
 * One a traced run read is the root's, not a choice: elfpack's is written, with the root's system
 * accounts (id below 1000) after it, since the run may have looked one up (nginx's `user
 * www-data`); people's accounts (1000 and up) never go into an image.
 */
function addUsers(b: ImageTreeBuilder, onNote?: (line: string) => void): string {
  const written: string[] = [];
  const kept: string[] = [];
  const borrowed: string[] = [];
  for (const [path, content] of [['/etc/passwd', PASSWD], ['/etc/group', GROUP]]) {
    if (b.tree.get(path) && b.isUsersChoice(path)) kept.push(path);
    else {
      const extra = b.files.get(path)?.reason === 'trace' ? systemEntries(b, path, content) : [];
      if (extra.length) borrowed.push(`${extra.length} from the root's ${path}`);
      b.addContent(path, Buffer.from(content + extra.join('')), 0o644, 'users');
      written.push(path);
    }
  }
  if (borrowed.length) onNote?.(`the traced run read the root's users: the image's passwd and group also carry its system accounts (${borrowed.join(', ')})`);
  const homes = USERS.filter((u) => u.home !== '/nonexistent');
  for (const u of homes) b.tree.addDir(u.home, 0o700, u.uid);
  b.tree.addDir('/tmp', 0o1777);
  if (kept.length) onNote?.(`elfpack's users are not in ${kept.join(', ')}: the image's own (from --include or --add) ${kept.length > 1 ? 'are' : 'is'} kept as ${kept.length > 1 ? 'they are' : 'it is'}`);
  const users = written.length ? `${written.join(', ')} (root, nobody, nonroot 65532; gid 65534 also named nogroup), ` : '';
  return `${users}${homes.map((u) => u.home).join(', ')} (0700), /tmp (1777)`;
}
