// A Debian archive opened as apt opens it: dists/SUITE/InRelease, its signature checked against a
// keyring, its Release fields checked, each component's Packages index fetched and checked against
// the Release's SHA256 list; .deb files fetched against the index's SHA256. Everything lands in a
// cache (InRelease by URL, indexes and .debs by SHA256), so a later run works offline.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ElfpackError } from '../errors.js';
import { readSealedJson, writeSealedJson } from '../sealed-json.js';
import { writeFileAtomically } from '../temp-files.js';
import { ArchiveHttp, DEFAULT_TIMEOUT_MS, HttpStatusError, type Validators } from './archive-http.js';
import type { ProxyOptions } from './archive-proxy.js';
import { decompressStages } from './decompress.js';
import { checkRelease, parseRelease, type Release, type ReleaseFile } from './release.js';
import type { SignedBy } from './apt-sources.js';
import { checkSignedBy, clearsignedTextUnverified, DEFAULT_KEYRING } from './signature.js';
import { verifyClearsignedCached } from './signature-cache.js';

/** The largest InRelease read (bookworm's is 150 KB). */
export const MAX_INRELEASE_BYTES = 16 << 20;
/** The largest Packages index, compressed or not, as fetched (bookworm main: 12 MB gzip). */
export const MAX_INDEX_BYTES = 256 << 20;
/** The largest decompressed Packages text (bookworm main: 50 MB); a gzip bomb stops here. */
export const MAX_PACKAGES_TEXT_BYTES = 400 << 20;
/** The largest .deb fetched (the biggest in Debian are a few hundred MB). */
export const MAX_DEB_BYTES = 2 ** 32;

export interface OpenArchiveOptions {
  /** The archive's base URL (http or https): "http://deb.debian.org/debian". */
  mirror: string;
  suite: string;
  /** A Debian architecture name: amd64, arm64… */
  arch: string;
  /** Default ["main"]. */
  components?: string[];
  /** Keyring files (binary or armored) or inline armored key blocks; default DEFAULT_KEYRING. */
  keyring?: string | string[];
  /** The source's Signed-By when it lists fingerprints: only a signature by one of them counts. */
  signedBy?: SignedBy;
  /** Where InRelease, indexes and .debs are kept between runs. */
  cacheDir: string;
  /** Use the archive without checking its signature: said loudly through onWarning. */
  insecureNoVerify?: boolean;
  /** Accept a Release past its Valid-Until. */
  allowExpired?: boolean;
  /** How long a download may make no progress; default 30 s. */
  timeoutMs?: number;
  /** HTTP proxies (curl's http_proxy, https_proxy, no_proxy); default none. */
  proxy?: ProxyOptions;
  /** The clock Valid-Until is compared with (tests). */
  now?: Date;
  /** Warnings and notes, one line each (the unverified mode, offline use of the cache). */
  onWarning?: (line: string) => void;
  /** The gpgv program; default "gpgv" from PATH. */
  gpgv?: string;
  /** Leave `packages` empty: the indexes are read on the first call of indexes() (a cached plan may not need them). */
  deferIndexes?: boolean;
}

export interface PackagesText {
  component: string;
  /** The file it came from, relative to dists/SUITE/: "main/binary-amd64/Packages.gz". */
  path: string;
  /** The verified, decompressed Packages text (deb822 paragraphs). */
  text: string;
}

export interface DebArchive {
  mirror: string;
  suite: string;
  arch: string;
  release: Release;
  /** Fingerprints of the keys whose signatures were good; empty when not verified. */
  signers: string[];
  packages: PackagesText[];
  /** The components' indexes, fetched and checked on the first call (what `packages` holds unless deferred). */
  indexes(): Promise<PackagesText[]>;
  /** The components opened. */
  components: string[];
  /** The URL of a Filename: field ("pool/main/j/jq/jq_1.6-2.1_amd64.deb"). */
  debUrl(filename: string): string;
  /** The .deb in the cache (cacheDir/debs/sha256/HEX.deb), downloaded once and checked: its path. */
  fetchDeb(filename: string, sha256: string, size: number): Promise<string>;
  /** Ends the HTTP connections. */
  close(): Promise<void>;
}

