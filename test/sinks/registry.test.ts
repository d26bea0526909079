// --push and `elfpack push` against real registries (Debian's docker-registry): plain HTTP on
// 127.0.0.1:5000, then htpasswd auth behind TLS with a certificate made here, then through a
// proxy that fails requests. The digest is checked with skopeo; the image is pulled back and run.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from '../support/helpers.js';
import { dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import { pushArchive } from '../../src/sinks/registry.js';
import { PLAIN_REGISTRY, needPrivateRegistry, needRegistry, startFlakyProxy, startRegistry } from '../support/registry.js';

describe('sinks/registry: push to a real registry', function () {
  this.timeout(180_000);
  let dir: string;
  let tar: string;
  let digest: string;
  /** The image's blobs: its layers and its config. */
  let blobs: number;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker'), ...extra });
  const uniq = `${process.pid}-${Date.now().toString(36)}`;

  before(async function () {
    needRegistry(this);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-push-'));
    tar = join(dir, 'hello.tar');
    // A file of this run only, in a repository of this run only (the base layer, the loader and
    // libc, is in the registry already): every blob is new to it, so the counts below are exact.
    // One image, no SBOM index: the digests and blob counts below are the image's (pack-sbom.test.ts pushes SBOMs).
    writeFileSync(join(dir, 'run-id'), uniq);
    const p = await runCli([fixture(this, 'glibc/hello'), '--out', tar, '--tag', 'hello:1', '--add', `${join(dir, 'run-id')}:/run-id`, '--sbom', 'none', '--json']);
    expect(p.code, p.stderr).to.equal(0);
    digest = JSON.parse(p.stdout).digest;
    blobs = JSON.parse(p.stdout).layers.length + 1;
  });
  after(() => {
    dockerRmi(`${PLAIN_REGISTRY}/elfpack-test/hello-${uniq}:1`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plain HTTP on localhost: the pushed digest is the local one, skopeo agrees, the engine pulls it back and runs it', async function () {
    needEngine(this);
    const ref = `${PLAIN_REGISTRY}/elfpack-test/hello-${uniq}:1`;
    const r = await runCli(['push', tar, ref], { env: env() });
    expect([r.code, r.stdout], r.stderr).to.deep.equal([0, `${digest}\n`]);
    expect(r.stderr).to.match(/\(\d+ blobs uploaded, 0 already there, 0 mounted\)/);
    const raw = run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]).stdout;
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).to.equal(digest);
    // A tar's layers are gzip by default, and stay so pushed; skopeo copy checks every digest and diff_id.
    const mediaTypes = new Set(JSON.parse(raw).layers.map((l: { mediaType: string }) => l.mediaType));
    expect([...mediaTypes]).to.deep.equal(['application/vnd.oci.image.layer.v1.tar+gzip']);
    const copied = run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(dir, 'copied')}:1`]);
    expect(copied.status, copied.stderr).to.equal(0);
    expect(run('docker', ['pull', ref]).status).to.equal(0);
    const ran = dockerRun(ref);
    expect([ran.status, ran.stdout.toString()], ran.stderr).to.deep.equal([0, 'hello from glibc-dynamic\n']);
    // Again: every blob is there already. To another repository: mounted, not uploaded.
    expect((await runCli(['push', tar, ref], { env: env() })).stderr).to.match(/\(0 blobs uploaded, \d+ already there, 0 mounted\)/);
    const other = await runCli(['push', tar, `${PLAIN_REGISTRY}/elfpack-test/other-${uniq}:1`, '--json'], { env: env() });
    expect(JSON.parse(other.stdout)).to.deep.include({ schema: 'elfpack.push/v1', digest });
    expect(JSON.parse(other.stdout).blobs).to.deep.equal({ uploaded: 0, skipped: 0, mounted: blobs });
  });

  it('pack --push without --out pushes and keeps no file', async function () {
    const work = join(dir, 'work');
    mkdirSync(work);
    const r = await runCli([fixture(this, 'static/hello-static'), '--push', `${PLAIN_REGISTRY}/elfpack-test/static-${uniq}:1`, '--sbom', 'none', '--json'], { env: env(), cwd: work });
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.pushed.digest).to.equal(out.digest);
    expect(out.out).to.equal(null);
    expect(readdirSync(work)).to.deep.equal([]);
  });

  it('TLS with a private CA and htpasswd auth: credentials from auths, a credential helper and a credsStore; wrong ones are one clear line', async function () {
    needPrivateRegistry(this);
    const reg = await startRegistry({ tls: true, auth: { user: 'pusher', password: 's3cret-pw' } });
    try {
      const ref = `${reg.host}/team/hello:1`;
      const cfg = (content: object) => {
        mkdirSync(join(dir, 'docker'), { recursive: true });
        writeFileSync(join(dir, 'docker/config.json'), JSON.stringify(content));
      };
      const auth = (u: string, p: string) => ({ auths: { [reg.host]: { auth: Buffer.from(`${u}:${p}`).toString('base64') } } });
      cfg({});
      const untrusted = await runCli(['push', tar, ref], { env: env() });
      expect([untrusted.code, untrusted.stderr]).to.deep.equal([1, `elfpack: ${reg.host}: GET /v2/: its TLS certificate is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT): give the private CA with --ca-file CA.pem\n`]);
      const none = await runCli(['push', tar, ref, '--ca-file', reg.caFile!], { env: env() });
      // The first request that needs credentials is the HEAD of the config blob.
      const head = `HEAD /v2/team/hello/blobs/sha256:[0-9a-f]{64}`;
      expect(none.stderr).to.match(new RegExp(`^elfpack: ${reg.host}: ${head}: authentication required \\(401 Unauthorized\\): no credentials for this registry in the docker config \\(docker login first\\)\n$`));
      cfg(auth('pusher', 'wrong'));
      const wrong = await runCli(['push', tar, ref, '--ca-file', reg.caFile!], { env: env() });
      expect(wrong.stderr).to.match(new RegExp(`^elfpack: ${reg.host}: ${head}: authentication failed \\(401 Unauthorized\\): the credentials in the docker config were refused \\(docker login again\\)\n$`));
      expect(wrong.stderr).to.not.include('wrong');
      cfg(auth('pusher', 's3cret-pw'));
      const ok = await runCli(['push', tar, ref, '--ca-file', reg.caFile!], { env: env() });
      expect([ok.code, ok.stdout], ok.stderr).to.deep.equal([0, `${digest}\n`]);
      expect(ok.stderr).to.not.include('s3cret');
      const seen = JSON.parse(run('skopeo', ['inspect', '--cert-dir', reg.certDir!, '--creds', 'pusher:s3cret-pw', `docker://${ref}`]).stdout);
      expect(seen.Digest).to.equal(digest);
      // A credential helper named by credHelpers, found on PATH.
      const bin = join(dir, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(join(bin, 'docker-credential-elfpacktest'), '#!/bin/sh\nread server\necho "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"pusher\\",\\"Secret\\":\\"s3cret-pw\\"}"\n');
      chmodSync(join(bin, 'docker-credential-elfpacktest'), 0o755);
      cfg({ credHelpers: { [reg.host]: 'elfpacktest' } });
      const helped = await runCli(['push', tar, `${reg.host}/team/hello:2`, '--ca-file', reg.caFile!], { env: env({ PATH: `${bin}:${process.env.PATH}` }) });
      expect([helped.code, helped.stdout], helped.stderr).to.deep.equal([0, `${digest}\n`]);
      // The same helper as the store for every registry (credsStore).
      cfg({ credsStore: 'elfpacktest' });
      const stored = await runCli(['push', tar, `${reg.host}/team/hello:3`, '--ca-file', reg.caFile!], { env: env({ PATH: `${bin}:${process.env.PATH}` }) });
      expect([stored.code, stored.stdout], stored.stderr).to.deep.equal([0, `${digest}\n`]);
    } finally {
      await reg.stop();
    }
  });

  it('bearer tokens (the flow of Docker Hub and most registries): a token for the push scope, then a mount with the source\'s pull scope; a scope it lacks is a 403', async function () {
    needPrivateRegistry(this);
    const reg = await startRegistry({ token: { user: 'bot', password: 'tok-pw' } });
    try {
      mkdirSync(join(dir, 'docker'), { recursive: true });
      writeFileSync(join(dir, 'docker/config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bot:tok-pw').toString('base64') } } }));
      const e = env({ XDG_CACHE_HOME: join(dir, 'cache-token') });
      const first = await runCli(['push', tar, `${reg.host}/a/hello:1`], { env: e });
      expect([first.code, first.stdout], first.stderr).to.deep.equal([0, `${digest}\n`]);
      const second = await runCli(['push', tar, `${reg.host}/b/hello:1`, '--json'], { env: e });
      expect(JSON.parse(second.stdout).blobs, second.stderr).to.deep.equal({ uploaded: 0, skipped: 0, mounted: blobs });
      const denied = await runCli(['push', tar, `${reg.host}/readonly/hello:1`], { env: e });
      // The token lacks push on readonly/: the mount (the first request needing it) is refused.
      expect(denied.stderr).to.equal(`elfpack: ${reg.host}: POST /v2/readonly/hello/blobs/uploads/: permission denied (401 UNAUTHORIZED: authentication required, insufficient_scope): these credentials may not push to readonly/hello\n`);
      writeFileSync(join(dir, 'docker/config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('bot:nope').toString('base64') } } }));
      const refused = await runCli(['push', tar, `${reg.host}/a/hello:2`], { env: e });
      // The token server (another port) refuses them: its line names it and its path.
      expect(refused.stderr).to.match(/^elfpack: 127\.0\.0\.1:\d+: GET \/token: authentication failed \(401 Unauthorized\): the credentials in the docker config were refused \(docker login again\)\n$/);
    } finally {
      await reg.stop();
    }
  });

  for (const mode of ['500', 'drop'] as const) {
    it(`a registry that fails every third request (${mode === '500' ? 'HTTP 500' : 'dropped connection'}) is survived, and manifests go up after their blobs`, async function () {
      const proxy = await startFlakyProxy(PLAIN_REGISTRY, { failEvery: 3, mode });
      try {
        const r = await runCli(['push', tar, `${proxy.host}/elfpack-test/flaky-${mode}-${uniq}:1`], { env: env({ XDG_CACHE_HOME: join(dir, `cache-${mode}`) }) });
        expect([r.code, r.stdout], r.stderr).to.deep.equal([0, `${digest}\n`]);
        expect(r.stderr).to.match(/retrying/);
        expect(proxy.requests.some((q) => q.status === (mode === '500' ? 500 : 'dropped'))).to.equal(true);
        const ok = proxy.requests.filter((q) => typeof q.status === 'number' && q.status < 300);
        const lastBlob = ok.map((q) => q.method === 'PUT' && q.url.includes('/blobs/uploads/')).lastIndexOf(true);
        const firstManifest = ok.findIndex((q) => q.method === 'PUT' && q.url.includes('/manifests/'));
        expect(lastBlob).to.be.greaterThan(-1);
        expect(firstManifest).to.be.greaterThan(lastBlob);
      } finally {
        await proxy.stop();
      }
    });
  }

  it('a blob larger than the chunk size goes up in chunks (PATCH with Content-Range), with the same digest', async function () {
    const proxy = await startFlakyProxy(PLAIN_REGISTRY);
    try {
      const r = await pushArchive(tar, `${proxy.host}/elfpack-test/chunked-${uniq}:1`, { dockerConfigDir: join(dir, 'docker'), env: env(), chunkSize: 256 << 10 });
      expect(r.digest).to.equal(digest);
      const patches = proxy.requests.filter((q) => q.method === 'PATCH');
      expect(patches.length).to.be.greaterThan(2);
      expect(patches.every((q) => q.status === 202)).to.equal(true);
    } finally {
      await proxy.stop();
    }
  });

  it('a manifest the registry rejects, a server that is no registry (404) and a tar that is no image are one clear line each', async function () {
    const bad = join(dir, 'bad');
    mkdirSync(join(bad, 'blobs/sha256'), { recursive: true });
    const put = (content: string) => {
      const d = createHash('sha256').update(content).digest('hex');
      writeFileSync(join(bad, 'blobs/sha256', d), content);
      return { digest: `sha256:${d}`, size: Buffer.byteLength(content) };
    };
    const config = put('{}');
    // Sent as an OCI manifest, but its body says Docker schema 2: the registry refuses it (400).
    const manifest = put(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] }));
    writeFileSync(join(bad, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
    writeFileSync(join(bad, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    expect(run('tar', ['-C', bad, '-cf', join(dir, 'bad.tar'), 'index.json', 'oci-layout', 'blobs']).status).to.equal(0);
    const r = await runCli(['push', join(dir, 'bad.tar'), `${PLAIN_REGISTRY}/elfpack-test/bad:1`], { env: env() });
    expect(r.code).to.equal(1);
    const errors = r.stderr.trim().split('\n').filter((l) => !l.startsWith('elfpack: uploading'));
    expect(errors).to.have.length(1);
    expect(errors[0]).to.equal(`elfpack: ${PLAIN_REGISTRY}: PUT /v2/elfpack-test/bad/manifests/1: the manifest ${manifest.digest} rejected: 400 MANIFEST_INVALID: manifest invalid`);
    const notTar = await runCli(['push', join(dir, 'nope.tar'), `${PLAIN_REGISTRY}/x:1`], { env: env() });
    expect([notTar.code, notTar.stderr]).to.deep.equal([2, `elfpack: ${join(dir, 'nope.tar')}: no such image tar\n`]);
    // Any HTTP server that is not a registry: GET /v2/ answers 404.
    const notRegistry = http.createServer((_q, a) => a.writeHead(404).end('no'));
    await new Promise<void>((resolve) => notRegistry.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(notRegistry.address() as AddressInfo).port}`;
      const nf = await runCli(['push', tar, `${host}/x:1`], { env: env() });
      expect(nf.stderr).to.equal(`elfpack: ${host}: not a registry: GET http://${host}/v2/ answered 404 (the distribution API starts at /v2/)\n`);
    } finally {
      notRegistry.closeAllConnections();
      notRegistry.close();
    }
    const badRef = await runCli(['push', tar, 'UPPER/Case'], { env: env() });
    expect(badRef.stderr).to.equal('elfpack: bad repository name in "UPPER/Case": lowercase letters, digits and separators\n');
  });
});
