// OpenSSL's subject-name hash of a certificate (X509_NAME_hash_ex, what `openssl rehash` and
// `openssl x509 -hash` print): the first four bytes of SHA-1, little-endian, over the name's
// canonical encoding (crypto/x509/x_name.c, x509_name_canon and asn1_string_canon): each RDN's SET
// re-encoded with every string value converted to a UTF8String, ASCII lowercased, leading and
// trailing whitespace dropped and inner runs of it made one space; the SETs concatenated without
// the Name's outer SEQUENCE. Read with a flat DER walk over bounded lengths, no recursion.
import { createHash } from 'node:crypto';

/** A certificate's DER, at most (the largest in Mozilla's store are under 2 KiB). */
export const MAX_CERT_DER_BYTES = 64 << 10;
/** RDNs of a name, and attributes of one RDN, at most. */
const MAX_NAME_PARTS = 256;

interface Tlv {
  tag: number;
  /** Where the value starts and ends in the buffer. */
  start: number;
  end: number;
  /** Where the whole TLV starts. */
  at: number;
}

function readTlv(b: Buffer, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error('truncated DER');
  const tag = b[at];
  if ((tag & 0x1f) === 0x1f) throw new Error('a high tag number, which no certificate name uses');
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) throw new Error('a DER length elfpack does not read');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  if (start + len > limit) throw new Error('a DER length past its container');
  return { tag, start, end: start + len, at };
}

/** The TLVs directly inside a constructed value. */
function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = t.start; at < t.end;) {
    if (out.length >= MAX_NAME_PARTS) throw new Error(`more than ${MAX_NAME_PARTS} parts in one DER value`);
    const c = readTlv(b, at, t.end);
    out.push(c);
    at = c.end;
  }
  return out;
}

function encodeTlv(tag: number, value: Buffer): Buffer {
  const n = value.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), value]);
}

/** The string types OpenSSL canonicalizes (ASN1_MASK_CANON), with how their bytes map to characters (tag2nbyte). */
const CANON: Record<number, 'utf8' | 'latin1' | 'ucs2' | 'ucs4'> = {
  0x0c: 'utf8', 0x13: 'latin1', 0x14: 'latin1', 0x16: 'latin1', 0x1a: 'latin1', 0x1e: 'ucs2', 0x1c: 'ucs4',
};

function toUtf8(kind: 'utf8' | 'latin1' | 'ucs2' | 'ucs4', v: Buffer): Buffer {
  if (kind === 'utf8') {
    // OpenSSL refuses invalid UTF-8 here, and then has no hash.
    if (!Buffer.from(v.toString('utf8'), 'utf8').equals(v)) throw new Error('a UTF8String that is not UTF-8');
    return v;
  }
  if (kind === 'latin1') return Buffer.from(v.toString('latin1'), 'utf8');
  const width = kind === 'ucs2' ? 2 : 4;
  if (v.length % width) throw new Error('a BMPString or UniversalString of odd length');
  const cps: number[] = [];
  for (let i = 0; i < v.length; i += width) {
    const cp = width === 2 ? v.readUInt16BE(i) : v.readUInt32BE(i);
    if (cp > 0x10ffff) throw new Error('a UniversalString character past U+10FFFF');
    cps.push(cp);
  }
  return Buffer.from(String.fromCodePoint(...cps), 'utf8');
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** asn1_string_canon on UTF-8 bytes: trim, collapse whitespace runs to one space, lowercase ASCII. */
function canonText(s: Buffer): Buffer {
  let from = 0;
  let to = s.length;
  while (from < to && isSpace(s[from])) from++;
  while (to > from && isSpace(s[to - 1])) to--;
  const out: number[] = [];
  for (let i = from; i < to;) {
    const c = s[i];
    if (c >= 0x80) { out.push(c); i++; } else if (isSpace(c)) {
      out.push(0x20);
      while (i < to && isSpace(s[i])) i++;
    } else {
      out.push(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
      i++;
    }
  }
  return Buffer.from(out);
}

/** The canonical encoding of a Name (its DER TLV in `b`). */
function canonicalName(b: Buffer, name: Tlv): Buffer {
  if (name.tag !== 0x30) throw new Error('the subject is not a SEQUENCE');
  const sets: Buffer[] = [];
  for (const rdn of children(b, name)) {
    if (rdn.tag !== 0x31) throw new Error('an RDN that is not a SET');
    const avas = children(b, rdn).map((ava) => {
      if (ava.tag !== 0x30) throw new Error('an attribute that is not a SEQUENCE');
      const [oid, value, ...rest] = children(b, ava);
      if (!oid || oid.tag !== 0x06 || !value || rest.length) throw new Error('an attribute that is not OID and value');
      const kind = CANON[value.tag];
      const v = kind ? encodeTlv(0x0c, canonText(toUtf8(kind, b.subarray(value.start, value.end)))) : b.subarray(value.at, value.end);
      return encodeTlv(0x30, Buffer.concat([b.subarray(oid.at, oid.end), v]));
    });
    // DER's SET OF order: by the encodings' bytes (OpenSSL's der_cmp: the common prefix, then the shorter first).
    avas.sort((x, y) => Buffer.compare(x.subarray(0, Math.min(x.length, y.length)), y.subarray(0, Math.min(x.length, y.length))) || x.length - y.length);
    sets.push(encodeTlv(0x31, Buffer.concat(avas)));
  }
  return Buffer.concat(sets);
}

/** The subject hash of a DER certificate as `openssl x509 -hash` prints it ("3bde41ac"). Throws on what it cannot read. */
export function subjectHash(der: Buffer): string {
  if (der.length > MAX_CERT_DER_BYTES) throw new Error(`a certificate of more than ${MAX_CERT_DER_BYTES} bytes`);
  const cert = readTlv(der, 0, der.length);
  if (cert.tag !== 0x30) throw new Error('not a certificate');
  const tbs = children(der, cert)[0];
  if (tbs?.tag !== 0x30) throw new Error('no TBSCertificate');
  const f = children(der, tbs);
  const i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] version, when not v1
  // serialNumber, signature, issuer, validity, subject
  const subject = f[i + 4];
  if (!subject) throw new Error('no subject');
  const md = createHash('sha1').update(canonicalName(der, subject)).digest();
  return md.readUInt32LE(0).toString(16).padStart(8, '0');
}

/** The DER of the one certificate a PEM file holds; undefined when it holds anything else (openssl rehash skips such a file). */
export function singlePemCertificate(text: string): Buffer | undefined {
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (blocks.length !== 1 || blocks[0][1] !== 'CERTIFICATE') return undefined;
  const body = blocks[0][2];
  if (/[^A-Za-z0-9+/=\s]/.test(body)) return undefined; // headers (Proc-Type…) are not a plain certificate
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}