export async function openArchive(opts: OpenArchiveOptions): Promise<DebArchive> {
  const base = mirrorBase(opts.mirror);
  const http = new ArchiveHttp(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, { proxy: opts.proxy });
  try {
    const components = opts.components ?? ['main'];
    const dists = new URL(`dists/${suitePath(opts.suite)}/`, base);
    const { release, signers } = await readInRelease(http, opts, dists, components);
    let loaded: Promise<PackagesText[]> | undefined;
    const indexes = () => (loaded ??= (async () => {
      const out: PackagesText[] = [];
      for (const c of components) out.push(await readPackages(http, opts, dists, release, c));
      return out;
    })());
    const packages = opts.deferIndexes ? [] : await indexes();
    return {
      mirror: base.toString(),
      suite: opts.suite,
      arch: opts.arch,
      release,
      signers,
      packages,
      indexes,
      components,
      debUrl: (f) => debUrl(base, f),
      fetchDeb: debFetcher(http, base, opts.cacheDir),
      close: () => http.close(),
    };
  } catch (err) {
    await http.close();
    throw err;
  }
}

/** A suite's path under dists/: its "/" kept ("buster/updates", the old security naming), each part encoded; "." and ".." refused. */
function suitePath(suite: string): string {
  const parts = suite.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new ElfpackError('USAGE', `suite ${JSON.stringify(suite.slice(0, 80))}: not a suite name`, { step: 'deb-archive' });
  return parts.map(encodeURIComponent).join('/');
}

