// SPDX 2.3's rules for what elfpack's documents use, checked by hand: the official JSON schema
// cannot be committed (its license), and no SPDX validator is installable offline.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers.js';

// The SPDX license list as the CycloneDX library ships it, read here rather than through elfpack's copy.
const LISTED = new Set<string>((JSON.parse(readFileSync(join(REPO, 'node_modules/@cyclonedx/cyclonedx-library/res/schema/spdx.SNAPSHOT.schema.json'), 'utf8')).enum as string[]).map((i) => i.toLowerCase()));

/** SPDX 2.3's rules for what this document uses (spdx.github.io/spdx-spec/v2.3): ids, required fields, references. */
export function spdxProblems(doc: any): string[] {
  const p: string[] = [];
  const id = /^SPDXRef-[A-Za-z0-9.-]+$/;
  if (doc.spdxVersion !== 'SPDX-2.3' || doc.dataLicense !== 'CC0-1.0' || doc.SPDXID !== 'SPDXRef-DOCUMENT') p.push('document header');
  if (!/^[a-z][a-z0-9+.-]*:[^#\s]+$/.test(doc.documentNamespace)) p.push('documentNamespace is not a URI without "#"');
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(doc.creationInfo?.created) || !doc.creationInfo.creators?.every((c: string) => /^(Tool|Organization|Person): /.test(c))) p.push('creationInfo');
  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  for (const pkg of doc.packages) {
    if (!id.test(pkg.SPDXID) || ids.has(pkg.SPDXID)) p.push(`package id ${pkg.SPDXID}`);
    ids.add(pkg.SPDXID);
    for (const k of ['name', 'downloadLocation', 'copyrightText']) if (typeof pkg[k] !== 'string' || !pkg[k]) p.push(`package ${pkg.SPDXID} lacks ${k}`);
    if (pkg.filesAnalyzed !== false && !pkg.packageVerificationCode) p.push(`package ${pkg.SPDXID}: files analyzed without a verification code`);
    for (const r of pkg.externalRefs ?? []) if (r.referenceType === 'purl' && !/^pkg:[a-z]+\/.+@.+/.test(r.referenceLocator)) p.push(`purl ${r.referenceLocator}`);
  }
  for (const f of doc.files) {
    if (!id.test(f.SPDXID) || ids.has(f.SPDXID)) p.push(`file id ${f.SPDXID}`);
    ids.add(f.SPDXID);
    if (!f.fileName.startsWith('./')) p.push(`fileName ${f.fileName}`);
    // SPDX 2.3 §8.4: a file's checksums include SHA1.
    if (!f.checksums.some((c: any) => c.algorithm === 'SHA1' && /^[0-9a-f]{40}$/.test(c.checksumValue))) p.push(`file ${f.fileName} has no SHA1`);
  }
  const refs = new Set(doc.hasExtractedLicensingInfos?.map((l: any) => l.licenseId) ?? []);
  // Annex D: a license field is NOASSERTION, NONE, or an expression of listed ids (a "+" allowed)
  // and declared LicenseRefs, with upper-case operators.
  for (const pkg of doc.packages) {
    for (const l of [pkg.licenseDeclared, pkg.licenseConcluded]) {
      if (l === 'NOASSERTION' || l === 'NONE') continue;
      for (const t of l.replace(/[()]/g, ' ').trim().split(/\s+/)) {
        if (['AND', 'OR', 'WITH'].includes(t)) continue;
        if (t.startsWith('LicenseRef-') ? !refs.has(t) : !LISTED.has(t.replace(/\+$/, '').toLowerCase())) p.push(`${pkg.SPDXID}: ${t} in ${l} is no listed id nor a declared LicenseRef`);
      }
    }
  }
  for (const r of doc.relationships) if (!ids.has(r.spdxElementId) || !ids.has(r.relatedSpdxElement)) p.push(`relationship to an unknown element: ${JSON.stringify(r)}`);
  return p;
}
