// --sbom and --sbom-out against the real thing: curl packed from the host (dpkg database), its
// CycloneDX document through the CycloneDX library's strict validator, its SPDX document through
// SPDX 2.3's rules, both against the package model and the image's own files; the tar read by
// skopeo for BuildKit's attestation layout, loaded and run by the engine, pushed to the registry
// and read back; --sbom none as before; a failed --verify leaves no SBOM file.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needCommand, runCli, skipOrFail } from '../support/helpers.js';
import { dockerLoad, dockerRmi, dockerRun, needEngine, run } from '../support/engine.js';
import { PLAIN_REGISTRY, needRegistry } from '../support/registry.js';
import { spdxProblems } from '../support/spdx-rules.js';

const require = createRequire(import.meta.url);
const CURL = '/usr/bin/curl';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every regular file under `root` (image paths) with the sha256 of its bytes. */
function hashTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack = [''];
  while (stack.length) {
    const rel = stack.pop()!;
    for (const name of readdirSync(join(root, rel))) {
      const p = `${rel}/${name}`;
      const st = lstatSync(join(root, p));
      if (st.isDirectory()) stack.push(p);
      else if (st.isFile()) out.set(p, sha256(readFileSync(join(root, p))));
    }
  }
  return out;
}

describe('pack --sbom: SBOMs attested beside the image, as BuildKit does', function () {
  this.timeout(300_000);
  const uniq = `${process.pid}-${Date.now().toString(36)}`;
  const tag = `elfpack-sbom-test/curl:${uniq}`;
  const tags = [tag];
  let dir: string;
  let tar: string;
  let out: string;
  let json: any;
  let spdx: any;
  let cdx: any;
  /** The tar unpacked: blobs by digest. */
  const blob = (digest: string) => readFileSync(join(dir, 'x', 'blobs/sha256', digest.slice(7)));

  before(async function () {
    if (!existsSync(CURL)) skipOrFail(this, `${CURL} is not installed (make deps installs curl)`);
    needCommand(this, 'skopeo');
    dir = mkdtempSync(join(tmpdir(), 'elfpack-sbom-'));
    tar = join(dir, 'curl.tar');
    out = join(dir, 'sboms');
    mkdirSync(out);
    const r = await runCli([CURL, '--out', tar, '--tag', tag, '--sbom-out', out, '--json', '--', '--version']);
    expect(r.code, r.stderr).to.equal(0);
    json = JSON.parse(r.stdout);
    spdx = JSON.parse(readFileSync(join(out, 'curl.spdx.json'), 'utf8'));
    cdx = JSON.parse(readFileSync(join(out, 'curl.cdx.json'), 'utf8'));
    mkdirSync(join(dir, 'x'));
    expect(run('tar', ['-C', join(dir, 'x'), '-xf', tar]).status).to.equal(0);
  });
  after(() => {
    for (const t of tags) dockerRmi(t);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--sbom-out writes NAME.spdx.json and NAME.cdx.json (NAME: the repository\'s last component), and the JSON says so', () => {
    expect(readdirSync(out).sort()).to.deep.equal(['curl.cdx.json', 'curl.spdx.json']);
    expect(json.sbom).to.deep.include({ formats: ['spdx', 'cyclonedx'], files: [join(out, 'curl.spdx.json'), join(out, 'curl.cdx.json')] });
    expect(json.indexDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(json.digest).to.not.equal(json.indexDigest);
  });

  it('the CycloneDX document passes the CycloneDX library\'s strict 1.5 validation; the SPDX document SPDX 2.3\'s rules', async () => {
    const lib = require('@cyclonedx/cyclonedx-library');
    const errors = await new lib.Validation.JsonStrictValidator(lib.Spec.Version.v1dot5).validate(JSON.stringify(cdx));
    expect(errors, JSON.stringify(errors)).to.equal(null);
    expect(spdxProblems(spdx)).to.deep.equal([]);
    expect(spdx.packages[0]).to.deep.include({ SPDXID: 'SPDXRef-Image', versionInfo: json.digest });
    expect(cdx.metadata.component.version).to.equal(json.digest);
  });

  it('the packages are the package model\'s: name, version, arch, purl and licenses', () => {
    const model = json.packages.packages as { name: string; version: string; arch: string; purl: string; licenses?: string[] }[];
    expect(model.length).to.be.greaterThan(5);
    const libs = cdx.components.filter((c: any) => c.type === 'library');
    expect(libs.map((c: any) => [c.name, c.version, c.purl]).sort()).to.deep.equal(model.map((p) => [p.name, p.version, p.purl]).sort());
    for (const p of model) {
      const c = libs.find((l: any) => l.purl === p.purl);
      expect(c.properties, p.name).to.deep.include({ name: 'elfpack:package:arch', value: p.arch });
      expect((c.licenses ?? []).map((l: any) => l.license?.id ?? l.license?.name ?? l.expression).length, p.name).to.equal(p.licenses?.length ?? 0);
    }
    const pkgs = spdx.packages.slice(1);
    expect(pkgs.map((p: any) => [p.name, p.versionInfo, p.externalRefs[0].referenceLocator]).sort()).to.deep.equal(model.map((p) => [p.name, p.version, p.purl]).sort());
    for (const p of model) expect(pkgs.find((x: any) => x.purl === p.purl || x.name === p.name).licenseDeclared === 'NOASSERTION', p.name).to.equal(!p.licenses?.length);
    // A Debian name that is an SPDX id stays an id: libcurl4's copyright file names curl.
    const libcurl = model.find((p) => p.name === 'libcurl4')!;
    expect(libcurl.licenses).to.include('curl');
    expect(pkgs.find((p: any) => p.name === 'libcurl4').licenseDeclared).to.match(/^curl AND /);
  });

  it('every file of the image is listed with the sha256 of its bytes in the layer, and its owner or none', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'x', 'manifest.json'), 'utf8'))[0];
    const rootfs = join(dir, 'rootfs');
    mkdirSync(rootfs);
    for (const l of manifest.Layers) expect(run('tar', ['-C', rootfs, '-xf', join(dir, 'x', l)]).status).to.equal(0);
    const files = hashTree(rootfs);
    const inSpdx = new Map<string, string>(spdx.files.map((f: any) => [f.fileName.slice(1), f.checksums.find((c: any) => c.algorithm === 'SHA256').checksumValue]));
    expect(inSpdx).to.deep.equal(files);
    const inCdx = new Map<string, string>();
    const owner = new Map<string, string>();
    for (const c of cdx.components) {
      if (c.type === 'file') inCdx.set(c.name, c.hashes.find((h: any) => h.alg === 'SHA-256').content);
      for (const f of c.components ?? []) {
        inCdx.set(f.name, f.hashes.find((h: any) => h.alg === 'SHA-256').content);
        owner.set(f.name, c.name);
      }
    }
    expect(inCdx).to.deep.equal(files);
    for (const p of json.packages.packages) for (const f of p.files) expect(owner.get(f), f).to.equal(p.name);
    for (const f of json.packages.unowned) expect(owner.has(f), f).to.equal(false);
  });

  it('the ELF needs graph: curl needs libcurl.so.4 and its interpreter, libcurl needs libssl', () => {
    const real = (p: string) => run('readlink', ['-f', p]).stdout.trim();
    const curlDeps = cdx.dependencies.find((d: any) => d.ref === `file:${CURL}`).dependsOn;
    const libcurl = real('/usr/lib/x86_64-linux-gnu/libcurl.so.4');
    expect(curlDeps).to.include(`file:${libcurl}`);
    expect(curlDeps.some((r: string) => /\/ld-linux-x86-64\.so\.2$/.test(r))).to.equal(true);
    expect(cdx.dependencies.find((d: any) => d.ref === `file:${libcurl}`).dependsOn.some((r: string) => /libssl\.so\.3$/.test(r))).to.equal(true);
    const id = new Map(spdx.files.map((f: any) => [f.fileName.slice(1), f.SPDXID]));
    expect(spdx.relationships).to.deep.include({ spdxElementId: id.get(CURL), relationshipType: 'DEPENDS_ON', relatedSpdxElement: id.get(libcurl) });
  });

  it('the tar: index.json names an index of the image and its attestation manifest (unknown/unknown, annotated), whose in-toto statements are about the image', () => {
    const top = run('skopeo', ['inspect', '--raw', `oci-archive:${tar}`]).stdout;
    expect(`sha256:${sha256(Buffer.from(top))}`).to.equal(json.indexDigest);
    const index = JSON.parse(top);
    expect(index.manifests).to.have.length(2);
    expect(index.manifests[0]).to.deep.include({ digest: json.digest, platform: { os: 'linux', architecture: 'amd64' } });
    const att = index.manifests[1];
    expect(att).to.deep.include({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: json.sbom.attestation, platform: { architecture: 'unknown', os: 'unknown' } });
    expect(att.annotations).to.deep.equal({ 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': json.digest });
    const m = JSON.parse(blob(att.digest).toString());
    expect(m.layers.map((l: any) => [l.mediaType, l.annotations['in-toto.io/predicate-type']])).to.deep.equal([
      ['application/vnd.in-toto+json', 'https://spdx.dev/Document'], ['application/vnd.in-toto+json', 'https://cyclonedx.org/bom'],
    ]);
    const [s1, s2] = m.layers.map((l: any) => JSON.parse(blob(l.digest).toString()));
    for (const s of [s1, s2]) {
      expect(s._type).to.equal('https://in-toto.io/Statement/v0.1');
      expect(s.subject).to.deep.equal([{ name: `pkg:docker/elfpack-sbom-test/curl@${uniq}?platform=linux%2Famd64`, digest: { sha256: json.digest.slice(7) } }]);
    }
    expect(s1.predicate).to.deep.equal(spdx);
    expect(s2.predicate).to.deep.equal(cdx);
    // index.json's own entry carries the tag; Docker's manifest.json names the runnable image only.
    expect(JSON.parse(readFileSync(join(dir, 'x', 'index.json'), 'utf8')).manifests[0].digest).to.equal(json.indexDigest);
    expect(JSON.parse(readFileSync(join(dir, 'x', 'manifest.json'), 'utf8'))[0].Config).to.equal(`blobs/sha256/${json.imageId.slice(7)}`);
  });

  it('docker load of the tar gets the runnable image, which runs', function () {
    needEngine(this);
    expect(dockerLoad(tar)).to.equal(tag);
    const ran = dockerRun(tag);
    expect(ran.status, ran.stderr).to.equal(0);
    expect(ran.stdout.toString()).to.match(/^curl \d/);
  });

  it('--root of the tar and doctor read the image, not the attestation', async () => {
    const r = await runCli(['ldd', '--root', tar, CURL, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const d = await runCli(['doctor', tar, '--json']);
    expect(d.code, d.stdout).to.equal(0);
  });

  it('pushed (pack --push and elfpack push of the tar): the registry serves the index, the attestation and its statements', async function () {
    needRegistry(this);
    const env = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), DOCKER_CONFIG: join(dir, 'docker') };
    const ref = `${PLAIN_REGISTRY}/elfpack-sbom-test/curl:${uniq}`;
    const pushed = await runCli(['push', tar, ref], { env });
    expect([pushed.code, pushed.stdout], pushed.stderr).to.deep.equal([0, `${json.indexDigest}\n`]);
    const raw = run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]).stdout;
    expect(`sha256:${sha256(Buffer.from(raw))}`).to.equal(json.indexDigest);
    const repo = `http://${PLAIN_REGISTRY}/v2/elfpack-sbom-test/curl`;
    const att = await (await fetch(`${repo}/manifests/${json.sbom.attestation}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json() as any;
    const statement = await (await fetch(`${repo}/blobs/${att.layers[1].digest}`)).json() as any;
    expect(statement.subject[0].digest.sha256).to.equal(json.digest.slice(7));
    expect(statement.predicate).to.deep.equal(cdx);
    // pack --push sends the same value: the same index digest.
    const again = await runCli([CURL, '--push', `${PLAIN_REGISTRY}/elfpack-sbom-test/curl2:${uniq}`, '--tag', tag, '--json', '--', '--version'], { env, cwd: dir });
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).pushed.digest).to.equal(json.indexDigest);
  });

  it('--sbom spdx attaches only SPDX; --sbom none writes the image as before: no index around it, the same image digest', async () => {
    const one = await runCli([CURL, '--out', join(dir, 'spdx.tar'), '--tag', tag, '--sbom', 'spdx', '--json', '--', '--version']);
    expect(one.code, one.stderr).to.equal(0);
    const j1 = JSON.parse(one.stdout);
    expect([j1.digest, j1.sbom.formats]).to.deep.equal([json.digest, ['spdx']]);
    const none = await runCli([CURL, '--out', join(dir, 'none.tar'), '--tag', tag, '--sbom', 'none', '--json', '--', '--version']);
    expect(none.code, none.stderr).to.equal(0);
    const j2 = JSON.parse(none.stdout);
    expect([j2.digest, j2.indexDigest, j2.sbom]).to.deep.equal([json.digest, null, null]);
    const top = JSON.parse(run('skopeo', ['inspect', '--raw', `oci-archive:${join(dir, 'none.tar')}`]).stdout);
    expect(top.mediaType).to.equal('application/vnd.oci.image.manifest.v1+json');
    const bad = await runCli([CURL, '--out', join(dir, 'bad.tar'), '--sbom', 'none', '--sbom-out', out]);
    expect([bad.code, bad.stderr]).to.deep.equal([2, 'elfpack: --sbom-out with --sbom none: there is no SBOM to write\n']);
    expect((await runCli([CURL, '--sbom', 'xml'])).stderr).to.equal('elfpack: --sbom xml: want spdx, cyclonedx, both or none\n');
  });

  it('a failed --verify leaves no SBOM file and no temporary', async function () {
    needEngine(this);
    const empty = join(dir, 'failed');
    mkdirSync(empty);
    const r = await runCli(['/bin/false', '--out', join(empty, 'false.tar'), '--tag', `elfpack-sbom-test/false:${uniq}`, '--sbom-out', empty, '--verify']);
    tags.push(`elfpack-sbom-test/false:${uniq}`);
    expect(r.code, r.stderr).to.equal(1);
    expect(readdirSync(empty)).to.deep.equal([]);
  });
});
