// Push an image tar to a registry with the OCI distribution API (distribution-spec "push"), over
// Node's own fetch: HEAD to skip blobs already there, a cross-repository mount for blobs pushed
// before to another repository of the registry, monolithic upload (chunked past a size), then
// the manifests, then the index. A manifest goes up only after all its blobs are there.
import { createReadStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { ElfpackError } from '../errors.js';
import { listMembers, readRegion, type Region } from '../root/image-root.js';
import { MEDIA } from '../image/image.js';
import { findCredentials, isLocalRegistry, parseChallenge, parseRef, type Credentials, type ImageRef } from './registry-auth.js';

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
  /** Attempts per request on 5xx, 429 and dropped connections (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled each time (default 250). */
  backoffMs?: number;
  /** Blobs larger than this go up in chunks of this size (default 64 MiB). */
  chunkSize?: number;
  onProgress?: (line: string) => void;
}

export interface PushResult {
  ref: string;
  /** The digest of what the tag names (the manifest, or the index for several platforms). */
  digest: string;
  blobs: { uploaded: number; skipped: number; mounted: number };
}

interface Desc { mediaType: string; digest: string; size: number }

/** Pushes the image (or multi-platform index) of an elfpack / OCI-layout tar to REF. */
export async function pushArchive(tar: string, refText: string, opts: PushOptions): Promise<PushResult> {
  const ref = parseRef(refText);
  const members = await listMembers(tar);
  const member = (digest: string): Region => {
    const r = members.get(`blobs/${digest.replace(':', '/')}`);
    if (!r) throw new ElfpackError('USAGE', `not a complete image: blob ${digest} is missing`, { path: tar, step: 'push' });
    return r;
  };
  const indexRegion = members.get('index.json');
  if (!indexRegion) throw new ElfpackError('USAGE', 'not an OCI image tar (no index.json): write it with elfpack', { path: tar, step: 'push' });
  const top = JSON.parse(readRegion(indexRegion, 16 << 20).toString('utf8')).manifests?.[0] as Desc | undefined;
  if (!top) throw new ElfpackError('USAGE', 'index.json names no image', { path: tar, step: 'push' });
  const client = new RegistryClient(ref, opts);
  await client.connect(); // before any URL is made: they start from the scheme it finds
  const counts = { uploaded: 0, skipped: 0, mounted: 0 };
  const pushManifest = async (d: Desc, reference: string) => {
    const body = readRegion(member(d.digest), 16 << 20);
    const m = JSON.parse(body.toString('utf8')) as { config?: Desc; layers?: Desc[]; manifests?: Desc[] };
    if (m.manifests) {
      for (const child of m.manifests) await pushManifest(child, child.digest);
    } else {
      for (const b of [m.config!, ...(m.layers ?? [])]) counts[await client.pushBlob(b, member(b.digest))]++;
    }
    await client.putManifest(d, body, reference);
  };
  await pushManifest(top, ref.tag);
  client.saveRecord();
  return { ref: `${ref.registry}/${ref.repository}:${ref.tag}`, digest: top.digest, blobs: counts };
}

class RegistryClient {
  private base?: string;
  private token?: string;
  private challenge?: { scheme: string; params: Record<string, string> };
  private creds?: Credentials;
  private credsRead = false;
  private dispatcher?: unknown;
  private record: Record<string, Record<string, string[]>> = {};

