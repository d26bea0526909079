// SBOMs of an image: SPDX 2.3 JSON (spdx.github.io/spdx-spec/v2.3) and CycloneDX 1.5 JSON
// (cyclonedx.org/docs/1.5/json): the packages that own its files, every file with its digests and
// owner, and which ELF file needs which — the closure graph, which no scanner can rebuild from the
// files alone. Both are deterministic: the same image gives the same bytes (no clock, no random
// UUID: the namespace and serial number are derived from the content).
import { createHash } from 'node:crypto';
import { isCompound, spdxExpression } from './spdx-license.js';

export interface SbomPackage {
  /** Unique within the image, e.g. "deb:libc6:amd64". */
  key: string;
  name: string;
  version: string;
  arch?: string;
  purl: string;
  /**
   * The package's licenses as it states them (package-metadata.ts: apk's L: expression, or a
   * Debian copyright file's License names), all applying at once; absent or empty when unknown.
   */
  licenses?: string[];
  /** The source package, when it differs. */
  source?: string;
}

export interface SbomFile {
  /** Path in the image. */
  path: string;
  size: number;
  sha256: string;
  sha1: string;
  /** SbomPackage.key of the owner; absent for a file no package owns. */
  package?: string;
}

export interface SbomInput {
  /** NAME:TAG of the image. */
  name: string;
  /** The image manifest's digest: known, since an attached SBOM lies beside the image, not in it. */
  digest?: string;
  /** SOURCE_DATE_EPOCH, as the image's `created`. */
  epoch: number;
  platform: { os: string; architecture: string; variant?: string };
  distro?: { id: string; versionId?: string; prettyName?: string };
  packages: SbomPackage[];
  files: SbomFile[];
  /** ELF files (image paths) and the image paths of what the loader gives them. */
  needs: { from: string; to: string[] }[];
  tool: { name: string; version: string };
}

const NOASSERTION = 'NOASSERTION';

/** The SPDX 2.3 JSON document. */
export function buildSpdx(input: SbomInput): object {
  const s = sorted(input);
  const fileId = new Map(s.files.map((f, i) => [f.path, `SPDXRef-File-${i + 1}`]));
  const pkgId = new Map(s.packages.map((p, i) => [p.key, `SPDXRef-Package-${i + 1}-${spdxIdPart(p.name)}`]));
  const image = 'SPDXRef-Image';
  // Stated names that are no SPDX expression, each declared once as a LicenseRef with its text.
  const stated = new Set(s.packages.flatMap((p) => (p.licenses ?? []).filter((l) => !spdxExpression(l))));
  const relationships: object[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: image }];
  for (const p of s.packages) relationships.push({ spdxElementId: image, relationshipType: 'CONTAINS', relatedSpdxElement: pkgId.get(p.key) });
  for (const f of s.files) {
    const owner = f.package && pkgId.get(f.package);
    relationships.push({ spdxElementId: owner ?? image, relationshipType: 'CONTAINS', relatedSpdxElement: fileId.get(f.path) });
  }
  for (const n of s.needs) {
    const from = fileId.get(n.from);
    for (const t of n.to) {
      const to = fileId.get(t);
      if (from && to) relationships.push({ spdxElementId: from, relationshipType: 'DEPENDS_ON', relatedSpdxElement: to });
    }
  }
  const doc = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.name,
    documentNamespace: '',
    creationInfo: { created: isoTime(input.epoch), creators: [`Tool: ${input.tool.name}-${input.tool.version}`] },
    documentDescribes: [image],
    packages: [
      {
        SPDXID: image, name: input.name, versionInfo: input.digest ?? NOASSERTION, downloadLocation: NOASSERTION, filesAnalyzed: false,
        primaryPackagePurpose: 'CONTAINER', licenseConcluded: NOASSERTION, licenseDeclared: NOASSERTION, copyrightText: NOASSERTION,
        ...(input.distro ? { comment: `distribution: ${input.distro.prettyName ?? `${input.distro.id} ${input.distro.versionId ?? ''}`.trim()}` } : {}),
      },
      ...s.packages.map((p) => ({
        SPDXID: pkgId.get(p.key), name: p.name, versionInfo: p.version, downloadLocation: NOASSERTION, filesAnalyzed: false,
        primaryPackagePurpose: 'LIBRARY', supplier: NOASSERTION,
        licenseConcluded: NOASSERTION, licenseDeclared: spdxDeclared(p.licenses), copyrightText: NOASSERTION,
        ...(p.source && p.source !== p.name ? { sourceInfo: `built from source package ${p.source}` } : {}),
        externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
      })),
    ],
    files: s.files.map((f) => ({
      SPDXID: fileId.get(f.path), fileName: `.${f.path}`,
      checksums: [{ algorithm: 'SHA1', checksumValue: f.sha1 }, { algorithm: 'SHA256', checksumValue: f.sha256 }],
      licenseConcluded: NOASSERTION, copyrightText: NOASSERTION,
    })),
    relationships,
    // A stated license that is no SPDX expression (a Debian copyright file's "License:" names are
    // often not) is kept as a LicenseRef with its text, which SPDX allows for any name.
    ...(stated.size ? { hasExtractedLicensingInfos: [...stated].sort().map((l) => ({ licenseId: licenseRef(l), name: l, extractedText: `License as the package states it (its copyright file or package database): ${l}` })) } : {}),
  };
  // A URI unique to this document that the same image always gets: its content's digest.
  doc.documentNamespace = `https://elfpack.dev/spdx/${encodeURIComponent(input.name)}-${digestOf(doc)}`;
  return doc;
}