function mirrorBase(mirror: string): URL {
  let u: URL;
  try {
    u = new URL(mirror.endsWith('/') ? mirror : `${mirror}/`);
  } catch {
    throw new ElfpackError('USAGE', `not a URL: ${JSON.stringify(mirror)}`, { step: 'deb-archive' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ElfpackError('USAGE', `${mirror}: a mirror URL is http or https`, { step: 'deb-archive' });
  return u;
}

/** The InRelease, fresh or (offline) from the cache, verified and checked. */
async function readInRelease(http: ArchiveHttp, opts: OpenArchiveOptions, dists: URL, components: string[]): Promise<{ release: Release; signers: string[] }> {
  const url = new URL('InRelease', dists).toString();
  const cached = join(opts.cacheDir, 'lists', url.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9.-]/g, '_'));
  let raw: Buffer;
  let fromCache = false;
  let fresh: Validators | undefined; // what the server said of new bytes, to be kept with them
  try {
    // Asked conditionally when the cache holds a copy and what the server said of it: a 304 means
    // the copy is still the archive's InRelease, checked below like new bytes.
    const kept = keptInRelease(cached);
    const got = await http.getBytesIfChanged(url, MAX_INRELEASE_BYTES, kept?.validators ?? {});
    if (got.bytes) {
      raw = got.bytes;
      fresh = got.validators;
    } else raw = kept!.bytes;
  } catch (err) {
    // Offline (no connection, not an HTTP error): the cached copy, checked again below, as apt uses its lists.
    if (!(err instanceof ElfpackError && err.code === 'DEB_UNREACHABLE') || !existsSync(cached)) throw err;
    raw = readFileSync(cached);
    fromCache = true;
    opts.onWarning?.(`note: ${err.message}; using the InRelease cached on ${statSync(cached).mtime.toISOString()}`);
  }
  let text: string;
  let signers: string[] = [];
  if (opts.insecureNoVerify) {
    opts.onWarning?.(`WARNING: ${url}: signature NOT checked (--insecure-no-verify): anyone between here and the mirror can change every package`);
    text = clearsignedTextUnverified(raw.toString('utf8'));
  } else {
    const keyrings = opts.keyring === undefined ? [DEFAULT_KEYRING] : Array.isArray(opts.keyring) ? opts.keyring : [opts.keyring];
    // gpgv's verdict on the same bytes with the same keyrings is remembered (deb/signature-cache.ts).
    let verified = await verifyClearsignedCached(raw, keyrings, url, { cacheDir: opts.cacheDir, gpgv: opts.gpgv });
    // Checked after the (cached) verdict: the cache holds what gpgv said, this is the source's rule.
    if (opts.signedBy?.fingerprints.length) verified = checkSignedBy(verified, opts.signedBy.fingerprints, opts.signedBy.origin, url);
    ({ text, signers } = verified);
  }
  const release = parseRelease(text, url);
  checkRelease(release, { suite: opts.suite, arch: opts.arch, components, now: opts.now ?? new Date(), allowExpired: opts.allowExpired }, url);
  // Only a verified file is kept: the cache is re-checked on use, but holds nothing we refused.
  if (!fromCache && signers.length) {
    mkdirSync(join(opts.cacheDir, 'lists'), { recursive: true });
    // The same bytes as kept: only its time is brought forward (it tells when the archive last said so).
    if (sameFile(cached, raw)) utimesSync(cached, new Date(), new Date());
    else await writeFileAtomically(cached, async (out) => { out.end(raw); });
    if (fresh && (fresh.etag || fresh.lastModified)) {
      const record = { ...fresh, sha256: sha256Hex(raw) };
      if (JSON.stringify(readSealedJson(`${cached}.http`, VALIDATORS, 4096)) !== JSON.stringify(record)) await writeSealedJson(`${cached}.http`, VALIDATORS, record);
    }
  }
  return { release, signers };
}

const VALIDATORS = 'elfpack-http-validators/1';

/** The cached InRelease with the ETag and Last-Modified the server gave it, when both are there and belong together. */
function keptInRelease(cached: string): { bytes: Buffer; validators: Validators } | undefined {
  const v = readSealedJson(`${cached}.http`, VALIDATORS, 4096) as (Validators & { sha256?: unknown }) | undefined;
  if (!v || (typeof v.etag !== 'string' && typeof v.lastModified !== 'string')) return undefined;
  let bytes: Buffer;
  try {
    if (statSync(cached).size > MAX_INRELEASE_BYTES) return undefined;
    bytes = readFileSync(cached);
  } catch {
    return undefined;
  }
  if (v.sha256 !== sha256Hex(bytes)) return undefined; // the validators are of other bytes
  const str = (s: unknown) => (typeof s === 'string' ? s : undefined);
  return { bytes, validators: { etag: str(v.etag), lastModified: str(v.lastModified) } };
}

function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function sameFile(path: string, bytes: Buffer): boolean {
  try {
    return statSync(path).size === bytes.length && readFileSync(path).equals(bytes);
  } catch {
    return false;
  }
}

/** The component's Packages index: gzip preferred (fastest to read), else xz (all -updates and -security offer), else plain. */
async function readPackages(http: ArchiveHttp, opts: OpenArchiveOptions, dists: URL, release: Release, component: string): Promise<PackagesText> {
  const dir = `${component}/binary-${opts.arch}/`;
  const plain = release.files.get(`${dir}Packages`);
  const compressed = release.files.get(`${dir}Packages.gz`) ?? release.files.get(`${dir}Packages.xz`);
  const file = compressed ?? plain;
  const what = new URL(`${dir}Packages`, dists).toString();
  if (!file) {
    const listed = [...release.files.keys()].filter((p) => p.startsWith(`${dir}Packages`));
    throw new ElfpackError('DEB_ARCHIVE', `the Release lists ${listed.length ? `only ${listed.join(', ')}` : 'no Packages index'}; elfpack reads Packages.gz, Packages.xz or Packages`, { path: what, step: 'deb-index' });
  }
  if (file.size > MAX_INDEX_BYTES) throw new ElfpackError('DEB_ARCHIVE', `${file.size} bytes, more than ${MAX_INDEX_BYTES} allowed`, { path: what, step: 'deb-index' });
  const hashDir = join(opts.cacheDir, 'lists', 'sha256');
  const local = join(hashDir, file.sha256);
  if (existsSync(local)) {
    // Content-addressed: a cached file whose hash the signed Release lists is the same file; read
    // (and re-hashed) below. A damaged one is fetched again.
    try {
      return { component, path: file.path, text: await decompress(local, file, compressed ? plain : undefined, what) };
    } catch {
      rmSync(local, { force: true });
    }
  }
  mkdirSync(hashDir, { recursive: true });
  await fetchIndex(http, dists, release, file, local);
  return { component, path: file.path, text: await decompress(local, file, compressed ? plain : undefined, what) };
}

/** By hash when the archive offers it (no race with a mirror update between InRelease and index), else by name. */
async function fetchIndex(http: ArchiveHttp, dists: URL, release: Release, file: ReleaseFile, dest: string): Promise<void> {
  const byName = new URL(file.path, dists).toString();
  const check = { maxBytes: MAX_INDEX_BYTES, size: file.size, sha256: file.sha256 };
  if (release.acquireByHash) {
    const dir = file.path.slice(0, file.path.lastIndexOf('/') + 1);
    try {
      await http.download(new URL(`${dir}by-hash/SHA256/${file.sha256}`, dists).toString(), dest, check);
      return;
    } catch (err) {
      if (!(err instanceof HttpStatusError && err.status === 404)) throw err;
    }
  }
  await http.download(byName, dest, check);
}

/**
 * The text of a cached index, hashed again as it is read: the compressed bytes against `file`,
 * and the decompressed ones against the Release's entry for the plain Packages when it has one.
 */
async function decompress(path: string, file: ReleaseFile, plain: ReleaseFile | undefined, what: string): Promise<string> {
  const fail = (why: string) => new ElfpackError('DEB_ARCHIVE', `${why}: refused (a tampered or damaged index)`, { path: what, step: 'deb-index' });
  const outer = createHash('sha256');
  const inner = createHash('sha256');
  const chunks: Buffer[] = [];
  let n = 0;
  const kind = file.path.endsWith('.gz') ? 'gzip' : file.path.endsWith('.xz') ? 'xz' : 'none';
  const compressed = kind !== 'none';
  // The decompressor exists before the file is opened: no chunk flows past it while it loads.
  // (Its size bound is not piped: the text is counted against MAX_PACKAGES_TEXT_BYTES below.)
  const unpack = compressed ? (await decompressStages(kind, MAX_PACKAGES_TEXT_BYTES))[0] : undefined;
  const src = createReadStream(path);
  if (compressed) src.on('data', (c) => outer.update(c as Buffer));
  if (unpack) src.on('error', (e) => unpack.destroy(e)); // pipe() does not pass a read error on
  const body = unpack ? src.pipe(unpack) : src;
  try {
    for await (const c of body as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_PACKAGES_TEXT_BYTES) throw fail(`decompresses past ${MAX_PACKAGES_TEXT_BYTES} bytes`);
      inner.update(c);
      chunks.push(c);
    }
  } catch (err) {
    if (err instanceof ElfpackError) throw err;
    throw fail(`cannot decompress: ${(err as Error).message}`);
  } finally {
    src.destroy();
  }
  const innerHex = inner.digest('hex');
  if ((compressed ? outer.digest('hex') : innerHex) !== file.sha256) throw fail(`${file.path}: SHA256 differs from the Release's`);
  if (compressed && plain && (n !== plain.size || innerHex !== plain.sha256)) throw fail(`${plain.path}: size or SHA256 differs from the Release's`);
  return Buffer.concat(chunks).toString('utf8');
}

