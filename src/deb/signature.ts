// An InRelease's OpenPGP clearsigned signature checked as apt checks it: by gpgv against the given
// keyrings only (a fresh home, no trust database), its status lines read as apt's gpgv method reads
// them (a BADSIG refuses, one VALIDSIG with a strong digest accepts), and the text used is the one
// gpgv wrote out as signed, never our own reading of the armor.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ElfpackError } from '../errors.js';

/** Debian's archive keyring, as debian-archive-keyring installs it (apt's default Signed-By there). */
export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** A keyring file larger than this is refused (Debian's whole keyring is 56 KB). */
export const MAX_KEYRING_BYTES = 16 << 20;
/** How long gpgv may take. */
export const GPGV_TIMEOUT_MS = 60_000;

// Digests apt counts as weak (OpenPGP hash algorithm ids): MD5, SHA1, RIPEMD160.
const WEAK_DIGESTS = new Set(['1', '2', '3']);

export interface VerifiedText {
  /** The signed text, as gpgv wrote it out. */
  text: string;
  /** Fingerprints of the keys whose signatures were good (a subkey's when a subkey signed). */
  signers: string[];
  /** For each of `signers`, in the same order, its primary key's fingerprint (the same for a primary key). */
  primarySigners: string[];
}

/** A keyring: a file (binary or armored), or an armored key block given inline (Signed-By). */
export type Keyring = string;

/**
 * Checks `signed` (an InRelease) and returns its signed text. `what` names it in errors (its URL).
 * Throws DEB_SIGNATURE when gpgv is missing, a signature is bad, or no key of `keyrings` signed it.
 */
export async function verifyClearsigned(signed: Buffer, keyrings: Keyring[], what: string, gpgv = 'gpgv'): Promise<VerifiedText> {
  checkArmorFrame(signed, what);
  const home = mkdtempSync(join(tmpdir(), 'elfpack-gpgv-'));
  try {
    const args = ['--homedir', home, '--status-fd', '3', '--output', '-'];
    keyrings.forEach((k, i) => args.push('--keyring', keyringFile(k, join(home, `keyring-${i}.gpg`))));
    const input = join(home, 'signed');
    writeFileSync(input, signed);
    args.push(input);
    const run = await runGpgv(gpgv, args, signed.length + 4096, what);
    return judge(run, what);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * apt refuses an InRelease with anything outside the signed frame (CVE-2013-1051 style: data gpgv
 * ignores but a reader would take), or with a second signed message inside.
 */
function checkArmorFrame(signed: Buffer, what: string): void {
  const text = signed.toString('latin1');
  const bad = (why: string) => new ElfpackError('DEB_SIGNATURE', `${why}: not a clearsigned InRelease, refused`, { path: what, step: 'deb-verify' });
  if (!/^-----BEGIN PGP SIGNED MESSAGE-----\r?\n/.test(text)) throw bad('it does not start with "-----BEGIN PGP SIGNED MESSAGE-----"');
  if (text.indexOf('-----BEGIN PGP SIGNED MESSAGE-----', 1) >= 0) throw bad('a second signed message inside');
  const end = text.lastIndexOf('-----END PGP SIGNATURE-----');
  if (end < 0) throw bad('no "-----END PGP SIGNATURE-----"');
  if (text.slice(end + 27).trim() !== '') throw bad('data after the signature');
  if (text.indexOf('-----BEGIN PGP SIGNATURE-----') !== text.lastIndexOf('-----BEGIN PGP SIGNATURE-----')) throw bad('two signature blocks');
}

/** A file gpgv can read: binary keyrings as they are; armored ones (file or inline) turned binary. */
function keyringFile(k: Keyring, scratch: string): string {
  const inline = k.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----');
  if (!inline) {
    const path = isAbsolute(k) ? k : resolve(k); // gpgv takes a bare name as one in its home
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new ElfpackError('DEB_SIGNATURE', 'keyring not found', { path, step: 'deb-verify' });
    }
    if (size > MAX_KEYRING_BYTES) throw new ElfpackError('DEB_SIGNATURE', `keyring larger than ${MAX_KEYRING_BYTES >> 20} MiB`, { path, step: 'deb-verify' });
    const head = readFileSync(path);
    if (!head.toString('latin1', 0, 4096).includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return path;
    k = head.toString('latin1');
  }
  writeFileSync(scratch, dearmor(k));
  return scratch;
}

/**
 * The binary packets of every armored block in `text` (RFC 4880 §6.2: header lines, a blank line,
 * base64, an optional "=" checksum line, the end line).
 */
export function dearmor(text: string): Buffer {
  const parts: Buffer[] = [];
  const lines = text.split(/\r?\n/);
  let state: 'out' | 'headers' | 'body' = 'out';
  let b64 = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (state === 'out') {
      if (line.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')) state = 'headers';
    } else if (state === 'headers') {
      if (line === '') state = 'body';
      else if (!line.includes(':')) {
        state = 'body'; // no headers and no blank line: the data started
        b64 += line;
      }
    } else if (line.startsWith('-----END PGP PUBLIC KEY BLOCK-----')) {
      parts.push(Buffer.from(b64, 'base64'));
      b64 = '';
      state = 'out';
    } else if (!line.startsWith('=')) b64 += line;
  }
  return Buffer.concat(parts);
}

interface GpgvRun {
  code: number | null;
  stdout: Buffer;
  status: string;
  stderr: string;
}

function runGpgv(gpgv: string, args: string[], maxOut: number, what: string): Promise<GpgvRun> {
  return new Promise((done, fail) => {
    const child = spawn(gpgv, args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    const out: Buffer[] = [];
    let outBytes = 0;
    let status = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), GPGV_TIMEOUT_MS);
    child.stdout!.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes <= maxOut) out.push(c);
      else child.kill('SIGKILL');
    });
    child.stderr!.on('data', (c: Buffer) => { if (stderr.length < 16384) stderr += c.toString('utf8'); });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => { if (status.length < 65536) status += c.toString('utf8'); });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') fail(new ElfpackError('DEB_SIGNATURE', `gpgv is not installed; it checks the archive's signature as apt does (Debian: apt-get install gpgv)`, { path: what, step: 'deb-verify', cause: err }));
      else fail(new ElfpackError('DEB_SIGNATURE', `cannot run gpgv: ${err.message}`, { path: what, step: 'deb-verify', cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (outBytes > maxOut) return fail(new ElfpackError('DEB_SIGNATURE', `gpgv wrote more than the signed file holds`, { path: what, step: 'deb-verify' }));
      done({ code, stdout: Buffer.concat(out), status, stderr });
    });
  });
}

/**
 * apt's reading of gpgv's status lines (apt-pkg's gpgv method): any BADSIG refuses; a signature
 * counts when gpgv said both GOODSIG (not EXPKEYSIG or REVKEYSIG) and VALIDSIG with a strong digest.
 */
function judge(run: GpgvRun, what: string): VerifiedText {
  const lines = run.status.split('\n').filter((l) => l.startsWith('[GNUPG:] ')).map((l) => l.slice(9).trim().split(' '));
  const refuse = (why: string) => new ElfpackError('DEB_SIGNATURE', `${why}`, { path: what, step: 'deb-verify' });
  const bad = lines.find((l) => l[0] === 'BADSIG');
  if (bad) throw refuse(`BAD signature by key ${bad[1]}: the file was changed after it was signed; refused`);
  // One group of lines per signature: gpgv starts each with NEWSIG.
  const groups: string[][][] = [];
  for (const l of lines) {
    if (l[0] === 'NEWSIG' || groups.length === 0) groups.push([]);
    groups[groups.length - 1].push(l);
  }
  const signers: string[] = [];
  const primarySigners: string[] = [];
  let weak = false;
  for (const g of groups) {
    const valid = g.find((l) => l[0] === 'VALIDSIG');
    if (!valid || !g.some((l) => l[0] === 'GOODSIG')) continue;
    if (WEAK_DIGESTS.has(valid[8] ?? '')) weak = true;
    else {
      signers.push(valid[1]);
      // VALIDSIG's last field (gpg's DETAILS) is the primary key's fingerprint; old gpgs leave it out.
      primarySigners.push(/^[0-9A-F]{40,64}$/.test(valid[10] ?? '') ? valid[10] : valid[1]);
    }
  }
  if (signers.length === 0) {
    const missing = lines.filter((l) => l[0] === 'NO_PUBKEY').map((l) => l[1]);
    const expired = lines.filter((l) => l[0] === 'EXPKEYSIG' || l[0] === 'REVKEYSIG').map((l) => `${l[1]} (${l[0] === 'EXPKEYSIG' ? 'expired' : 'revoked'})`);
    const why = weak ? 'signed only with a weak digest (MD5, SHA1 or RIPEMD160)'
      : missing.length || expired.length ? `not signed by a key of the keyring: signed by ${[...missing, ...expired].join(', ')}`
        : `no valid signature (gpgv: ${run.stderr.trim().split('\n').pop() || `exit ${run.code}`})`;
    throw refuse(`${why}; refused (--keyring FILE gives the archive's key)`);
  }
  return { text: run.stdout.toString('utf8'), signers, primarySigners };
}

