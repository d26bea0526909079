// Push faults (issue 13) against the real registry on 127.0.0.1:5000 behind a fault-injecting
// proxy: the ping retried, every form of Location, a refused mount, redirects on uploads,
// Retry-After, stalls at each stage, and error lines. Every push that should succeed is checked
// on the registry itself (the manifest's digest through skopeo, each blob's content by digest).
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfpackError } from '../../src/errors.js';
import { pushArchive, type PushOptions, type PushResult } from '../../src/sinks/registry.js';
import { needCommand, runCli } from '../support/helpers.js';
import { run } from '../support/engine.js';
import { PLAIN_REGISTRY, needRegistry } from '../support/registry.js';
import { startFaultProxy, startSilentServer, startUnacceptingPort, type FaultProxy, type LocationForm } from '../support/fault-proxy.js';

interface TestImage { tar: string; manifest: string; blobs: { digest: string; size: number }[] }

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An OCI-layout tar of random layers (new to the registry on every run) and a config. */
function writeImage(dir: string, name: string, layerSizes: number[]): TestImage {
  const root = join(dir, name);
  mkdirSync(join(root, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const hex = sha256(b);
    writeFileSync(join(root, 'blobs/sha256', hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const layers = layerSizes.map((n) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(randomBytes(n)) }));
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }))) };
  const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })));
  writeFileSync(join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  writeFileSync(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const tar = join(dir, `${name}.tar`);
  const t = run('tar', ['-C', root, '-cf', tar, 'index.json', 'oci-layout', 'blobs']);
  if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
  rmSync(root, { recursive: true });
  return { tar, manifest: manifest.digest, blobs: [config, ...layers] };
}

/** The registry itself (not the proxy) serves the manifest under the tag and every blob with its digest. */
async function expectOnRegistry(image: TestImage, repo: string): Promise<void> {
  const raw = run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${PLAIN_REGISTRY}/${repo}:1`]);
  expect(raw.status, raw.stderr).to.equal(0);
  expect(`sha256:${sha256(Buffer.from(raw.stdout))}`).to.equal(image.manifest);
  for (const b of image.blobs) {
    const res = await fetch(`http://${PLAIN_REGISTRY}/v2/${repo}/blobs/${b.digest}`);
    expect(res.status, b.digest).to.equal(200);
    expect(`sha256:${sha256(Buffer.from(await res.arrayBuffer()))}`).to.equal(b.digest);
  }
}

async function pushError(p: Promise<unknown>): Promise<ElfpackError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ElfpackError) return err;
    throw err;
  }
  throw new Error('the push succeeded');
}