/** A Filename: field's URL under the mirror; a name that would leave it (absolute, "..", a scheme) is refused. */
function debUrl(base: URL, filename: string): string {
  if (!filename || filename.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(filename) || filename.split('/').some((s) => s === '..' || s === '.') || /[\\?#%\s]/.test(filename)) {
    throw new ElfpackError('DEB_ARCHIVE', `Filename ${JSON.stringify(filename.slice(0, 200))}: not a path inside the archive`, { path: base.toString(), step: 'deb-fetch' });
  }
  return new URL(filename, base).toString(); // "+" (common in Debian versions) is legal in a path: sent as it is
}

function debFetcher(http: ArchiveHttp, base: URL, cacheDir: string): DebArchive['fetchDeb'] {
  const inFlight = new Map<string, Promise<string>>();
  return async (filename, sha256, size) => {
    const url = debUrl(base, filename);
    if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new ElfpackError('DEB_ARCHIVE', `SHA256 ${JSON.stringify(sha256.slice(0, 80))} is not 64 hex digits`, { path: url, step: 'deb-fetch' });
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_DEB_BYTES) throw new ElfpackError('DEB_ARCHIVE', `size ${size} is not between 0 and ${MAX_DEB_BYTES}`, { path: url, step: 'deb-fetch' });
    const hex = sha256.toLowerCase();
    let p = inFlight.get(hex);
    if (!p) {
      p = fetchDebOnce(http, url, join(cacheDir, 'debs', 'sha256'), hex, size).finally(() => inFlight.delete(hex));
      inFlight.set(hex, p);
    }
    return p;
  };
}

async function fetchDebOnce(http: ArchiveHttp, url: string, dir: string, sha256: string, size: number): Promise<string> {
  const dest = join(dir, `${sha256}.deb`);
  if (existsSync(dest)) {
    if (statSync(dest).size === size && (await hashFile(dest)) === sha256) return dest;
    rmSync(dest, { force: true }); // damaged in the cache: fetched again
  }
  mkdirSync(dir, { recursive: true });
  await http.download(url, dest, { maxBytes: MAX_DEB_BYTES, size, sha256 });
  return dest;
}

async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}
