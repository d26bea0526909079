// What ca-certificates-java's postinst leaves in a fresh root, made without Java: on a first
// configure it marks the store "fresh", lists /etc/ssl/certs/*.pem links into
// /usr/share/ca-certificates (`find … | sort`, the C locale's byte order as in a build with no
// LANG), and feeds "+/etc/ssl/certs/NAME.pem" lines to its jar (org.debian.security.UpdateCertificates),
// which loads each file with CertificateFactory (its first certificate), sets it under the alias
// "debian:NAME.pem" in an empty KeyStore.getInstance("JKS") and stores that with the password
// "changeit" (/etc/default/cacerts may set another) at /etc/ssl/certs/java/cacerts. So the store
// is JKS, not PKCS12: Debian's own choice (its postinst even converts old PKCS12 stores to JKS).
// Entry dates are 0, not the time of the run, so that the same packages give the same bytes.
import { ElfpackError } from '../errors.js';
import { escapeName } from '../escape.js';
import type { Root } from '../root/root.js';
import type { GeneratedEntry } from './ca-certificates.js';
import { writeJks, type TrustedCert } from './java-keystore.js';
import { MAX_CERT_DER_BYTES } from './subject-hash.js';
import { readRootFile, regularFileAt } from '../root/read-file.js';

export const JAVA_CACERTS = '/etc/ssl/certs/java/cacerts';
export const CACERTS_DEFAULTS = '/etc/default/cacerts';
const DEFAULT_STOREPASS = 'changeit';
/** /etc/default/cacerts read, at most (the package's is 400 bytes). */
const MAX_DEFAULTS_BYTES = 64 << 10;

/** A certificate link update-ca-certificates makes: /etc/ssl/certs/NAME.pem, and the file it leads to. */
export interface PemLink {
  name: string;
  bytes: Buffer;
}

/** The keystore for the `pems` links (undefined when /etc/default/cacerts turns updates off); what is left out goes to `warnings`. */
export function javaCacertsFile(root: Root, pems: PemLink[], warnings: string[]): GeneratedEntry | undefined {
  const defaults = readDefaults(root, warnings);
  if (defaults.updates !== 'yes') {
    warnings.push(`ca-certificates-java: ${CACERTS_DEFAULTS} sets cacerts_updates=${escapeName(defaults.updates)}: ${JAVA_CACERTS} not made`);
    return undefined;
  }
  const sorted = [...pems].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  const certs: TrustedCert[] = [];
  for (const p of sorted) {
    const der = firstCertificate(p.bytes);
    if (!der) {
      warnings.push(`ca-certificates-java: /etc/ssl/certs/${escapeName(p.name)}: no certificate Java would read: left out of ${JAVA_CACERTS}`);
      continue;
    }
    certs.push({ alias: `debian:${p.name}`, der });
  }
  try {
    return { path: JAVA_CACERTS, content: writeJks(certs, defaults.storepass), mode: 0o644 };
  } catch (err) {
    // Only a bound can fail here (entries, an alias's length), which Java would not meet either.
    throw new ElfpackError('DEB_LIMIT', `${(err as Error).message}: refused`, { path: JAVA_CACERTS, step: 'ca-certificates-java', cause: err });
  }
}

/**
 * storepass and cacerts_updates as the postinst's `. /etc/default/cacerts` sets them, for plain
 * assignments only (the package's file sets cacerts_updates=yes and leaves storepass commented).
 */
function readDefaults(root: Root, warnings: string[]): { storepass: string; updates: string } {
  const out = { storepass: DEFAULT_STOREPASS, updates: 'yes' };
  const f = regularFileAt(root, CACERTS_DEFAULTS);
  if (!f || !f.size) return out;
  if (f.size > MAX_DEFAULTS_BYTES) {
    warnings.push(`ca-certificates-java: ${CACERTS_DEFAULTS}: more than ${MAX_DEFAULTS_BYTES} bytes: not read`);
    return out;
  }
  const text = readRootFile(root, f, CACERTS_DEFAULTS).toString('utf8');
  for (const line of text.split('\n')) {
    const m = /^\s*(storepass|cacerts_updates)=(.*?)\s*$/.exec(line);
    if (!m) continue;
    // '…', "…" without expansions, or a bare word: what the shell would assign without running anything.
    const v = /^'([^']*)'$|^"([^"$`\\]*)"$|^([^\s'"$`\\;&|<>()#]*)$/.exec(m[2]);
    if (!v) {
      warnings.push(`ca-certificates-java: ${CACERTS_DEFAULTS}: ${m[1]}= is not a plain value: the default is used`);
      continue;
    }
    const value = v[1] ?? v[2] ?? v[3];
    if (m[1] === 'cacerts_updates') out.updates = value;
    // The postinst passes an empty storepass on, which the jar refuses; keep the default then.
    else if (value) out.storepass = value;
  }
  return out;
}

/**
 * The DER of the first certificate of a PEM file, as Java's X509Factory reads one block (text
 * before it skipped); undefined when there is none or its DER is not one whole SEQUENCE.
 */
export function firstCertificate(bytes: Buffer): Buffer | undefined {
  const text = bytes.subarray(0, 4 * MAX_CERT_DER_BYTES).toString('latin1');
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END \1-----/.exec(text);
  if (!m || m[1] !== 'CERTIFICATE') return undefined;
  const der = Buffer.from(m[2].replace(/\s+/g, ''), 'base64');
  if (der.length < 2 || der.length > MAX_CERT_DER_BYTES || der[0] !== 0x30) return undefined;
  let len = der[1];
  let at = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || der.length < 2 + n) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
    at = 2 + n;
  }
  return at + len === der.length ? der : undefined;
}