/** The CycloneDX 1.5 JSON document: packages as components with their files nested, ELF needs as dependencies. */
export function buildCycloneDx(input: SbomInput): object {
  const s = sorted(input);
  const fileRef = (p: string) => `file:${p}`;
  const fileComponent = (f: SbomFile) => ({
    type: 'file', 'bom-ref': fileRef(f.path), name: f.path,
    hashes: [{ alg: 'SHA-1', content: f.sha1 }, { alg: 'SHA-256', content: f.sha256 }],
  });
  const owned = new Map<string, SbomFile[]>();
  const unowned: SbomFile[] = [];
  for (const f of s.files) {
    if (f.package) owned.set(f.package, [...(owned.get(f.package) ?? []), f]);
    else unowned.push(f);
  }
  const components: object[] = [];
  if (input.distro) {
    components.push({ type: 'operating-system', 'bom-ref': `os:${input.distro.id}`, name: input.distro.id, ...(input.distro.versionId ? { version: input.distro.versionId } : {}), ...(input.distro.prettyName ? { description: input.distro.prettyName } : {}) });
  }
  for (const p of s.packages) {
    components.push({
      type: 'library', 'bom-ref': p.purl, name: p.name, version: p.version, purl: p.purl,
      ...(p.licenses?.length ? { licenses: cdxLicenses(p.licenses) } : {}),
      properties: [...(p.arch ? [{ name: 'elfpack:package:arch', value: p.arch }] : []), ...(p.source ? [{ name: 'elfpack:package:source', value: p.source }] : [])],
      components: (owned.get(p.key) ?? []).map(fileComponent),
    });
  }
  components.push(...unowned.map(fileComponent));
  const dependencies = s.needs
    .filter((n) => s.files.some((f) => f.path === n.from))
    .map((n) => ({ ref: fileRef(n.from), dependsOn: [...new Set(n.to)].filter((t) => s.files.some((f) => f.path === t)).sort().map(fileRef) }));
  const doc = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: '',
    version: 1,
    metadata: {
      timestamp: isoTime(input.epoch),
      tools: { components: [{ type: 'application', name: input.tool.name, version: input.tool.version }] },
      component: {
        type: 'container', 'bom-ref': 'image', name: input.name, ...(input.digest ? { version: input.digest } : {}),
        properties: [{ name: 'elfpack:platform', value: [input.platform.os, input.platform.architecture, input.platform.variant].filter(Boolean).join('/') }],
      },
    },
    components,
    dependencies,
  };
  doc.serialNumber = `urn:uuid:${uuidFrom(digestOf(doc))}`;
  return doc;
}

/** Files, packages and needs in one order whatever order they came in: the same image, the same bytes. */
function sorted(input: SbomInput): Pick<SbomInput, 'files' | 'packages' | 'needs'> {
  const byPath = <T extends { path: string }>(a: T, b: T) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return {
    files: [...input.files].sort(byPath),
    packages: [...input.packages].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    needs: [...input.needs].map((n) => ({ from: n.from, to: [...new Set(n.to)].sort() })).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0)),
  };
}

/** SPDX IDs allow letters, digits, "." and "-". */
function spdxIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-').slice(0, 64) || 'x';
}

/**
 * A package's licenses as one SPDX expression: each stated license kept when it is an SPDX
 * expression, else its LicenseRef; several joined by AND (a Debian copyright file names the
 * licenses of the package's files, all of which apply to the package as a whole).
 */
function spdxDeclared(licenses: string[] | undefined): string {
  const parts = [...new Set(licenses ?? [])].map((l) => spdxExpression(l) ?? licenseRef(l));
  if (!parts.length) return NOASSERTION;
  return parts.length === 1 ? parts[0] : parts.map((p) => (isCompound(p) ? `(${p})` : p)).join(' AND ');
}

/**
 * CycloneDX 1.5 licenses: one SPDX expression stated alone is an `expression`; otherwise each
 * license is an SPDX `id` when it is one listed id (no "+": the schema's id list has none), else a
 * `name` as stated (the schema does not allow an expression beside other entries).
 */
function cdxLicenses(licenses: string[]): object[] {
  const list = [...new Set(licenses)];
  const only = list.length === 1 ? spdxExpression(list[0]) : undefined;
  if (only && (isCompound(only) || only.endsWith('+'))) return [{ expression: only }];
  return list.map((l) => {
    const id = spdxExpression(l);
    return id && !isCompound(id) && !id.endsWith('+') ? { license: { id } } : { license: { name: l } };
  });
}

/** A stated license name as an SPDX LicenseRef (letters, digits, "." and "-"; the same name, the same ref). */
function licenseRef(license: string): string {
  return `LicenseRef-${license.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'unnamed'}-${createHash('sha256').update(license).digest('hex').slice(0, 8)}`;
}

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function digestOf(doc: object): string {
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}

/** A version-4-shaped UUID from a hex digest (deterministic, not random: the variant bits are set as RFC 4122 asks). */
function uuidFrom(hex: string): string {
  const h = hex.slice(0, 32).split('');
  h[12] = '4';
  h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