describe('sinks/registry: push faults, through a fault-injecting proxy in front of the real registry', function () {
  this.timeout(60_000);
  const uniq = `${process.pid}-${Date.now().toString(36)}`;
  let dir: string;
  let small: TestImage;
  let proxy: FaultProxy;
  let progress: string[];
  const repoOf = (name: string) => `elfpack-faults/${name}-${uniq}`;
  // Short waits keep the file fast; a retry that should not happen shows up in the request log.
  const options = (extra: Partial<PushOptions> = {}): PushOptions => ({
    dockerConfigDir: join(dir, 'docker'), env: { PATH: process.env.PATH }, attempts: 3, backoffMs: 20, timeoutMs: 1500,
    onProgress: (l) => progress.push(l), ...extra,
  });
  const push = (image: TestImage, name: string, extra: Partial<PushOptions> = {}): Promise<PushResult> =>
    pushArchive(image.tar, `${proxy.host}/${repoOf(name)}:1`, options(extra));
  const seen = (method: string, path: RegExp) => proxy.requests.filter((q) => q.method === method && path.test(new URL(q.url, 'http://x').pathname));

  before(function () {
    needRegistry(this);
    needCommand(this, 'skopeo');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-faults-'));
    small = writeImage(dir, 'small', [70_000]);
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
  beforeEach(async () => {
    progress = [];
    proxy = await startFaultProxy(PLAIN_REGISTRY);
  });
  afterEach(async () => { await proxy?.stop(); });

  describe('retries', () => {
    it('the ping (GET /v2/) is retried like any request: a 503, then a dropped connection, do not fail the push', async () => {
      const image = writeImage(dir, 'ping', [10_000]);
      proxy.script({ method: 'GET', path: /^\/v2\/$/, nth: 1, fault: { answer: 503 } }, { method: 'GET', path: /^\/v2\/$/, nth: 2, fault: { drop: 'request' } });
      const r = await push(image, 'ping');
      expect(r.digest).to.equal(image.manifest);
      expect(seen('GET', /^\/v2\/$/).map((q) => q.status)).to.deep.equal([503, 'dropped', 200]);
      expect(progress.filter((l) => l.startsWith('GET /v2/:'))).to.have.length(2);
      await expectOnRegistry(image, repoOf('ping'));
    });

    it('a blob PUT the registry stored but whose answer was lost: the retry finds the session closed, and the blob there', async () => {
      const image = writeImage(dir, 'lost', [50_000]);
      proxy.script({ method: 'PUT', path: /\/blobs\/uploads\/./, nth: 1, fault: { drop: 'answer' } }, { method: 'PUT', path: /\/manifests\//, nth: 1, fault: { drop: 'answer' } });
      const r = await push(image, 'lost');
      expect(r.digest).to.equal(image.manifest);
      expect(seen('PUT', /\/blobs\/uploads\/./).map((q) => q.status)).to.deep.equal(['dropped', 404, 201]);
      expect(seen('PUT', /\/manifests\//).map((q) => q.status)).to.deep.equal(['dropped', 201]);
      await expectOnRegistry(image, repoOf('lost'));
    });
  });

  describe('Location headers resolve against the URL of the request that returned them', () => {
    const forms: [LocationForm, string][] = [
      ['relative', 'ID?…'], ['dot', './ID?…'], ['dotdot', '../uploads/ID?…'], ['path', '/v2/…'],
      ['network-path', '//host:port/v2/…'], ['absolute', 'http://host:port/v2/…'], ['other-port', 'http://host:other-port/v2/…'],
    ];
    for (const [form, looks] of forms) {
      it(`${form} (${looks}) from the POST and every PATCH: the chunks and the closing PUT reach the session`, async () => {
        const image = writeImage(dir, `loc-${form}`, [100_000]);
        proxy.script({ method: 'POST', nth: 'every', fault: { forward: { location: form } } }, { method: 'PATCH', nth: 'every', fault: { forward: { location: form } } });
        const r = await push(image, `loc-${form}`, { chunkSize: 32 << 10 });
        expect(r.digest).to.equal(image.manifest);
        const uploads = proxy.requests.filter((q) => q.method === 'PATCH' || (q.method === 'PUT' && q.url.includes('/blobs/uploads/')));
        expect(uploads.filter((q) => q.method === 'PATCH')).to.have.length(4); // 100 000 bytes in 32 KiB chunks
        for (const q of uploads) {
          expect(new URL(q.url, 'http://x').pathname, q.url).to.match(new RegExp(`^/v2/${repoOf(`loc-${form}`)}/blobs/uploads/[0-9a-f-]{36}$`));
          expect(q.status).to.equal(q.method === 'PATCH' ? 202 : 201);
          expect(q.port).to.equal(form === 'other-port' ? 'other' : 'main');
        }
        await expectOnRegistry(image, repoOf(`loc-${form}`));
      });
    }

    it('a refused cross-repository mount (202 with a relative Location) continues as an upload in that session', async () => {
      const image = writeImage(dir, 'mount', [40_000]);
      // The record claims another repository holds the blobs; the registry has them nowhere, so it
      // refuses each mount by opening an upload session, whose Location the proxy makes relative.
      const record = join(dir, 'pushed-mount.json');
      writeFileSync(record, JSON.stringify({ [proxy.host]: Object.fromEntries(image.blobs.map((b) => [b.digest, [repoOf('nowhere')]])) }));
      proxy.script({ method: 'POST', nth: 'every', fault: { forward: { location: 'relative' } } });
      const r = await push(image, 'mount', { pushedRecord: record });
      expect(r.blobs).to.deep.equal({ uploaded: 2, skipped: 0, mounted: 0 });
      const posts = seen('POST', /\/blobs\/uploads\/$/);
      expect(posts.map((q) => [q.status, new URL(q.url, 'http://x').searchParams.get('from')])).to.deep.equal([[202, repoOf('nowhere')], [202, repoOf('nowhere')]]);
      expect(seen('PUT', /\/blobs\/uploads\/./).map((q) => q.status)).to.deep.equal([201, 201]);
      await expectOnRegistry(image, repoOf('mount'));
    });
  });

  describe('redirects of upload requests', () => {
    // nth: the layer's PUT is the second blob PUT (after the config's); bytes: the body each hop must carry.
    const cases: { method: string; path: RegExp; status: 307 | 308; to: LocationForm; nth?: number; bytes?: number; chunked?: boolean; hops?: number; early?: boolean }[] = [
      { method: 'PUT', path: /\/blobs\/uploads\/./, nth: 2, bytes: 300_000, status: 307, to: 'other-port' },
      { method: 'PUT', path: /\/blobs\/uploads\/./, nth: 2, bytes: 300_000, status: 308, to: 'relative', hops: 2 },
      { method: 'PUT', path: /\/blobs\/uploads\/./, nth: 2, bytes: 300_000, status: 307, to: 'absolute', early: true },
      { method: 'PATCH', path: /\/blobs\/uploads\/./, bytes: 128 << 10, status: 307, to: 'path', chunked: true },
      { method: 'PATCH', path: /\/blobs\/uploads\/./, bytes: 128 << 10, status: 308, to: 'other-port', chunked: true, hops: 2 },
      { method: 'POST', path: /\/blobs\/uploads\/$/, bytes: 0, status: 307, to: 'dot' },
      { method: 'PUT', path: /\/manifests\//, status: 308, to: 'network-path' },
    ];
    for (const c of cases) {
      const what = c.path.source.includes('manifests') ? 'the manifest PUT' : `a blob ${c.method}`;
      it(`${c.status} on ${what} to a Location in the ${c.to} form${c.hops ? `, ${c.hops} hops` : ''}${c.early ? ', answered before the body was read' : ''}: followed, the body sent again from the file`, async () => {
        const name = `redir-${c.method}-${c.status}-${c.to}`.toLowerCase();
        const image = writeImage(dir, name, [300_000]);
        const [first, hops] = [c.nth ?? 1, c.hops ?? 1];
        proxy.script({ method: c.method, path: c.path, nth: Array.from({ length: hops }, (_, i) => first + i), fault: { redirect: c.status, to: c.to, early: c.early } });
        const r = await push(image, name, c.chunked ? { chunkSize: 128 << 10 } : {});
        expect(r.digest).to.equal(image.manifest);
        const chain = seen(c.method, c.path).slice(first - 1, first + hops);
        expect(chain.map((q) => q.status)).to.deep.equal([...Array(hops).fill(c.status), c.method === 'PATCH' || c.method === 'POST' ? 202 : 201]);
        // Every hop carried the whole body again (the proxy reads it before redirecting, unless early).
        const bytes = c.bytes ?? chain[hops].bytesIn;
        expect(chain.map((q) => q.bytesIn)).to.deep.equal([...Array(hops).fill(c.early ? 0 : bytes), bytes]);
        if (c.to === 'other-port') expect(chain.map((q) => q.port)).to.deep.equal(hops === 1 ? ['main', 'other'] : ['main', 'other', 'other']);
        await expectOnRegistry(image, repoOf(name));
      });
    }

    it('a 302 on a blob PUT (which HTTP clients turn into a GET) is one line naming the request, not a silent GET', async () => {
      proxy.script({ method: 'PUT', path: /\/blobs\/uploads\/./, fault: { redirect: 302, to: 'absolute' } });
      const err = await pushError(push(small, 'redir-302'));
      expect(err.code).to.equal('REGISTRY');
      expect(err.describe()).to.match(new RegExp(`^${proxy.host}: PUT /v2/${repoOf('redir-302')}/blobs/uploads/[0-9a-f-]{36}: answered 302, a redirect that turns the request into a GET; a registry redirects uploads with 307 or 308$`));
      expect(proxy.requests.filter((q) => q.method === 'GET' && q.url.includes('/blobs/'))).to.deep.equal([]);
    });

    it('redirects that never end stop after 5 hops, with one line', async () => {
      proxy.script({ method: 'PUT', path: /\/manifests\//, nth: 'every', fault: { redirect: 307, to: 'path' } });
      const err = await pushError(push(small, 'redir-loop'));
      expect(err.describe()).to.equal(`${proxy.host}: PUT /v2/${repoOf('redir-loop')}/manifests/1: more than 5 redirects`);
      expect(seen('PUT', /\/manifests\//)).to.have.length(6);
    });
  });

  describe('Retry-After', () => {
    const gapAfter = (method: string, path: RegExp, status: number) => {
      const qs = seen(method, path);
      const i = qs.findIndex((q) => q.status === status);
      expect(i, JSON.stringify(qs)).to.be.greaterThan(-1);
      return qs[i + 1].at - qs[i].at;
    };

    it('429 with Retry-After in seconds: the next try waits that long (not the 20 ms backoff)', async () => {
      const image = writeImage(dir, 'ra-seconds', [5_000]);
      proxy.script({ method: 'HEAD', fault: { answer: 429, retryAfter: '1', errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] } });
      await push(image, 'ra-seconds');
      expect(gapAfter('HEAD', /\/blobs\//, 429)).to.be.within(950, 5000);
      expect(progress.some((l) => /^HEAD \/v2\/.*: 429 \(Retry-After 1\), retrying in 1 s \(1 of 2\)$/.test(l)), progress.join('\n')).to.equal(true);
      await expectOnRegistry(image, repoOf('ra-seconds'));
    });

    it('503 with Retry-After as an HTTP date: the next try waits until then', async () => {
      const image = writeImage(dir, 'ra-date', [5_000]);
      // An HTTP date has whole seconds: 2.x s from now is at least 1 s away.
      proxy.script({ method: 'POST', fault: { answer: 503, retryAfter: new Date(Date.now() + 2500).toUTCString() } });
      await push(image, 'ra-date');
      expect(gapAfter('POST', /\/blobs\/uploads\/$/, 503)).to.be.within(950, 5000);
      await expectOnRegistry(image, repoOf('ra-date'));
    });

    it('a Retry-After past the cap waits the cap', async () => {
      const image = writeImage(dir, 'ra-cap', [5_000]);
      proxy.script({ method: 'PUT', path: /\/manifests\//, fault: { answer: 503, retryAfter: '3600' } });
      await push(image, 'ra-cap', { retryWaitCapMs: 400 });
      expect(gapAfter('PUT', /\/manifests\//, 503)).to.be.within(350, 3000);
      await expectOnRegistry(image, repoOf('ra-cap'));
    });

    it('Retry-After does not lift the attempts bound: the last 429 is the error, with the registry\'s code and message', async () => {
      proxy.script({ method: 'PUT', path: /\/manifests\//, nth: 'every', fault: { answer: 429, retryAfter: '0', errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] } });
      const err = await pushError(push(small, 'ra-bound'));
      expect(err.describe()).to.equal(`${proxy.host}: PUT /v2/${repoOf('ra-bound')}/manifests/1: the manifest ${small.manifest} rejected: 429 TOOMANYREQUESTS: slow down`);
      expect(seen('PUT', /\/manifests\//)).to.have.length(3);
    });
  });

  describe('the deadline of a request without progress', () => {
    let big: TestImage;
    before(() => {
      // Larger than what the loopback's socket buffers hold, so a registry that stops reading is seen.
      big = writeImage(dir, 'big', [24 << 20]);
    });

    it('a registry that reads the request and never answers: REGISTRY_TIMEOUT naming the request, after the deadline, not retried', async () => {
      proxy.script({ method: 'HEAD', fault: { stall: 'answer' } });
      const t = Date.now();
      const err = await pushError(push(small, 'stall-answer', { timeoutMs: 1000 }));
      expect(Date.now() - t).to.be.within(900, 4000);
      expect(err.code).to.equal('REGISTRY_TIMEOUT');
      expect(err.describe()).to.equal(`${proxy.host}: HEAD /v2/${repoOf('stall-answer')}/blobs/${small.blobs[0].digest}: stalled: no answer within 1 s (--timeout)`);
      expect(seen('HEAD', /./)).to.have.length(1);
    });

    it('a registry that stops reading the upload: the line says how much of the body it took', async () => {
      proxy.script({ method: 'PUT', path: /\/blobs\/uploads\/./, nth: 2, fault: { stall: 'upload' } }); // the layer's, after the config's
      const err = await pushError(push(big, 'stall-upload', { timeoutMs: 1000 }));
      expect(err.code).to.equal('REGISTRY_TIMEOUT');
      expect(err.describe()).to.match(new RegExp(`^${proxy.host}: PUT /v2/${repoOf('stall-upload')}/blobs/uploads/[0-9a-f-]{36}: stalled sending the body: the registry took \\d+ of ${24 << 20} bytes, then nothing for 1 s \\(--timeout\\)$`));
    });

    it('a registry that sends the headers and stalls the body', async () => {
      proxy.script({ method: 'GET', path: /^\/v2\/$/, fault: { stall: 'answer-body' } });
      const err = await pushError(push(small, 'stall-body', { timeoutMs: 1000 }));
      expect(err.code).to.equal('REGISTRY_TIMEOUT');
      expect(err.describe()).to.equal(`${proxy.host}: GET /v2/: stalled: the answer (200) started, then no data for 1 s after 0 bytes (--timeout)`);
    });

    it('a server that accepts the connection and never speaks: the TLS handshake stalls', async () => {
      const silent = await startSilentServer();
      try {
        const t = Date.now();
        const err = await pushError(pushArchive(small.tar, `${silent.host}/x/y:1`, options({ timeoutMs: 1000 })));
        expect(Date.now() - t).to.be.within(900, 4000);
        expect([err.code, err.describe()]).to.deep.equal(['REGISTRY_TIMEOUT', `${silent.host}: GET /v2/: stalled connecting: no TLS connection to ${silent.host} within 1 s (--timeout)`]);
      } finally {
        await silent.stop();
      }
    });

    it('a port that never completes the TCP handshake: the connect stalls', async function () {
      needCommand(this, 'python3');
      const closed = await startUnacceptingPort();
      try {
        const t = Date.now();
        const err = await pushError(pushArchive(small.tar, `${closed.host}/x/y:1`, options({ timeoutMs: 1000 })));
        expect(Date.now() - t).to.be.within(900, 4000);
        expect([err.code, err.describe()]).to.deep.equal(['REGISTRY_TIMEOUT', `${closed.host}: GET /v2/: stalled connecting: no TLS connection to ${closed.host} within 1 s (--timeout)`]);
      } finally {
        await closed.stop();
      }
    });

    it('a slow upload that keeps making progress is not cut off, however long it takes', async () => {
      // 24 MiB at 8 MiB/s: three times the deadline in all.
      proxy.script({ method: 'PUT', path: /\/blobs\/uploads\/./, nth: 'every', fault: { forward: { bytesPerSecond: 8 << 20 } } });
      const t = Date.now();
      const r = await push(big, 'slow', { timeoutMs: 1500 });
      expect(Date.now() - t).to.be.greaterThan(2900);
      expect(r.digest).to.equal(big.manifest);
      await expectOnRegistry(big, repoOf('slow'));
    });
  });

  describe('error lines and the CLI', () => {
    const env = () => ({ PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker') });

    it('a refusal names the method, the path and the registry\'s own code and message', async () => {
      proxy.script({ method: 'POST', fault: { answer: 400, errors: [{ code: 'DENIED', message: 'pushes to this repository are frozen' }] } });
      const err = await pushError(push(small, 'denied'));
      expect(err.describe()).to.equal(`${proxy.host}: POST /v2/${repoOf('denied')}/blobs/uploads/: starting an upload failed: 400 DENIED: pushes to this repository are frozen`);
      expect(seen('POST', /./)).to.have.length(1); // a 400 is not retried
    });

    it('a 503 that outlasts the attempts, and connections dropped every time, are one line each', async () => {
      proxy.script({ method: 'PUT', path: /\/blobs\/uploads\/./, nth: 'every', fault: { answer: 503, errors: [{ code: 'UNAVAILABLE', message: 'maintenance' }] } });
      const e503 = await pushError(push(small, 'down'));
      expect(e503.describe()).to.match(new RegExp(`^${proxy.host}: PUT /v2/${repoOf('down')}/blobs/uploads/[0-9a-f-]{36}: upload of ${small.blobs[0].digest} failed: 503 UNAVAILABLE: maintenance$`));
      proxy.script({ method: 'HEAD', nth: 'every', fault: { drop: 'request' } });
      const dropped = await pushError(push(small, 'dropped'));
      expect(dropped.describe()).to.equal(`${proxy.host}: HEAD /v2/${repoOf('dropped')}/blobs/${small.blobs[0].digest}: connection closed before the answer (UND_ERR_SOCKET) (after 3 attempts)`);
    });

    it('--timeout SECONDS reaches the push: a stalled ping is one line on stderr, exit 1', async () => {
      proxy.script({ method: 'GET', path: /^\/v2\/$/, fault: { stall: 'answer' } });
      const r = await runCli(['push', small.tar, `${proxy.host}/${repoOf('cli')}:1`, '--timeout', '0.5'], { env: env() });
      expect([r.code, r.stderr]).to.deep.equal([1, `elfpack: ${proxy.host}: GET /v2/: stalled: no answer within 0.5 s (--timeout)\n`]);
    });

    it('a bad --timeout is a usage error (exit 2) for push and for --push, before anything is packed or sent', async () => {
      for (const bad of ['0', '-1', 'abc', '1e3', '86401', '']) {
        const r = await runCli(['push', small.tar, `${proxy.host}/x:1`, '--timeout', bad], { env: env() });
        expect([r.code, r.stderr], bad).to.deep.equal([2, `elfpack: --timeout ${bad}: want seconds, more than 0 and at most 86400\n`]);
      }
      const packed = await runCli([join(dir, 'no-such-program'), '--push', `${proxy.host}/x:1`, '--timeout', 'soon'], { env: env() });
      expect([packed.code, packed.stderr]).to.deep.equal([2, 'elfpack: --timeout soon: want seconds, more than 0 and at most 86400\n']);
      expect(proxy.requests).to.deep.equal([]);
    });
  });
});
