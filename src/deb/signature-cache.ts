// gpgv's verdict on an InRelease, remembered in the cache (CACHE/lists/verified/KEY): the same
// InRelease bytes checked against the same keyring bytes give the same signers and signed text, so
// a run that fetches an unchanged InRelease does not run gpgv again. The key is the SHA256 of the
// InRelease's bytes with the SHA256 of each keyring's bytes (file or inline block, in order) and
// the gpgv program named; only a good verdict is kept, and for at most MAX_VERDICT_AGE_MS, so a key
// that expired since is noticed within a day (a changed keyring file, at once: its bytes are in the
// key). The cache is the user's own directory, trusted as deb-data/ already is (what is unpacked
// from there is not hashed again); a damaged entry (src/sealed-json.ts) is ignored and gpgv runs.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { readSealedJson, writeSealedJson } from '../sealed-json.js';
import { MAX_KEYRING_BYTES, verifyClearsigned, type Keyring, type VerifiedText } from './signature.js';

/** How long a remembered verdict is used. */
export const MAX_VERDICT_AGE_MS = 24 * 3600 * 1000;
/** The largest remembered verdict read (an InRelease is at most 16 MiB: archive.ts). */
const MAX_VERDICT_BYTES = 64 << 20;
// 2: a verdict holds each signer's primary key too (Signed-By's fingerprints match on it).
const MAGIC = 'elfpack-gpgv-verdict/2';
const FINGERPRINT = /^[0-9A-F]{16,64}$/;

export interface VerifyCacheOptions {
  /** The elfpack cache's deb/ directory. */
  cacheDir: string;
  gpgv?: string;
  /** The clock (tests). */
  now?: () => number;
}

/** verifyClearsigned, answered from the cache when these bytes were verified with these keyrings before. */
export async function verifyClearsignedCached(signed: Buffer, keyrings: Keyring[], what: string, opts: VerifyCacheOptions): Promise<VerifiedText> {
  const key = verdictKey(signed, keyrings, opts.gpgv ?? 'gpgv');
  // A keyring that cannot be read: gpgv's own run says what is wrong with it.
  if (!key) return verifyClearsigned(signed, keyrings, what, opts.gpgv);
  const now = (opts.now ?? Date.now)();
  const file = join(opts.cacheDir, 'lists', 'verified', key);
  const v = readSealedJson(file, MAGIC, MAX_VERDICT_BYTES) as { key?: unknown; at?: unknown; signers?: unknown; primarySigners?: unknown; text?: unknown } | undefined;
  const fingerprints = (a: unknown): a is string[] => Array.isArray(a) && a.length > 0 && a.length <= 16 && a.every((s) => typeof s === 'string' && FINGERPRINT.test(s));
  if (v && v.key === key && typeof v.at === 'number' && v.at <= now && now - v.at < MAX_VERDICT_AGE_MS && typeof v.text === 'string' && v.text.length <= signed.length
    && fingerprints(v.signers) && fingerprints(v.primarySigners) && v.primarySigners.length === v.signers.length) {
    return { text: v.text, signers: v.signers, primarySigners: v.primarySigners };
  }
  const verified = await verifyClearsigned(signed, keyrings, what, opts.gpgv);
  const dir = join(opts.cacheDir, 'lists', 'verified');
  mkdirSync(dir, { recursive: true });
  removeOldVerdicts(dir, now);
  await writeSealedJson(file, MAGIC, { key, at: now, signers: verified.signers, primarySigners: verified.primarySigners, text: verified.text });
  return verified;
}

/** Verdicts past their age are of no use: each InRelease an archive published would otherwise stay (150 KB each). */
function removeOldVerdicts(dir: string, now: number): void {
  for (const name of readdirSync(dir).slice(0, 10_000)) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue; // temporaries are temp-files.ts's to clean
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > MAX_VERDICT_AGE_MS) rmSync(path, { force: true });
    } catch {
      // raced with another run: nothing to do
    }
  }
}

/** The SHA256 naming a verdict, or undefined when a keyring file cannot be read (or is too large). */
function verdictKey(signed: Buffer, keyrings: Keyring[], gpgv: string): string | undefined {
  const rings: string[] = [];
  for (const k of keyrings) {
    if (k.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      rings.push(createHash('sha256').update(k).digest('hex'));
      continue;
    }
    const path = isAbsolute(k) ? k : resolve(k);
    try {
      if (statSync(path).size > MAX_KEYRING_BYTES) return undefined;
      rings.push(createHash('sha256').update(readFileSync(path)).digest('hex'));
    } catch {
      return undefined;
    }
  }
  const inRelease = createHash('sha256').update(signed).digest('hex');
  return createHash('sha256').update(JSON.stringify({ v: 2, inRelease, rings, gpgv })).digest('hex');
}