/**
 * The signatures that count under a Signed-By listing fingerprints, as apt's gpgv method filters
 * them: a fingerprint counts a signature by that key or by a subkey of it (the primary key's
 * fingerprint), one ending in "!" only a signature by exactly that (sub)key. None left: DEB_SIGNATURE,
 * naming the signers and where the Signed-By was read.
 */
export function checkSignedBy(v: VerifiedText, fingerprints: string[], origin: string, what: string): VerifiedText {
  const exact = new Set(fingerprints.filter((f) => f.endsWith('!')).map((f) => f.slice(0, -1)));
  const any = new Set(fingerprints.filter((f) => !f.endsWith('!')));
  const keep = v.signers.map((s, i) => any.has(s) || exact.has(s) || any.has(v.primarySigners[i] ?? s));
  if (!keep.some(Boolean)) {
    const named = v.signers.map((s, i) => (v.primarySigners[i] && v.primarySigners[i] !== s ? `${s} (a subkey of ${v.primarySigners[i]})` : s));
    throw new ElfpackError('DEB_SIGNATURE', `signed by ${named.join(', ')}, which the source's Signed-By (${origin}) does not list`, { path: what, step: 'deb-verify' });
  }
  return { text: v.text, signers: v.signers.filter((_, i) => keep[i]), primarySigners: v.primarySigners.filter((_, i) => keep[i]) };
}

/**
 * The text of a clearsigned message read without checking it (only for --insecure-no-verify):
 * after the armor headers, up to the signature, dash-escapes undone (RFC 4880 §7.1). A file that
 * is not clearsigned (a plain Release) is returned as it is.
 */
export function clearsignedTextUnverified(signed: string): string {
  if (!signed.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return signed;
  const lines = signed.split(/\r?\n/);
  let i = 1;
  while (i < lines.length && lines[i] !== '') i++;
  const out: string[] = [];
  for (i++; i < lines.length && lines[i] !== '-----BEGIN PGP SIGNATURE-----'; i++) out.push(lines[i].startsWith('- ') ? lines[i].slice(2) : lines[i]);
  return out.join('\n');
}
