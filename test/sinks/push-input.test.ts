// What `elfpack push` reads before it sends anything: the tar's digests are checked before they
// name a blob or a URL path, and the docker config's bytes are never quoted in an error.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCredentials } from '../../src/sinks/registry-auth.js';
import { blob, ociImage, tarOf, writeArchive } from '../support/image-builder.js';
import { runCli } from '../support/helpers.js';

describe('sinks/registry: what a push reads is checked before anything is sent', function () {
  this.timeout(30_000);
  let dir: string;
  let server: http.Server;
  let requests: string[];
  let port: number;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'elfpack-pushin-'));
    requests = [];
    server = http.createServer((req, res) => { requests.push(`${req.method} ${req.url}`); res.writeHead(200).end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a digest that is not algorithm:hex, a blob that fails its digest, an index that loops: one line, exit 1, no request made', async () => {
    const good = ociImage([tarOf([{ name: 'a', body: 'x' }])]);
    const cases: [Map<string, Buffer>, RegExp][] = [];
    const badIndex = new Map(good.files).set('index.json', Buffer.from(JSON.stringify({ manifests: [{ digest: 'sha256:../../../v2/other/manifests/x', size: 2 }] })));
    cases.push([badIndex, /no valid digest/]);
    const m = JSON.parse(good.files.get(`blobs/sha256/${good.manifest.digest.slice(7)}`)!.toString());
    m.layers[0].digest = 'sha256:' + '0'.repeat(63) + '/';
    const mb = blob(JSON.stringify(m));
    cases.push([new Map(good.files).set(`blobs/sha256/${mb.digest.slice(7)}`, mb.bytes).set('index.json', Buffer.from(JSON.stringify({ manifests: [{ digest: mb.digest, size: mb.size }] }))), /layers\[0\] has no valid digest/]);
    cases.push([new Map(good.files).set(`blobs/sha256/${good.manifest.digest.slice(7)}`, Buffer.from('x'.repeat(good.manifest.size))), /does not match its digest/]);
    const fake = 'ab'.repeat(32);
    const loop = Buffer.from(JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${fake}`, size: 0 }] }));
    cases.push([new Map(good.files).set(`blobs/sha256/${fake}`, loop).set('index.json', Buffer.from(JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${fake}`, size: loop.length }] }))), /does not match its digest|loop/]);
    for (const [i, [files, pattern]] of cases.entries()) {
      const tar = writeArchive(join(dir, `${i}.tar`), files);
      const r = await runCli(['push', tar, `127.0.0.1:${port}/x:1`]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(pattern);
    }
    expect(requests).to.deep.equal([]);
  });

  it('a docker config that is not JSON is named, never quoted (it holds credentials)', () => {
    writeFileSync(join(dir, 'config.json'), '{"auths":{"r.example":{"auth":"c2VjcmV0OnBhc3N3b3Jk"}} SECRET-TOKEN');
    let msg = '';
    try {
      findCredentials('r.example', dir, {});
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).to.equal('is not valid JSON');
  });
});
