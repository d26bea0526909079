// SBOMs of a real pack (Debian's curl from the host): CycloneDX checked by the CycloneDX library's
// strict 1.5 JSON schema validator; SPDX 2.3 checked against the rules of its specification.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { planPack, type PackPlan } from '../../src/commands/pack.js';
import { HostRoot } from '../../src/root/host-root.js';
import { buildCycloneDx, buildSpdx, type SbomInput } from '../../src/image/sbom.js';
import { sbomInputOf } from '../../src/image/sbom-input.js';
import { spdxProblems } from '../support/spdx-rules.js';
import { skipOrFail } from '../support/helpers.js';

const require = createRequire(import.meta.url);
const CURL = '/usr/bin/curl';

function inputOf(plan: PackPlan, packages?: Parameters<typeof sbomInputOf>[0]['packages']): SbomInput {
  return sbomInputOf({
    name: plan.result.tag, epoch: 0, platform: plan.result.platform, tree: plan.tree, loads: plan.loads, packages,
    tool: { name: 'elfpack', version: '0.1.0' },
  });
}

describe('sbom: SPDX 2.3 and CycloneDX 1.5 of a packed image', function () {
  this.timeout(60_000);
  let plan: PackPlan;

  before(function () {
    if (!existsSync(CURL)) skipOrFail(this, `${CURL} is not installed (make deps installs curl)`);
    plan = planPack({ root: new HostRoot('/'), program: CURL });
  });

  it('CycloneDX passes the CycloneDX library\'s strict 1.5 schema validation, with files, hashes and the loader\'s graph', async () => {
    const cdx = require('@cyclonedx/cyclonedx-library');
    const doc: any = buildCycloneDx(inputOf(plan, { distro: { id: 'debian', versionId: '12' }, packages: [{ name: 'curl', version: '7.88.1-10+deb12u14', arch: 'amd64', purl: 'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u14?arch=amd64&distro=debian-12', licenses: ['curl', 'ISC', 'BSD-3-clause', 'GPL-2+ with Autoconf-data exception'], files: [CURL] }] }));
    const errors = await new cdx.Validation.JsonStrictValidator(cdx.Spec.Version.v1dot5).validate(JSON.stringify(doc));
    expect(errors, JSON.stringify(errors)).to.equal(null);
    const curl = doc.components.find((c: any) => c.name === 'curl');
    // Listed SPDX ids as ids (spelt as the list spells them), any other name as it is stated.
    expect(curl.licenses).to.deep.equal([{ license: { id: 'curl' } }, { license: { id: 'ISC' } }, { license: { id: 'BSD-3-Clause' } }, { license: { name: 'GPL-2+ with Autoconf-data exception' } }]);
    expect(curl.components.map((c: any) => c.name)).to.deep.equal([CURL]);
    const libcurl = doc.components.find((c: any) => c.type === 'file' && /libcurl\.so\.4/.test(c.name));
    expect(libcurl.hashes.map((h: any) => h.alg)).to.deep.equal(['SHA-1', 'SHA-256']);
    const deps = doc.dependencies.find((d: any) => d.ref === `file:${CURL}`);
    expect(deps.dependsOn.some((r: string) => /libcurl\.so\.4/.test(r))).to.equal(true);
    expect(deps.dependsOn.some((r: string) => /ld-linux-x86-64\.so\.2/.test(r))).to.equal(true); // PT_INTERP
    expect(doc.serialNumber).to.match(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('SPDX follows the 2.3 rules: ids, SHA1 and SHA256 per file, CONTAINS and DEPENDS_ON between known elements', () => {
    const doc: any = buildSpdx(inputOf(plan, { packages: [{ name: 'curl', version: '7.88.1', arch: 'amd64', purl: 'pkg:deb/debian/curl@7.88.1?arch=amd64', licenses: ['curl', 'GPL-2+', 'MIT OR Apache-2.0'], files: [CURL] }] }));
    expect(spdxProblems(doc)).to.deep.equal([]);
    const byName = new Map(doc.files.map((f: any) => [f.fileName, f.SPDXID]));
    const curlId = byName.get(`.${CURL}`);
    const libcurl = doc.files.find((f: any) => /libcurl\.so\.4/.test(f.fileName));
    expect(doc.relationships).to.deep.include({ spdxElementId: curlId, relationshipType: 'DEPENDS_ON', relatedSpdxElement: libcurl.SPDXID });
    const pkg = doc.packages.find((p: any) => p.name === 'curl');
    expect(doc.relationships).to.deep.include({ spdxElementId: pkg.SPDXID, relationshipType: 'CONTAINS', relatedSpdxElement: curlId });
    // A file no package owns belongs to the image itself.
    expect(doc.relationships).to.deep.include({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: libcurl.SPDXID });
    // SPDX ids and expressions stay; a name that is none becomes a LicenseRef with its text; all ANDed.
    expect(pkg.licenseDeclared).to.match(/^curl AND LicenseRef-GPL-2-[0-9a-f]{8} AND \(MIT OR Apache-2\.0\)$/);
    expect(doc.hasExtractedLicensingInfos.map((l: any) => l.name)).to.deep.equal(['GPL-2+']);
  });

  it('the same image gives the same bytes, whatever order its parts came in', () => {
    const a = inputOf(plan);
    const b = { ...a, files: [...a.files].reverse(), needs: [...a.needs].reverse() };
    expect(JSON.stringify(buildSpdx(a))).to.equal(JSON.stringify(buildSpdx(b)));
    expect(JSON.stringify(buildCycloneDx(a))).to.equal(JSON.stringify(buildCycloneDx(b)));
    const other = { ...a, files: a.files.slice(1) };
    expect((buildSpdx(other) as any).documentNamespace).not.to.equal((buildSpdx(a) as any).documentNamespace);
  });

  it('every file of the image is listed with the sha256 of its bytes', () => {
    const input = inputOf(plan);
    expect(input.files.map((f) => f.path)).to.deep.equal(plan.result.files.map((f) => f.path).sort());
    const passwd = input.files.find((f) => f.path === '/etc/passwd')!;
    const { createHash } = require('node:crypto');
    const entry = plan.tree.get('/etc/passwd') as any;
    expect(passwd.sha256).to.equal(createHash('sha256').update(entry.source.content).digest('hex'));
  });
});
