// Push an image value to a registry with the OCI distribution API (distribution-spec "push"): HEAD
// to skip blobs already there, a cross-repository mount for blobs pushed before to another
// repository of the registry, monolithic upload (chunked past a size), each blob streamed from
// where the value says its bytes are; then the manifests, then the index. A manifest goes up only
// after all its blobs are there. HTTP (retries, deadline, redirects) is in registry-http.ts.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ElfpackError } from '../errors.js';
import { archiveSource } from '../oci/blob-source.js';
import type { BlobContent, Descriptor } from '../oci/blob.js';
import { isImageIndex, manifestsBottomUp, topBlob, type Image, type ImageIndex } from '../oci/image.js';
import { MEDIA } from '../oci/media-types.js';
import { readImage } from '../oci/read-image.js';
import { tempNameFor } from '../temp-files.js';
import { writeToSinks, type Sink } from './sink.js';
import { findCredentials, isLocalRegistry, parseChallenge, parseRef, type Credentials, type ImageRef } from './registry-auth.js';
import { RegistryHttp, describeRequest, describeStatus, type HttpAnswer, type RequestBody } from './registry-http.js';
import { isCertificateError, isPlainHttpServer, rootCause } from '../net-errors.js';

export interface PushOptions {
  /** Plain HTTP for a registry that is not on the loopback. */
  insecure?: boolean;
  /** PEM file of a private CA the registry's certificate chains to. */
  caFile?: string;
  /** Where config.json is (DOCKER_CONFIG, default ~/.docker). */
  dockerConfigDir: string;
  /** Environment for credential helpers (PATH). */
  env: NodeJS.ProcessEnv;
  /** A JSON file remembering which repository holds which blob, for cross-repository mounts. */
  pushedRecord?: string;
  /** Tries per request on 408, 429, 5xx and dropped connections, the first included (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 250). */
  backoffMs?: number;
  /** The longest wait between two tries, whatever the registry's Retry-After asks (default 60 000 ms). */
  retryWaitCapMs?: number;
  /** How long a request may go without progress (connecting, sending, answering) before the push fails (default 300 000 ms). */
  timeoutMs?: number;
  /** Blobs larger than this go up in chunks of this size (default 64 MiB). */
  chunkSize?: number;
  onProgress?: (line: string) => void;
}

/** The deadline of a request without progress when PushOptions.timeoutMs is not given. */
export const DEFAULT_TIMEOUT_MS = 300_000;

export interface PushResult {
  ref: string;
  /** The digest of what the tag names (the manifest, or the index for several platforms). */
  digest: string;
  blobs: { uploaded: number; skipped: number; mounted: number };
}

/** The registry sink: the image pushed to REF (checked before any work). */
export function registrySink(refText: string, opts: PushOptions): Sink {
  return {
    kind: 'registry',
    async check() {
      parseRef(refText);
    },
    async write(input) {
      return { pushed: await pushImage(await input.image(), refText, opts) };
    },
  };
}

/** Pushes the image (or multi-platform index) of an elfpack / OCI-layout tar to REF: the tar read into an image value, pushed by the registry sink. */
export async function pushArchive(tar: string, refText: string, opts: PushOptions): Promise<PushResult> {
  // Every digest is checked before it names a blob or a URL, every blob against its size, every
  // manifest against its digest (read-image.ts).
  const { report } = await writeToSinks({ tag: refText, build: async () => readImage(await archiveSource(tar)) }, [registrySink(refText, opts)]);
  return report.pushed!;
}

/** Pushes an image (or an index of images) to REF: the tag names the top manifest or index. */
export async function pushImage(image: Image | ImageIndex, refText: string, opts: PushOptions): Promise<PushResult> {
  const ref = parseRef(refText);
  const order = manifestsBottomUp(image);
  const client = new RegistryClient(ref, opts);
  try {
    await client.connect(); // before any URL is made: they start from the scheme it finds
    const counts = { uploaded: 0, skipped: 0, mounted: 0 };
    for (const m of order) {
      const doc = topBlob(m);
      if (!isImageIndex(m)) for (const b of [m.config, ...m.layers]) counts[await client.pushBlob(b.descriptor, b.content)]++;
      if (!('bytes' in doc.content)) throw new Error(`manifest ${doc.descriptor.digest} is not in memory`);
      await client.putManifest(doc.descriptor, doc.content.bytes, m === image ? ref.tag : doc.descriptor.digest);
    }
    client.saveRecord();
    return { ref: `${ref.registry}/${ref.repository}:${ref.tag}`, digest: topBlob(image).descriptor.digest, blobs: counts };
  } finally {
    await client.close();
  }
}