  constructor(private ref: ImageRef, private opts: PushOptions) {
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

  /** Finds the scheme (HTTPS, or HTTP where allowed) and the auth challenge, with GET /v2/. */
  async connect(): Promise<void> {
    if (this.base) return;
    if (this.opts.caFile) {
      const { Agent } = await import('undici');
      this.dispatcher = new Agent({ connect: { ca: readFileSync(this.opts.caFile) } });
    }
    const plainOk = this.opts.insecure || isLocalRegistry(this.ref.registry);
    let res: Response | undefined;
    let httpsError: unknown;
    try {
      this.base = `https://${this.host}`;
      res = await this.send('GET', `${this.base}/v2/`, {}, undefined, true);
    } catch (err) {
      httpsError = err;
    }
    if (!res && isCertificateError(httpsError)) {
      this.base = undefined;
      throw new ElfpackError('REGISTRY', `its TLS certificate is not trusted (${describeNetError(httpsError)}): give the private CA with --ca-file CA.pem`, { path: this.ref.registry, step: 'push' });
    }
    if (!res && plainOk) {
      this.base = `http://${this.host}`;
      res = await this.send('GET', `${this.base}/v2/`, {}, undefined, true).catch(() => undefined);
    }
    if (!res) {
      this.base = undefined;
      const why = describeNetError(httpsError);
      throw new ElfpackError('REGISTRY', `cannot reach the registry over HTTPS (${why})${plainOk ? ' nor HTTP' : '; plain HTTP only with --insecure, or for localhost'}`, { path: this.ref.registry, step: 'push' });
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 401) this.challenge = parseChallenge(res.headers.get('www-authenticate'));
    else if (!res.ok) {
      const base = this.base;
      this.base = undefined;
      throw new ElfpackError('REGISTRY', `not a registry: GET ${base}/v2/ answered ${res.status} (the distribution API starts at /v2/)`, { path: this.ref.registry, step: 'push' });
    }
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
    const res = await this.send('GET', url.toString(), headers);
    if (res.status === 401 || res.status === 403) throw authError(this.ref, res.status, !!creds);
    if (!res.ok) throw await registryError(res, 'token request');
    const j = (await res.json()) as { token?: string; access_token?: string };
    this.token = j.token ?? j.access_token;
  }

  private authHeader(): Record<string, string> {
    if (this.token) return { authorization: `Bearer ${this.token}` };
    const creds = this.challenge?.scheme === 'basic' ? this.credentials() : undefined;
    return creds ? { authorization: basic(creds) } : {};
  }

  /** One request with retries on 5xx, 429 and dropped connections, and one re-authorization on 401. */
  private async request(method: string, url: string, headers: Record<string, string> = {}, body?: () => BodyInit | undefined, from?: string): Promise<Response> {
    await this.connect();
    if (this.challenge?.scheme === 'bearer' && (!this.token || from)) await this.authorize(from);
    let reauthorized = false;
    for (;;) {
      const res = await this.send(method, url, { ...headers, ...this.authHeader() }, body);
      if (res.status === 401 && !reauthorized && this.challenge?.scheme === 'bearer') {
        reauthorized = true;
        await res.arrayBuffer().catch(() => undefined);
        await this.authorize(from);
        continue;
      }
      // A token without the scope asked for is a 401 with error="insufficient_scope": a permission problem.
      const scope = res.status === 401 && parseChallenge(res.headers.get('www-authenticate'))?.params.error === 'insufficient_scope';
      if (res.status === 401 || res.status === 403) throw authError(this.ref, scope ? 403 : res.status, !!this.credentials());
      return res;
    }
  }

  /** fetch, retried with backoff on 5xx, 429 and network failures; `once` tries a single time. */
  private async send(method: string, url: string, headers: Record<string, string>, body?: () => BodyInit | undefined, once = false): Promise<Response> {
    const attempts = once ? 1 : this.opts.attempts ?? 5;
    let delay = this.opts.backoffMs ?? 250;
    for (let i = 1; ; i++) {
      try {
        const b = body?.();
        const res = await fetch(url, {
          method, headers, body: b, redirect: 'follow',
          // A streamed body (a file region) needs duplex: 'half' in Node's fetch.
          ...(b && typeof (b as ReadableStream).getReader === 'function' ? { duplex: 'half' } : {}),
          ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
        } as RequestInit);
        if ((res.status >= 500 || res.status === 429) && i < attempts) {
          await res.arrayBuffer().catch(() => undefined);
          this.opts.onProgress?.(`${method} ${new URL(url).pathname}: ${res.status}, retrying (${i} of ${attempts - 1})`);
        } else return res;
      } catch (err) {
        if (i >= attempts) throw err instanceof ElfpackError ? err : new ElfpackError('REGISTRY', `${method} ${new URL(url).pathname}: ${describeNetError(err)} (after ${attempts} attempts)`, { path: this.ref.registry, step: 'push', cause: err });
        this.opts.onProgress?.(`${method} ${new URL(url).pathname}: ${describeNetError(err)}, retrying (${i} of ${attempts - 1})`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }

  /** Makes sure the registry has the blob: already there, mounted from another repository, or uploaded. */
  async pushBlob(d: Desc, where: Region): Promise<'uploaded' | 'skipped' | 'mounted'> {
    const head = await this.request('HEAD', `${this.repoUrl}/blobs/${d.digest}`);
    if (head.ok) {
      this.remember(d.digest);
      return 'skipped';
    }
    if (head.status !== 404) throw await registryError(head, `HEAD blob ${d.digest}`);
    let location: string | undefined;
    const from = (this.record[this.ref.registry]?.[d.digest] ?? []).find((r) => r !== this.ref.repository);
    if (from) {
      const m = await this.request('POST', `${this.repoUrl}/blobs/uploads/?mount=${encodeURIComponent(d.digest)}&from=${encodeURIComponent(from)}`, {}, undefined, from);
      await m.arrayBuffer().catch(() => undefined);
      if (m.status === 201) {
        this.remember(d.digest);
        return 'mounted';
      }
      if (m.status === 202) location = m.headers.get('location') ?? undefined;
    }
    this.opts.onProgress?.(`uploading ${d.digest.slice(0, 19)} (${d.size} bytes)`);
    await this.upload(d, where, location);
    this.remember(d.digest);
    return 'uploaded';
  }

  private async upload(d: Desc, where: Region, started?: string): Promise<void> {
    let location = started ?? await this.startUpload();
    const chunk = this.opts.chunkSize ?? 64 << 20;
    const stream = (start: number, end: number) => () => Readable.toWeb(createReadStream(where.file, { start: where.offset + start, end: where.offset + end - 1 })) as unknown as BodyInit;
    if (d.size > chunk) {
      for (let at = 0; at < d.size; at += chunk) {
        const end = Math.min(d.size, at + chunk);
        const res = await this.request('PATCH', location, { 'content-type': 'application/octet-stream', 'content-range': `${at}-${end - 1}`, 'content-length': String(end - at) }, stream(at, end));
        if (res.status !== 202) throw await registryError(res, `upload of ${d.digest}`);
        location = this.absolute(res.headers.get('location') ?? location);
      }
      const done = await this.request('PUT', withDigest(location, d.digest), { 'content-length': '0' });
      if (done.status !== 201) throw await registryError(done, `upload of ${d.digest}`);
      return;
    }
    const res = await this.request('PUT', withDigest(location, d.digest), { 'content-type': 'application/octet-stream', 'content-length': String(d.size) }, d.size ? stream(0, d.size) : undefined);
    if (res.status !== 201) throw await registryError(res, `upload of ${d.digest}`);
  }

  private async startUpload(): Promise<string> {
    const res = await this.request('POST', `${this.repoUrl}/blobs/uploads/`);
    await res.arrayBuffer().catch(() => undefined);
    const loc = res.headers.get('location');
    if (res.status !== 202 || !loc) throw await registryError(res, 'starting an upload');
    return this.absolute(loc);
  }

  private absolute(loc: string): string {
    return new URL(loc, this.base).toString();
  }

  async putManifest(d: Desc, body: Buffer, reference: string): Promise<void> {
    const res = await this.request('PUT', `${this.repoUrl}/manifests/${reference}`, { 'content-type': d.mediaType ?? MEDIA.manifest }, () => new Uint8Array(body));
    if (res.status !== 201) throw await registryError(res, `the ${d.mediaType === MEDIA.index ? 'index' : 'manifest'} ${d.digest}`, 'rejected');
    const got = res.headers.get('docker-content-digest');
    if (got && got !== d.digest) throw new ElfpackError('REGISTRY', `the registry stored ${d.digest} as ${got}: it rewrote the manifest`, { path: this.ref.registry, step: 'push' });
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
      writeFileSync(`${f}.tmp-${process.pid}`, JSON.stringify(this.record));
      renameSync(`${f}.tmp-${process.pid}`, f);
    } catch {
      // the cache is an optimization
    }
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

function authError(ref: ImageRef, status: number, hadCreds: boolean): ElfpackError {
  const msg = status === 401
    ? hadCreds ? 'authentication failed (401): the credentials in the docker config were refused (docker login again)' : 'authentication required (401): no credentials for this registry in the docker config (docker login first)'
    : `permission denied (403): these credentials may not push to ${ref.repository}`;
  return new ElfpackError('REGISTRY_AUTH', msg, { path: ref.registry, step: 'push' });
}

async function registryError(res: Response, what: string, verb = 'failed'): Promise<ElfpackError> {
  let detail = '';
  try {
    const j = (await res.json()) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const e = j.errors?.[0];
    if (e) detail = `: ${e.code ?? ''}${e.message ? ` ${e.message}` : ''}`.replace(/^: $/, '');
  } catch {
    // not JSON
  }
  const why = res.status === 404 ? 'not found (404): no such repository, or the registry does not serve it' : `${res.status}${detail}`;
  return new ElfpackError('REGISTRY', `${what} ${verb}: ${why}`, { path: new URL(res.url).host, step: 'push' });
}

/** The innermost cause: fetch wraps the socket's error, and send() wraps fetch's. */
function rootCause(err: unknown): { code?: string; message?: string } {
  let e = err as { cause?: unknown; code?: string; message?: string };
  for (let i = 0; i < 5 && e?.cause; i++) e = e.cause as typeof e;
  return e ?? {};
}

function isCertificateError(err: unknown): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(rootCause(err).code ?? '');
}

function describeNetError(err: unknown): string {
  const c = rootCause(err);
  return c.code ?? c.message ?? String(err);
}
