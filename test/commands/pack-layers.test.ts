// Layers images share, with the real things: jq and curl packed from the host share their base
// byte for byte, both run in the engine, a push of curl after jq uploads only the layers jq's did
// not (counted at a proxy in front of the registry), and skopeo and umoci unpack a layered tar into
// the same files as the one-layer image.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, skipOrFail } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, needImageTools, run } from '../support/engine.js';
import { PLAIN_REGISTRY, needRegistry } from '../support/registry.js';
import { startFaultProxy, type ProxiedRequest } from '../support/fault-proxy.js';

interface Packed { tar: string; tag: string; layers: { kind: string; holds: string[]; digest: string }[] }

describe('pack --layers: layers images share, with the engine, a registry, skopeo and umoci', function () {
  this.timeout(300_000);
  let dir: string;
  const loaded: string[] = [];
  const packed: Record<string, Packed> = {};
  const env = () => ({ PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker') });

  before(async function () {
    for (const p of ['/usr/bin/jq', '/usr/bin/curl']) if (!existsSync(p)) skipOrFail(this, `${p} is not installed (test/setup/install-deps.sh installs it)`);
    dir = mkdtempSync(join(tmpdir(), 'elfpack-layers-'));
    for (const [name, extra] of [['jq', []], ['curl', []], ['curl-one', ['--layers', '1']]] as const) {
      const tar = join(dir, `${name}.tar`);
      const tag = `elfpack-layers-${name}:${process.pid}`;
      const r = await runCli([`/usr/bin/${name.replace('-one', '')}`, ...extra, '--sbom', 'none', '--out', tar, '--tag', tag, '--json', '--', '--version'], { env: env() });
      expect(r.code, r.stderr).to.equal(0);
      packed[name] = { tar, tag, layers: JSON.parse(r.stdout).layers };
    }
  });
  after(() => {
    for (const t of loaded) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('jq and curl share their first layer (the base), and only it; --layers 1 writes one', () => {
    const { jq, curl } = packed;
    expect(jq.layers[0]).to.deep.include({ kind: 'base' });
    expect(jq.layers[0].digest).to.match(/^sha256:/).and.equal(curl.layers[0].digest);
    expect(jq.layers.length).to.be.within(3, 15);
    expect(curl.layers.length).to.be.within(3, 15);
    expect(curl.layers[curl.layers.length - 1].holds).to.deep.equal(['program']);
    expect(packed['curl-one'].layers.map((l) => l.kind)).to.deep.equal(['all']);
  });

  it('--layers on pack and go: a bad value is one usage line (exit 2) before anything is packed; 1 and auto are said in the summary', async () => {
    for (const cmd of [[], ['go']]) {
      const r = await runCli([...cmd, ...(cmd.length ? [] : ['/usr/bin/jq']), '--layers', '0', '--out', '/nonexistent/x.tar'], { env: env() });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.equal('elfpack: --layers 0: want auto, or a number of layers from 1 to 127\n');
    }
    const one = await runCli(['/usr/bin/jq', '--layers', '1', '--rootfs', join(dir, 'jq-rootfs')], { env: env() });
    expect(one.code, one.stderr).to.equal(0);
    expect(one.stderr).to.not.match(/layers:/);
    const auto = await runCli(['/usr/bin/jq', '--rootfs', join(dir, 'jq-rootfs-auto')], { env: env() });
    expect(auto.stderr).to.match(/\n {2}\d+ layers: base \(\d+ files, [\d.]+ MB\); .*libjq1 .*; program \(\d+ files/);
  });

  it('both images load into the engine and run (no network, no pull)', function () {
    needEngine(this);
    for (const [name, want] of [['jq', /^jq-1\./], ['curl', /^curl \d/]] as const) {
      expect(dockerLoad(packed[name].tar)).to.equal(packed[name].tag);
      loaded.push(packed[name].tag);
      const r = dockerRun(packed[name].tag);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout.toString()).to.match(want);
    }
  });

  it('pushing curl after jq uploads only the layers jq had not, its config and its manifest', async function () {
    needRegistry(this);
    const proxy = await startFaultProxy(PLAIN_REGISTRY);
    try {
      const repo = `${proxy.host}/elfpack-test/layers-${process.pid}-${Date.now()}`;
      const push = async (name: string) => {
        const from = proxy.requests.length;
        const r = await runCli(['push', packed[name].tar, `${repo}:${name}`], { env: env() });
        expect(r.code, r.stderr).to.equal(0);
        return proxy.requests.slice(from);
      };
      const uploads = (reqs: ProxiedRequest[]) => reqs.filter((q) => q.method === 'PUT' && q.url.includes('/blobs/uploads/'));
      const heads = (reqs: ProxiedRequest[]) => reqs.filter((q) => q.method === 'HEAD' && q.url.includes('/blobs/'));
      const manifests = (reqs: ProxiedRequest[]) => reqs.filter((q) => q.method === 'PUT' && q.url.includes('/manifests/'));
      const first = await push('jq');
      expect(uploads(first)).to.have.length(packed.jq.layers.length + 1);
      const second = await push('curl');
      const jqLayers = new Set(packed.jq.layers.map((l) => l.digest));
      const fresh = packed.curl.layers.filter((l) => !jqLayers.has(l.digest));
      expect(fresh).to.have.length(packed.curl.layers.length - 1);
      // Every blob is asked about once (the layers and the config); the base was there.
      expect(heads(second)).to.have.length(packed.curl.layers.length + 1);
      expect(heads(second).filter((q) => q.status === 200).map((q) => q.url.slice(q.url.lastIndexOf('/') + 1))).to.deep.equal([packed.curl.layers[0].digest]);
      expect(uploads(second).length + manifests(second).length).to.equal(fresh.length + 1 + 1);
      expect(uploads(second).map((q) => new URL(q.url, 'http://x').searchParams.get('digest'))).to.not.include(packed.curl.layers[0].digest);
      const sent = (reqs: ProxiedRequest[]) => reqs.reduce((n, q) => n + q.bytesIn, 0);
      console.log(`      bytes pushed: jq ${sent(first)}, then curl ${sent(second)} (the base, ${packed.jq.layers[0].digest.slice(7, 19)}, not again)`);
    } finally {
      await proxy.stop();
    }
  });

  it('skopeo (docker-archive:, oci-archive:) and umoci unpack the layered tar into the files of the one-layer image', function () {
    needImageTools(this);
    const want = unpackedTree(packed['curl-one'].tar, 'oci-archive', 'one');
    expect(want.length).to.be.greaterThan(100);
    for (const transport of ['docker-archive', 'oci-archive', 'layout'] as const) {
      expect(unpackedTree(packed.curl.tar, transport, `curl-${transport}`), transport).to.deep.equal(want);
    }
  });

  /**
   * The files umoci unpacks from the tar's OCI layout as it is ('layout'), or from what skopeo
   * copies out of the tar through a transport: one line per entry (type, mode, owner, size and
   * content digest or link target), mtimes aside.
   */
  function unpackedTree(tar: string, via: 'docker-archive' | 'oci-archive' | 'layout', name: string): string[] {
    const layout = join(dir, `${name}-layout`);
    if (via === 'layout') must('tar', ['-C', mkdir(layout), '-xf', tar]);
    else must('skopeo', ['copy', '-q', `${via}:${tar}`, `oci:${layout}:x`]);
    const ref = via === 'layout' ? String(process.pid) : 'x';
    const bundle = join(dir, `${name}-bundle`);
    must('umoci', ['unpack', '--image', `${layout}:${ref}`, bundle]);
    return listTree(join(bundle, 'rootfs'));
  }
});

function mkdir(p: string): string {
  run('mkdir', ['-p', p]);
  return p;
}

function must(cmd: string, args: string[]): void {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
}

/** Every entry under `top`, sorted, from a queue (no recursion). */
function listTree(top: string): string[] {
  const out: string[] = [];
  const queue = [''];
  for (let i = 0; i < queue.length; i++) {
    const rel = queue[i];
    for (const n of readdirSync(join(top, rel)).sort()) {
      const p = `${rel}/${n}`;
      const st = lstatSync(join(top, p));
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(join(top, p))}`
        : st.isFile() ? `${st.size} ${createHash('sha256').update(readFileSync(join(top, p))).digest('hex').slice(0, 16)}` : '';
      out.push(`${p} ${(st.mode & 0o177777).toString(8)} ${st.uid}:${st.gid} ${what}`);
      if (st.isDirectory()) queue.push(p);
    }
  }
  return out.sort();
}
