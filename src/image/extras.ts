// What a FROM-scratch image lacks that programs expect (as distroless ships them): users root,
// nobody and nonroot (65532), /tmp writable by all with the sticky bit, the root's CA bundle when
// the program can do TLS (closure/ca-bundle-rule.ts decides), and on request the time zone database.
import { ElfpackError } from '../errors.js';
import { resolveInRoot } from '../root/resolve-path.js';
import type { ImageTreeBuilder } from './image-tree.js';

export const PASSWD = [
  'root:x:0:0:root:/root:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin',
  'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin',
  '',
].join('\n');

export const GROUP = ['root:x:0:', 'nobody:x:65534:', 'nonroot:x:65532:', ''].join('\n');

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

/** Adds the extras; returns a line for each thing added, for the summary. */
export function addExtras(b: ImageTreeBuilder, opts: ExtrasOptions): string[] {
  const notes: string[] = [];
  if (opts.users) {
    b.addContent('/etc/passwd', Buffer.from(PASSWD), 0o644, 'users');
    b.addContent('/etc/group', Buffer.from(GROUP), 0o644, 'users');
    b.tree.addDir('/home/nonroot', 0o700, 65532);
    b.tree.addDir('/tmp', 0o1777);
    notes.push('/etc/passwd, /etc/group (root, nobody, nonroot 65532), /tmp (1777)');
  }
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
