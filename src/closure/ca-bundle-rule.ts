// Whether the image needs the CA bundle, and which rule says so: asked for (--ca-certs), a TLS
// library in the closure (by SONAME), or a Go program whose function table holds crypto/x509 (Go
// verifies certificates itself, against the files crypto/x509/root_linux.go lists). A program that
// can do none of these never reads the bundle, so it does not carry it.
import { isGoProgram } from '../elf/notes.js';
import { findGoFunction, readGoPclntab } from '../elf/go-functions.js';
import type { Root } from '../root/root.js';
import { baseName } from '../root/resolve-path.js';

/** TLS libraries, by SONAME prefix: OpenSSL, GnuTLS, NSS, Mbed TLS, wolfSSL, LibreSSL's libtls, s2n. */
export const TLS_LIBRARIES = ['libssl.so', 'libgnutls.so', 'libnss3.so', 'libmbedtls.so', 'libwolfssl.so', 'libtls.so', 'libs2n.so'];

export interface CaBundleInputs {
  /** --bare: no extras unless asked for by name. */
  bare?: boolean;
  /** --ca-certs: the bundle whatever the closure. */
  caCerts?: boolean;
  /** Every object of the closures (programs and libraries). */
  objects: { path: string; elf: { soname?: string } }[];
  /** ELF programs and libraries to look into for Go's function table: path in the root, path in the image. */
  programs: { path: string; shown: string }[];
}

/** Why the bundle goes in ("libssl.so.3 is in the closure"), or undefined when it does not. */
export function caBundleRule(root: Root, inputs: CaBundleInputs): string | undefined {
  if (inputs.caCerts) return '--ca-certs asks for it';
  if (inputs.bare) return undefined;
  for (const prefix of TLS_LIBRARIES) {
    const o = inputs.objects.find((x) => (x.elf.soname ?? baseName(x.path)).startsWith(prefix));
    if (o) return `${o.elf.soname ?? baseName(o.path)} is in the closure`;
  }
  for (const p of inputs.programs) {
    const why = goUsesX509(root, p);
    if (why) return why;
  }
  return undefined;
}

function goUsesX509(root: Root, p: { path: string; shown: string }): string | undefined {
  const src = root.open(p.path);
  try {
    let tab;
    try {
      tab = readGoPclntab(src);
    } catch (err) {
      // A Go program whose table cannot be read may use crypto/x509: the bundle goes in, and says why.
      if (!isGoProgram(src)) return undefined;
      return `the Go program ${p.shown} has a function table elfpack cannot read (${(err as Error).message}), so it may use crypto/x509`;
    }
    if (!tab) return undefined;
    const fn = findGoFunction(src, tab, (name) => name.startsWith('crypto/x509.'));
    return fn ? `the Go program ${p.shown} uses crypto/x509 (${fn} is in its function table)` : undefined;
  } finally {
    src.close();
  }
}