class RegistryClient {
  private base?: string;
  private token?: string;
  private challenge?: { scheme: string; params: Record<string, string> };
  private creds?: Credentials;
  private credsRead = false;
  private http: RegistryHttp;
  private record: Record<string, Record<string, string[]>> = {};

  constructor(private ref: ImageRef, private opts: PushOptions) {
    this.http = new RegistryHttp({
      attempts: opts.attempts ?? 5,
      backoffMs: opts.backoffMs ?? 250,
      retryWaitCapMs: opts.retryWaitCapMs ?? 60_000,
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      caFile: opts.caFile,
      onProgress: opts.onProgress,
    });
    if (opts.pushedRecord) {
      try {
        this.record = JSON.parse(readFileSync(opts.pushedRecord, 'utf8'));
      } catch {
        this.record = {};
      }
    }
  }

  private get host(): string {
    return this.ref.registry === 'docker.io' ? 'registry-1.docker.io' : this.ref.registry;
  }

  private get repoUrl(): string {
    return `${this.base}/v2/${this.ref.repository}`;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * Finds the scheme and the auth challenge with GET /v2/, retried like any request: HTTPS, or
   * plain HTTP where allowed when the server answers the TLS handshake in plain HTTP.
   */
  async connect(): Promise<void> {
    if (this.base) return;
    const plainOk = this.opts.insecure || isLocalRegistry(this.ref.registry);
    const fail = (message: string) => new ElfpackError('REGISTRY', `GET /v2/: ${message}`, { path: this.ref.registry, step: 'push' });
    let base = `https://${this.host}`;
    let ping: HttpAnswer;
    try {
      ping = await this.http.send({ method: 'GET', url: `${base}/v2/` }, (e) => isCertificateError(e) || isPlainHttpServer(e));
    } catch (err) {
      const code = rootCause(err).code;
      if (isCertificateError(err)) throw fail(`its TLS certificate is not trusted (${code}): give the private CA with --ca-file CA.pem`);
      if (!isPlainHttpServer(err)) throw err;
      if (!plainOk) throw fail(`the registry does not speak HTTPS (${code}); plain HTTP only with --insecure, or for localhost`);
      base = `http://${this.host}`;
      ping = await this.http.send({ method: 'GET', url: `${base}/v2/` });
    }
    if (ping.status === 401) this.challenge = parseChallenge(ping.headers.get('www-authenticate'));
    else if (ping.status >= 500 || ping.status === 429) throw registryError(ping, 'the registry failed');
    else if (ping.status < 200 || ping.status > 299) {
      throw new ElfpackError('REGISTRY', `not a registry: GET ${base}/v2/ answered ${ping.status} (the distribution API starts at /v2/)`, { path: this.ref.registry, step: 'push' });
    }
    this.base = base;
  }

  private credentials(): Credentials | undefined {
    if (!this.credsRead) {
      this.creds = findCredentials(this.ref.registry, this.opts.dockerConfigDir, this.opts.env);
      this.credsRead = true;
    }
    return this.creds;
  }

  /** A bearer token for pushing to this repository (and pulling from `from`, for a mount). */
  private async authorize(from?: string): Promise<void> {
    const c = this.challenge;
    if (!c || c.scheme !== 'bearer') return;
    const url = new URL(c.params.realm);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    url.searchParams.append('scope', `repository:${this.ref.repository}:pull,push`);
    if (from) url.searchParams.append('scope', `repository:${from}:pull`);
    const creds = this.credentials();
    const headers: Record<string, string> = creds ? { authorization: basic(creds) } : {};
    const res = await this.http.send({ method: 'GET', url: url.toString(), headers });
    if (res.status === 401 || res.status === 403) throw authError(this.ref, res, !!creds);
    if (res.status !== 200) throw registryError(res, 'the token request failed');
    let j: { token?: string; access_token?: string };
    try {
      j = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw registryError(res, 'the token server did not answer JSON');
    }
    this.token = j.token ?? j.access_token;
  }

  /** Credentials go to the registry's own origin only: an upload Location elsewhere (storage) gets none. */
  private authHeader(url: string): Record<string, string> {
    if (new URL(url).origin !== new URL(this.base!).origin) return {};
    if (this.token) return { authorization: `Bearer ${this.token}` };
    const creds = this.challenge?.scheme === 'basic' ? this.credentials() : undefined;
    return creds ? { authorization: basic(creds) } : {};
  }

  /** One request (retried by RegistryHttp), with one re-authorization on 401. */
  private async request(method: string, url: string, headers: Record<string, string> = {}, body?: RequestBody, from?: string): Promise<HttpAnswer> {
    await this.connect();
    if (this.challenge?.scheme === 'bearer' && (!this.token || from)) await this.authorize(from);
    let reauthorized = false;
    for (;;) {
      const res = await this.http.send({ method, url, headers: { ...headers, ...this.authHeader(url) }, body });
      if (res.status === 401 && !reauthorized && this.challenge?.scheme === 'bearer') {
        reauthorized = true;
        await this.authorize(from);
        continue;
      }
      if (res.status === 401 || res.status === 403) throw authError(this.ref, res, !!this.credentials());
      return res;
    }
  }

  /** Makes sure the registry has the blob: already there, mounted from another repository, or uploaded. */
  async pushBlob(d: Descriptor, where: BlobContent): Promise<'uploaded' | 'skipped' | 'mounted'> {
    if (await this.hasBlob(d)) {
      this.remember(d.digest);
      return 'skipped';
    }
    let session: string | undefined;
    const from = (this.record[this.ref.registry]?.[d.digest] ?? []).find((r) => r !== this.ref.repository);
    if (from) {
      const m = await this.request('POST', `${this.repoUrl}/blobs/uploads/?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`, {}, undefined, from);
      if (m.status === 201) {
        this.remember(d.digest);
        return 'mounted';
      }
      // A refused mount (202) has opened an upload session: the upload continues there.
      if (m.status === 202) session = location(m);
    }
    this.opts.onProgress?.(`uploading ${d.digest.slice(0, 19)} (${d.size} bytes)`);
    await this.upload(d, where, session);
    this.remember(d.digest);
    return 'uploaded';
  }

  private async hasBlob(d: Descriptor): Promise<boolean> {
    const head = await this.request('HEAD', `${this.repoUrl}/blobs/${d.digest}`);
    if (head.status === 404) return false;
    if (head.status < 200 || head.status > 299) throw registryError(head, `checking for blob ${d.digest} failed`);
    return true;
  }

  private async upload(d: Descriptor, where: BlobContent, session?: string): Promise<void> {
    let at = session ?? await this.startUpload();
    const chunk = this.opts.chunkSize ?? 64 << 20;
    // Each try (and a redirect's repeat) reads the bytes again from where they are: nothing is held.
    const slice = (start: number, end: number): RequestBody => ('bytes' in where
      ? new Uint8Array(where.bytes.buffer, where.bytes.byteOffset + start, end - start)
      : { file: where.region.file, offset: where.region.offset + start, length: end - start });
    let done: HttpAnswer;
    if (d.size > chunk) {
      for (let start = 0; start < d.size; start += chunk) {
        const end = Math.min(d.size, start + chunk);
        const res = await this.request('PATCH', at, { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`, 'content-length': String(end - start) }, slice(start, end));
        if (res.status !== 202) throw registryError(res, `upload of ${d.digest} failed`);
        at = location(res) ?? at;
      }
      done = await this.request('PUT', withDigest(at, d.digest), { 'content-length': '0' });
    } else {
      done = await this.request('PUT', withDigest(at, d.digest), { 'content-type': 'application/octet-stream', 'content-length': String(d.size) }, slice(0, d.size));
    }
    // A PUT whose answer was lost went through; its retry then finds the session closed (404).
    if (done.status === 404 && await this.hasBlob(d)) return;
    if (done.status !== 201) throw registryError(done, `upload of ${d.digest} failed`);
  }

  private async startUpload(): Promise<string> {
    const res = await this.request('POST', `${this.repoUrl}/blobs/uploads/`);
    const at = res.status === 202 ? location(res) : undefined;
    if (!at) throw registryError(res, `starting an upload failed${res.status === 202 ? ' (no Location)' : ''}`);
    return at;
  }

  async putManifest(d: Descriptor, body: Buffer, reference: string): Promise<void> {
    const res = await this.request('PUT', `${this.repoUrl}/manifests/${reference}`, { 'content-type': d.mediaType ?? MEDIA.manifest }, new Uint8Array(body));
    if (res.status !== 201) throw registryError(res, `the ${d.mediaType === MEDIA.index ? 'index' : 'manifest'} ${d.digest} rejected`);
    const got = res.headers.get('docker-content-digest');
    if (got && got !== d.digest) throw new ElfpackError('REGISTRY', `${describeRequest(res.method, res.url)}: the registry stored ${d.digest} as ${got}: it rewrote the manifest`, { path: new URL(res.url).host, step: 'push' });
  }

  private remember(digest: string): void {
    const reg = (this.record[this.ref.registry] ??= {});
    const repos = (reg[digest] ??= []);
    if (!repos.includes(this.ref.repository)) repos.push(this.ref.repository);
  }

  /** Keeps the record of pushed blobs (atomically replaced); a failure to write it only loses mounts. */
  saveRecord(): void {
    const f = this.opts.pushedRecord;
    if (!f) return;
    try {
      mkdirSync(dirname(f), { recursive: true });
      const tmp = tempNameFor(f);
      writeFileSync(tmp, JSON.stringify(this.record));
      renameSync(tmp, f);
    } catch {
      // the cache is an optimization
    }
  }
}

/** The Location of an answer, resolved against the URL of the request that got it (relative forms are allowed). */
function location(a: HttpAnswer): string | undefined {
  const loc = a.headers.get('location');
  if (!loc) return undefined;
  try {
    return new URL(loc, a.url).toString();
  } catch {
    throw new ElfpackError('REGISTRY', `${describeRequest(a.method, a.url)}: a Location that is no URL (${loc.slice(0, 100)})`, { path: new URL(a.url).host, step: 'push' });
  }
}

function withDigest(location: string, digest: string): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** 401 and 403 as one line; a token lacking the scope asked for is a 401 with error="insufficient_scope": a permission problem. */
function authError(ref: ImageRef, a: HttpAnswer, hadCreds: boolean): ElfpackError {
  const scope = a.status === 401 && parseChallenge(a.headers.get('www-authenticate'))?.params.error === 'insufficient_scope';
  const status = `${describeStatus(a)}${scope ? ', insufficient_scope' : ''}`;
  const msg = a.status === 401 && !scope
    ? hadCreds ? `authentication failed (${status}): the credentials in the docker config were refused (docker login again)` : `authentication required (${status}): no credentials for this registry in the docker config (docker login first)`
    : `permission denied (${status}): these credentials may not push to ${ref.repository}`;
  return new ElfpackError('REGISTRY_AUTH', `${describeRequest(a.method, a.url)}: ${msg}`, { path: new URL(a.url).host, step: 'push' });
}

/** "METHOD /path: what: STATUS CODE: message", the registry's own words included. */
function registryError(a: HttpAnswer, what: string): ElfpackError {
  const why = a.status === 404 ? `${describeStatus(a)} (no such repository, or the registry does not serve it)` : describeStatus(a);
  return new ElfpackError('REGISTRY', `${describeRequest(a.method, a.url)}: ${what}: ${why}`, { path: new URL(a.url).host, step: 'push' });
}
