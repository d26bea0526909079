// Java's JKS keystore (sun.security.provider.JavaKeyStore, OpenJDK 17) holding trusted
// certificates only, written as KeyStore.store writes it: magic 0xFEEDFEED, version 2, the count,
// per entry tag 2, the alias (DataOutputStream.writeUTF: modified UTF-8, u16 length), the date (u64
// ms), "X.509", the DER's u32 length and the DER; then SHA-1 over the password's UTF-16BE bytes,
// "Mighty Aphrodite" and everything before. Entries go in the order the store's
// java.util.Hashtable enumerates them, so the bytes are Java's for the same entries and dates.
import { createHash } from 'node:crypto';

/** Entries, at most (Mozilla's store has about 150). */
export const MAX_KEYSTORE_ENTRIES = 100_000;
/** Java's writeUTF refuses a string whose modified UTF-8 is longer. */
const MAX_UTF_BYTES = 0xffff;

export interface TrustedCert {
  alias: string;
  der: Buffer;
  /** The entry's creation date in ms; 0 unless given (Java stamps `new Date()`). */
  date?: number;
}

/** The alias as JKS keeps it: convertAlias lowercases with Locale.ENGLISH (String.toLowerCase's root rules, as JS's). */
export function jksAlias(alias: string): string {
  return alias.toLowerCase();
}

/**
 * The JKS bytes of `certs`, set in this order with KeyStore.setCertificateEntry into an empty
 * store; an alias set again replaces the earlier entry after removing it (as Debian's
 * KeyStoreHandler.addAlias does: deleteEntry, then setCertificateEntry).
 */
export function writeJks(certs: TrustedCert[], password: string): Buffer {
  if (certs.length > MAX_KEYSTORE_ENTRIES) throw new Error(`more than ${MAX_KEYSTORE_ENTRIES} keystore entries`);
  const table = new JavaHashtable<TrustedCert>();
  for (const c of certs) {
    const alias = jksAlias(c.alias);
    table.remove(alias);
    table.put(alias, c);
  }
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeUInt32BE(0xfeedfeed, 0);
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(table.size, 8);
  parts.push(head);
  for (const [alias, c] of table.entries()) {
    const tag = Buffer.alloc(4);
    tag.writeUInt32BE(2);
    const date = Buffer.alloc(8);
    date.writeBigInt64BE(BigInt(c.date ?? 0));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(c.der.length);
    parts.push(tag, writeUtf(alias), date, writeUtf('X.509'), len, c.der);
  }
  const body = Buffer.concat(parts);
  const md = createHash('sha1').update(Buffer.from(password, 'utf16le').swap16()).update('Mighty Aphrodite', 'utf8').update(body).digest();
  return Buffer.concat([body, md]);
}

/** DataOutputStream.writeUTF: u16 byte length, then each UTF-16 unit as modified UTF-8 (U+0000 as two bytes, surrogates as three each). */
export function writeUtf(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 1 && c <= 0x7f) bytes.push(c);
    else if (c <= 0x7ff) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    if (bytes.length > MAX_UTF_BYTES) throw new Error(`a keystore alias longer than ${MAX_UTF_BYTES} bytes`);
  }
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, Buffer.from(bytes)]);
}

/** Java's String.hashCode: s[0]·31^(n-1) + … + s[n-1] over UTF-16 units, in 32-bit ints. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

interface Slot<V> { hash: number; key: string; value: V; next?: Slot<V> }

/**
 * java.util.Hashtable's layout, only as far as its enumeration order goes: capacity 11, load
 * factor 0.75, a new key at the head of its bucket, rehash to 2n+1 when count reaches the
 * threshold (old buckets from the last, each chain from its head, pushed onto the new heads), and
 * keys() from the last bucket to the first, each chain from its head.
 */
class JavaHashtable<V> {
  private table: (Slot<V> | undefined)[] = new Array(11).fill(undefined);
  private threshold = Math.floor(11 * 0.75);
  size = 0;

  private index(hash: number, length: number): number {
    return (hash & 0x7fffffff) % length;
  }

  put(key: string, value: V): void {
    const hash = javaStringHash(key);
    for (let e = this.table[this.index(hash, this.table.length)]; e; e = e.next) {
      if (e.hash === hash && e.key === key) { e.value = value; return; }
    }
    if (this.size >= this.threshold) this.rehash();
    const i = this.index(hash, this.table.length);
    this.table[i] = { hash, key, value, next: this.table[i] };
    this.size++;
  }

  remove(key: string): void {
    const hash = javaStringHash(key);
    const i = this.index(hash, this.table.length);
    for (let e = this.table[i], prev: Slot<V> | undefined; e; prev = e, e = e.next) {
      if (e.hash !== hash || e.key !== key) continue;
      if (prev) prev.next = e.next;
      else this.table[i] = e.next;
      this.size--;
      return;
    }
  }

  private rehash(): void {
    const old = this.table;
    const capacity = old.length * 2 + 1;
    this.table = new Array(capacity).fill(undefined);
    // (int) of a float product: exact here, capacities stay far below 2^24.
    this.threshold = Math.floor(capacity * 0.75);
    for (let i = old.length; i-- > 0;) {
      for (let e = old[i]; e;) {
        const next = e.next;
        const j = this.index(e.hash, capacity);
        e.next = this.table[j];
        this.table[j] = e;
        e = next;
      }
    }
  }

  *entries(): Generator<[string, V]> {
    for (let i = this.table.length; i-- > 0;) {
      for (let e = this.table[i]; e; e = e.next) yield [e.key, e.value];
    }
  }
}
